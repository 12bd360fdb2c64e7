// @ts-check
import { byId, el, say, shortTime } from "./dom.js";
import { message } from "./sessions-view.js";

/** How many messages the table keeps. */
const KEEP = 50;

/**
 * The latest messages in and out. Loaded once, then kept current by the
 * message events of the stream: a status moves in place, an inbound message
 * appears at the top.
 */
export class MessagesView {
  /** @param {import("./api.js").Api} api */
  constructor(api) {
    this.api = api;
    /** @type {Map<string, any>} */
    this.messages = new Map();
    this.body = byId("message-rows");
    this.status = byId("messages-status");
  }

  async load() {
    say(this.status, "Loading messages…");
    try {
      const page = await this.api.call("GET", `/messages?limit=${KEEP}`);
      for (const item of page.items) this.upsert(item);
      this.#render();
    } catch (error) {
      say(this.status, `Could not load the messages: ${message(error)}`, "error");
    }
  }

  /** A message as the API shows it (from a POST answer or an event). @param {any} item */
  upsert(item) {
    if (!item || typeof item.id !== "string") return;
    const known = this.messages.get(item.id);
    // Events of one message arrive in order, but a list loaded at the same time may be older.
    if (known && known.updatedAt > item.updatedAt) return;
    this.messages.set(item.id, item);
    this.#render();
  }

  #render() {
    const items = [...this.messages.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).slice(0, KEEP);
    this.messages = new Map(items.map((m) => [m.id, m]));
    this.body.replaceChildren(...items.map(row));
    say(this.status, items.length === 0 ? "No messages yet. Send one above, or wait for one to arrive." : "");
  }
}

/** @param {any} m */
function row(m) {
  const inbound = m.direction === "inbound";
  const media =
    Array.isArray(m.media) && m.media.length > 0
      ? ` [${m.media.map((/** @type {any} */ x) => x.kind).join(", ")}]`
      : "";
  const text = m.deletedAt ? "(deleted)" : `${m.text ?? ""}${media}` || "(no text)";
  return el(
    "tr",
    { "data-message-id": m.id, "data-direction": m.direction },
    el("td", {}, el("time", { datetime: m.createdAt }, shortTime(m.createdAt))),
    el("td", {}, inbound ? "In" : "Out"),
    el("td", { class: "address" }, inbound ? (m.from ?? "") : m.to),
    el("td", { class: "text" }, text),
    el(
      "td",
      { class: "status", "data-status": m.status, title: m.error ? `${m.error.code}: ${m.error.message}` : undefined },
      m.status,
    ),
  );
}
