// @ts-check
import { ApiError } from "./api.js";

/**
 * @typedef {{type: string, id: string, data: any}} StreamEvent
 * @typedef {"connecting" | "live" | "retrying" | "refused"} StreamState
 */

/**
 * Follows `GET /events`. The browser's EventSource cannot send an
 * Authorization header, and the key must not go in the URL, so the stream is
 * read with fetch. When it ends (a network cut, the gateway restarting, or
 * the gateway dropping a slow reader) it is opened again with
 * `Last-Event-ID`, so no event is missed.
 */
export class EventStreamReader {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onEvent: (event: StreamEvent) => void, onState: (state: StreamState, detail?: string) => void, onReset: () => void}} handlers
   */
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers;
    /** @type {string | undefined} */
    this.lastEventId = undefined;
    this.stopped = false;
    this.controller = new AbortController();
    this.retryMs = 1000;
  }

  start() {
    void this.#loop();
  }

  stop() {
    this.stopped = true;
    this.controller.abort();
  }

  async #loop() {
    while (!this.stopped) {
      this.handlers.onState("connecting");
      try {
        await this.#readOnce();
        if (this.stopped) return;
        this.handlers.onState("retrying", "the stream ended; reconnecting");
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof ApiError && error.status === 401) {
          this.handlers.onState("refused", error.message);
          return;
        }
        this.handlers.onState("retrying", error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    }
  }

  async #readOnce() {
    const response = await this.api.raw("GET", "/events", {
      accept: "text/event-stream",
      signal: this.controller.signal,
      ...(this.lastEventId ? { headers: { "last-event-id": this.lastEventId } } : {}),
    });
    if (!response.body) throw new Error("the stream has no body");
    this.handlers.onState("live");
    this.retryMs = 1000;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === "\r" ? 4 : 2));
        this.#dispatch(block);
      }
    }
  }

  /** @param {string} block one event: `id:`, `event:` and `data:` lines; `:` lines are heartbeats */
  #dispatch(block) {
    let type = "message";
    let id;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "id") id = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    if (id) this.lastEventId = id;
    let parsed;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      return;
    }
    if (type === "reset") this.handlers.onReset();
    else if (type === "dropped") this.handlers.onState("retrying", "the gateway dropped this slow reader; resuming");
    else this.handlers.onEvent({ type, id: id ?? "", data: parsed.data ?? parsed });
  }
}
