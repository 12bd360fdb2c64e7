// @ts-check
import { ApiError } from "./api.js";
import { byId, el, say, shortTime } from "./dom.js";
import { message } from "./sessions-view.js";

/** Deliveries change without an event of their own: the list is read again this often. */
const REFRESH_MS = 5000;

/** Outbound webhook deliveries: the latest, or the failed ones only, each failed one with a replay button. */
export class DeliveriesView {
  /** @param {import("./api.js").Api} api */
  constructor(api) {
    this.api = api;
    this.list = byId("delivery-list");
    this.status = byId("deliveries-status");
    // Results of a replay: apart from the list's status, which every refresh rewrites.
    this.action = byId("deliveries-action");
    this.failedOnly = byId("failed-only", HTMLInputElement);
    this.failedOnly.addEventListener("change", () => void this.load());
    byId("refresh-deliveries").addEventListener("click", () => void this.load());
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    this.loadedOnce = false;
  }

  start() {
    void this.load();
    this.timer = setInterval(() => void this.load(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
  }

  async load() {
    if (!this.loadedOnce) say(this.status, "Loading webhook deliveries…");
    try {
      const query = this.failedOnly.checked ? "?status=failed&limit=20" : "?limit=20";
      const page = await this.api.call("GET", `/webhooks/deliveries${query}`);
      this.loadedOnce = true;
      this.list.replaceChildren(...page.items.map((/** @type {any} */ d) => this.#item(d)));
      say(
        this.status,
        page.items.length > 0
          ? ""
          : this.failedOnly.checked
            ? "No failed deliveries."
            : "No webhook deliveries yet: they appear as events happen.",
      );
    } catch (error) {
      this.list.replaceChildren();
      if (error instanceof ApiError && error.code === "ROUTE.NOT_FOUND") {
        say(this.status, "Webhooks are off: set WEBHOOK_URL to have events delivered to your server.");
        this.stop();
      } else say(this.status, `Could not load the deliveries: ${message(error)}`, "error");
    }
  }

  /** @param {any} d */
  #item(d) {
    const replay =
      d.status === "failed"
        ? el(
            "button",
            { type: "button", class: "replay", "aria-label": `Replay delivery of ${d.type} ${d.id}` },
            "Replay",
          )
        : null;
    replay?.addEventListener("click", () => void this.#replay(d.id, /** @type {HTMLButtonElement} */ (replay)));
    return el(
      "li",
      { "data-delivery-id": d.id, "data-status": d.status },
      el("span", { class: "type" }, d.type),
      el("span", { class: "status", "data-status": d.status }, d.status),
      el("span", { class: "meta" }, `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}, ${shortTime(d.updatedAt)}`),
      d.lastError ? el("span", { class: "error" }, d.lastError) : null,
      replay,
    );
  }

  /**
   * @param {string} id
   * @param {HTMLButtonElement} button
   */
  async #replay(id, button) {
    button.disabled = true;
    try {
      await this.api.call("POST", `/webhooks/deliveries/${encodeURIComponent(id)}/retry`);
      say(this.action, `Delivery ${id} queued again.`, "ok");
      await this.load();
    } catch (error) {
      say(this.action, `Could not replay ${id}: ${message(error)}`, "error");
      button.disabled = false;
    }
  }
}
