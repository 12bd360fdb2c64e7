// @ts-check
import { ApiError } from "./api.js";
import { byId, el, say, shortTime } from "./dom.js";

/** @type {Record<string, string>} */
const STATE_WORDS = {
  starting: "Starting",
  qr: "Waiting to be linked",
  connecting: "Connecting",
  open: "Connected",
  reconnecting: "Reconnecting",
  logged_out: "Logged out",
  stopped: "Stopped",
  needs_attention: "Needs attention",
};

/** @param {string} state */
export function stateWords(state) {
  return STATE_WORDS[state] ?? state;
}

/** How often the QR is fetched again while the session waits (WhatsApp renews it every 20 s or so). */
const QR_REFRESH_MS = 2000;

/**
 * The sessions list, the form that creates one, and the chosen session's
 * details, actions and linking (QR or pairing code). States change live from
 * the `session.state` events.
 */
export class SessionsView {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onSessionsChanged: (ids: string[]) => void}} hooks
   */
  constructor(api, hooks) {
    this.api = api;
    this.hooks = hooks;
    /** @type {Map<string, any>} */
    this.sessions = new Map();
    /** @type {string | undefined} */
    this.selected = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.qrTimer = undefined;
    /** @type {string | undefined} */
    this.shownQr = undefined;
    /** @type {string | undefined} */
    this.qrImageUrl = undefined;
    this.list = byId("session-list");
    this.status = byId("sessions-status");
    this.detail = byId("session-detail");
    this.detailStatus = byId("detail-status");
    byId("create-session-form", HTMLFormElement).addEventListener("submit", (e) => this.#create(e));
    byId("pairing-form", HTMLFormElement).addEventListener("submit", (e) => this.#pair(e));
    byId("connect-session").addEventListener("click", () => this.#connect());
    byId("delete-session").addEventListener("click", () => this.#remove());
  }

  async load() {
    say(this.status, "Loading sessions…");
    try {
      const page = await this.api.call("GET", "/sessions");
      this.sessions = new Map(page.items.map((/** @type {any} */ s) => [s.id, s]));
      this.#renderList();
      if (!this.selected && this.sessions.size > 0)
        this.select(/** @type {string} */ (this.sessions.keys().next().value));
      else this.#renderDetail();
    } catch (error) {
      say(this.status, `Could not load the sessions: ${message(error)}`, "error");
    }
  }

  /** A `session.state` event: the session as the API shows it. @param {any} session */
  onState(session) {
    if (!session || typeof session.id !== "string") return;
    this.sessions.set(session.id, session);
    this.#renderList();
    if (session.id === this.selected) this.#renderDetail();
  }

  /** @param {string} id */
  select(id) {
    // The QR of the session shown before must not stay on screen, nor its refresh go on.
    this.#stopQr();
    this.selected = id;
    this.#renderList();
    this.#renderDetail();
  }

  stop() {
    clearInterval(this.qrTimer);
    this.qrTimer = undefined;
  }

  #renderList() {
    const items = [...this.sessions.values()].sort((a, b) => a.id.localeCompare(b.id));
    this.list.replaceChildren(
      ...items.map((s) =>
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: "session-button",
              "data-session": s.id,
              "aria-pressed": String(s.id === this.selected),
            },
            el("span", { class: "session-id" }, s.id),
            el("span", { class: "state", "data-state": s.state }, stateWords(s.state)),
            el("span", { class: "number" }, phoneOf(s.me) ?? "not linked"),
          ),
        ),
      ),
    );
    for (const button of this.list.querySelectorAll("button"))
      button.addEventListener("click", () => this.select(/** @type {string} */ (button.dataset.session)));
    say(this.status, items.length === 0 ? "No sessions yet. Create one below to link a WhatsApp account." : "");
    this.hooks.onSessionsChanged(items.map((s) => s.id));
  }

  #renderDetail() {
    const session = this.selected ? this.sessions.get(this.selected) : undefined;
    this.detail.hidden = !session;
    if (!session) {
      this.#stopQr();
      return;
    }
    byId("detail-title").textContent = `Session ${session.id}`;
    const last = session.lastDisconnect;
    byId("detail-facts").replaceChildren(
      ...fact("State", stateWords(session.state), { "data-state": session.state, id: "detail-state" }),
      ...fact("Number", phoneOf(session.me) ?? "not linked yet"),
      ...fact(
        "Last disconnect",
        last
          ? `${shortTime(last.at)}: ${last.reason} (${last.cause}${last.code ? `, code ${last.code}` : ""})`
          : "none",
      ),
      ...fact("Reconnects", `${session.reconnects} (attempts ${session.reconnectAttempts})`),
      ...fact("Last time to recover", session.lastRecoveryMs === null ? "none yet" : `${session.lastRecoveryMs} ms`),
    );
    const linking = session.state === "qr" || session.state === "starting" || session.state === "connecting";
    byId("link-panel").hidden = !linking || Boolean(session.me);
    byId("connect-session").hidden = !["stopped", "logged_out", "needs_attention"].includes(session.state);
    if (session.state === "qr") this.#startQr(session.id);
    else this.#stopQr();
  }

  #startQr(/** @type {string} */ id) {
    if (this.qrTimer) return;
    void this.#refreshQr(id);
    this.qrTimer = setInterval(() => void this.#refreshQr(id), QR_REFRESH_MS);
  }

  #stopQr() {
    clearInterval(this.qrTimer);
    this.qrTimer = undefined;
    this.shownQr = undefined;
    const figure = byId("qr");
    figure.hidden = true;
    figure.removeAttribute("data-qr");
    if (this.qrImageUrl) URL.revokeObjectURL(this.qrImageUrl);
    this.qrImageUrl = undefined;
  }

  /** Fetches the pending QR; draws it again only when it changed. @param {string} id */
  async #refreshQr(id) {
    const figure = byId("qr");
    const caption = byId("qr-caption");
    try {
      const pending = await this.api.call("GET", `/sessions/${encodeURIComponent(id)}/qr`);
      if (id !== this.selected || pending.qr === this.shownQr) return;
      const png = await (
        await this.api.raw("GET", `/sessions/${encodeURIComponent(id)}/qr`, { accept: "image/png" })
      ).blob();
      if (id !== this.selected) return;
      if (this.qrImageUrl) URL.revokeObjectURL(this.qrImageUrl);
      this.qrImageUrl = URL.createObjectURL(png);
      const image = byId("qr-image", HTMLImageElement);
      image.src = this.qrImageUrl;
      image.alt = `QR code to link session ${id}. On the phone: WhatsApp, Settings, Linked devices, Link a device.`;
      figure.dataset.qr = pending.qr;
      figure.hidden = false;
      this.shownQr = pending.qr;
      caption.textContent = `Scan with WhatsApp > Settings > Linked devices > Link a device. This code is renewed by itself; it expires at ${shortTime(pending.expiresAt)}.`;
    } catch (error) {
      if (error instanceof ApiError && error.code === "SESSION.NO_QR") caption.textContent = "Waiting for a QR code…";
      else caption.textContent = `Could not get the QR code: ${message(error)}`;
    }
  }

  /** @param {SubmitEvent} event */
  async #create(event) {
    event.preventDefault();
    const input = byId("new-session-id", HTMLInputElement);
    const status = byId("create-session-status");
    const id = input.value.trim();
    if (!id) {
      say(status, "Give the session a name, e.g. default.", "error");
      input.focus();
      return;
    }
    say(status, `Creating session ${id}…`);
    try {
      const session = await this.api.call("POST", "/sessions", { id });
      this.sessions.set(session.id, session);
      input.value = "";
      say(status, `Session ${id} created. Link it with the QR code or a pairing code below.`, "ok");
      this.select(session.id);
    } catch (error) {
      say(status, `Could not create the session: ${message(error)}`, "error");
    }
  }

  /** @param {SubmitEvent} event */
  async #pair(event) {
    event.preventDefault();
    const id = this.selected;
    if (!id) return;
    const phone = byId("pairing-phone", HTMLInputElement).value.trim();
    const out = byId("pairing-code");
    say(out, "Asking WhatsApp for a pairing code…");
    try {
      const { code } = await this.api.call("POST", `/sessions/${encodeURIComponent(id)}/pairing-code`, { phone });
      say(
        out,
        `Pairing code: ${code}. On the phone: WhatsApp > Settings > Linked devices > Link with phone number instead.`,
        "ok",
      );
    } catch (error) {
      say(out, `No pairing code: ${message(error)}`, "error");
    }
  }

  async #connect() {
    const id = this.selected;
    if (!id) return;
    say(this.detailStatus, `Connecting ${id}…`);
    try {
      this.onState(await this.api.call("POST", `/sessions/${encodeURIComponent(id)}/connect`));
      say(this.detailStatus, `Session ${id} is connecting.`, "ok");
    } catch (error) {
      say(this.detailStatus, `Could not connect: ${message(error)}`, "error");
    }
  }

  async #remove() {
    const id = this.selected;
    if (!id) return;
    if (!window.confirm(`Log out session ${id} and delete its login? The phone will need to link again.`)) return;
    say(this.detailStatus, `Logging out ${id}…`);
    try {
      await this.api.call("DELETE", `/sessions/${encodeURIComponent(id)}`);
      this.sessions.delete(id);
      this.selected = undefined;
      this.#renderList();
      this.#renderDetail();
      say(this.status, `Session ${id} was logged out and deleted.`, "ok");
    } catch (error) {
      say(this.detailStatus, `Could not delete: ${message(error)}`, "error");
    }
  }
}

/**
 * @param {string} term
 * @param {string} value
 * @param {Record<string, string>} [attributes]
 */
function fact(term, value, attributes = {}) {
  return [el("dt", {}, term), el("dd", attributes, value)];
}

/** `40712345678:3@s.whatsapp.net` -> `+40712345678`. @param {string | null} me */
function phoneOf(me) {
  if (!me) return undefined;
  const digits = /^(\d+)/.exec(me);
  return digits ? `+${digits[1]}` : me;
}

/** @param {unknown} error */
export function message(error) {
  return error instanceof Error ? error.message : String(error);
}
