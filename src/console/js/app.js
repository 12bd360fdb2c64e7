// @ts-check
import { Api, ApiError } from "./api.js";
import { DeliveriesView } from "./deliveries-view.js";
import { byId, say } from "./dom.js";
import { EventStreamReader } from "./event-stream.js";
import { MessagesView } from "./messages-view.js";
import { SendView } from "./send-view.js";
import { message, SessionsView } from "./sessions-view.js";

// The key lives in this tab only: gone when the tab closes, never in
// localStorage, a cookie or a URL.
const KEY_SLOT = "gateway.apiKey";

/** @type {{stop(): void} | undefined} */
let running;

/** @param {string} key */
async function signIn(key) {
  const api = new Api(key);
  // Any call with the key tells whether the gateway takes it.
  await api.call("GET", "/sessions");
  sessionStorage.setItem(KEY_SLOT, key);
  byId("sign-in").hidden = true;
  byId("workspace").hidden = false;
  byId("sign-out").hidden = false;
  running = openWorkspace(api);
}

/** @param {import("./api.js").Api} api */
function openWorkspace(api) {
  const live = byId("live");
  const messages = new MessagesView(api);
  const send = new SendView(api, { onSent: (m) => messages.upsert(m) });
  const sessions = new SessionsView(api, { onSessionsChanged: (ids) => send.setSessions(ids) });
  const deliveries = new DeliveriesView(api);
  const stream = new EventStreamReader(api, {
    onEvent(event) {
      if (event.type === "session.state") sessions.onState(event.data);
      else if (event.type.startsWith("message.")) messages.upsert(event.data);
    },
    onState(state, detail) {
      live.dataset.state = state;
      live.textContent =
        state === "live"
          ? "Live: updates appear as they happen."
          : state === "connecting"
            ? "Connecting to the event stream…"
            : state === "refused"
              ? `The event stream refused the key: ${detail ?? ""}`
              : `Updates paused (${detail ?? "disconnected"}); reconnecting…`;
    },
    // Events were missed (retention, or a new data directory): read everything again.
    onReset() {
      void sessions.load();
      void messages.load();
    },
  });
  // The stream first: whatever happens while the lists load still arrives.
  stream.start();
  void sessions.load();
  void messages.load();
  deliveries.start();
  return {
    stop() {
      stream.stop();
      sessions.stop();
      deliveries.stop();
    },
  };
}

function signOut() {
  running?.stop();
  running = undefined;
  sessionStorage.removeItem(KEY_SLOT);
  // A fresh page: nothing of the signed-in view stays in memory or on screen.
  window.location.reload();
}

function main() {
  const form = byId("sign-in-form", HTMLFormElement);
  const input = byId("api-key", HTMLInputElement);
  const error = byId("sign-in-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      say(error, "Paste the API key that npm start printed (or one from API_KEYS).", "error");
      input.focus();
      return;
    }
    say(error, "Signing in…");
    try {
      await signIn(key);
      input.value = "";
      say(error, "");
      byId("sessions-title").focus();
    } catch (failure) {
      say(
        error,
        failure instanceof ApiError && failure.status === 401
          ? "That key was refused. Check it and try again."
          : `Could not sign in: ${message(failure)}`,
        "error",
      );
      input.select();
    }
  });
  byId("sign-out").addEventListener("click", signOut);
  const saved = sessionStorage.getItem(KEY_SLOT);
  if (saved)
    signIn(saved).catch(() => {
      sessionStorage.removeItem(KEY_SLOT);
      say(error, "Your saved key no longer works: sign in again.", "error");
    });
  else input.focus();
}

main();
