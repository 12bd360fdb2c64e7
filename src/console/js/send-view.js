// @ts-check
import { byId, el, say } from "./dom.js";
import { message } from "./sessions-view.js";

/** The send form: text, and an optional attachment uploaded to `/media` first. */
export class SendView {
  /**
   * @param {import("./api.js").Api} api
   * @param {{onSent: (message: any) => void}} hooks
   */
  constructor(api, hooks) {
    this.api = api;
    this.hooks = hooks;
    this.form = byId("send-form", HTMLFormElement);
    this.status = byId("send-status");
    this.form.addEventListener("submit", (e) => void this.#send(e));
  }

  /** Keeps the session choice in step with the sessions that exist. @param {string[]} ids */
  setSessions(ids) {
    const select = byId("send-session", HTMLSelectElement);
    const current = select.value;
    select.replaceChildren(
      el("option", { value: "" }, "Default session"),
      ...ids.map((id) => el("option", { value: id, selected: id === current }, id)),
    );
  }

  /** @param {SubmitEvent} event */
  async #send(event) {
    event.preventDefault();
    const to = byId("send-to", HTMLInputElement).value.trim();
    const text = byId("send-text", HTMLTextAreaElement).value;
    const session = byId("send-session", HTMLSelectElement).value;
    const file = byId("send-file", HTMLInputElement).files?.[0];
    if (!to) {
      say(this.status, "Say who the message is for, e.g. +40712345678.", "error");
      byId("send-to").focus();
      return;
    }
    if (!text.trim() && !file) {
      say(this.status, "Write a text or choose a file to send.", "error");
      byId("send-text").focus();
      return;
    }
    const button = byId("send-button", HTMLButtonElement);
    button.disabled = true;
    try {
      /** @type {Record<string, unknown>} */
      const body = { to: /^\+/.test(to) ? `whatsapp:${to}` : to };
      if (text.trim()) body.text = text;
      if (session) body.session = session;
      if (file) {
        say(this.status, `Uploading ${file.name}…`);
        const query = new URLSearchParams({ filename: file.name });
        const uploaded = await (
          await this.api.raw("POST", `/media?${query}`, {
            body: file,
            contentType: file.type || "application/octet-stream",
          })
        ).json();
        body.media = [{ id: uploaded.id }];
      }
      say(this.status, "Sending…");
      const sent = await this.api.call("POST", "/messages", body);
      this.hooks.onSent(sent);
      say(this.status, `Accepted as ${sent.id}; its status follows in Latest messages.`, "ok");
      byId("send-text", HTMLTextAreaElement).value = "";
      byId("send-file", HTMLInputElement).value = "";
    } catch (error) {
      say(this.status, `Not sent: ${message(error)}`, "error");
    } finally {
      button.disabled = false;
    }
  }
}
