import { afterEach, describe, expect, it } from "vitest";
import { plainConversation } from "../../src/domain/conversation.ts";
import type { Message } from "../../src/domain/message.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

const CUSTOMER = "whatsapp:+40712345678";
const OTHER = "whatsapp:+40712345999";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(): Promise<InProcessGateway> {
  const gw = await startInProcessGateway();
  cleanups.push(() => gw.close());
  return gw;
}

async function json<T = Message & { media: unknown[] }>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function send(gw: InProcessGateway, body: Record<string, unknown>): Promise<Message> {
  const res = await gw.call("POST", "/messages", { body });
  expect(res.status).toBe(202);
  return json(res);
}

async function get(gw: InProcessGateway, id: string): Promise<Message> {
  return json(await gw.call("GET", `/messages/${id}`));
}

async function sent(gw: InProcessGateway, id: string): Promise<Message> {
  return eventually(async () => {
    const message = await get(gw, id);
    return message.status === "sent" ? message : undefined;
  });
}

/** A message received from `from`, as the provider would report it. */
async function receive(gw: InProcessGateway, providerMessageId: string, extra: Partial<Message> = {}) {
  gw.provider.emit({
    type: "inbound",
    message: {
      provider: "baileys",
      session: "default",
      channel: "whatsapp",
      from: CUSTOMER,
      to: "whatsapp:+40700000000",
      text: "hello",
      media: [],
      providerMessageId,
      at: new Date(),
      conversation: { ...plainConversation(extra.kind ?? "text"), ...extra },
    },
  });
}

async function inbound(gw: InProcessGateway): Promise<Message[]> {
  return (await json<{ items: Message[] }>(await gw.call("GET", "/messages?direction=inbound"))).items;
}

describe("replies, locations and contacts on POST /messages", () => {
  it("quotes the message a reply answers, ours or received, with what the provider needs to address it", async () => {
    const gw = await gateway();
    const first = await sent(gw, (await send(gw, { to: CUSTOMER, text: "Your order shipped" })).id);
    await receive(gw, "wa-in-1", { kind: "text" });
    const received = await eventually(async () => (await inbound(gw))[0]);

    const toOurs = await send(gw, { to: CUSTOMER, text: "Tracking: 123", replyTo: first.id });
    const toTheirs = await send(gw, { to: CUSTOMER, text: "You're welcome", replyTo: received.id });
    expect(toOurs.replyTo).toBe(first.id);
    await sent(gw, toTheirs.id);
    const [, ours, theirs] = gw.provider.sent;
    expect(ours?.target).toEqual({
      providerMessageId: first.providerMessageId,
      fromMe: true,
      text: "Your order shipped",
      participant: null,
    });
    expect(theirs?.target).toEqual({ providerMessageId: "wa-in-1", fromMe: false, text: "hello", participant: null });
  });

  it("refuses a reply to a message of another chat, and replies or places on SMS", async () => {
    const gw = await gateway();
    const elsewhere = await send(gw, { to: OTHER, text: "hi" });
    const res = await gw.call("POST", "/messages", { body: { to: CUSTOMER, text: "x", replyTo: elsewhere.id } });
    expect(res.status).toBe(400);
    const sms = await gw.call("POST", "/messages", {
      body: { to: "sms:+40712345678", location: { latitude: 1, longitude: 2 } },
    });
    expect(sms.status).toBe(422);
    expect((await json<{ code: string }>(sms)).code).toBe("MESSAGE.NOT_SUPPORTED");
  });

  it("sends a location and contact cards as messages of their kind; refuses text beside them", async () => {
    const gw = await gateway();
    const place = await send(gw, {
      to: CUSTOMER,
      location: { latitude: 44.4268, longitude: 26.1025, name: "Our shop", address: "Str. Lipscani 1" },
    });
    expect(place).toMatchObject({
      kind: "location",
      text: "",
      location: { latitude: 44.4268, longitude: 26.1025, name: "Our shop", address: "Str. Lipscani 1" },
    });
    const cards = await send(gw, { to: CUSTOMER, contacts: [{ name: "Support", phones: ["+40700000100"] }] });
    expect(cards).toMatchObject({ kind: "contacts", contacts: [{ name: "Support", phones: ["+40700000100"] }] });
    const both = await gw.call("POST", "/messages", {
      body: { to: CUSTOMER, text: "here", location: { latitude: 1, longitude: 2 } },
    });
    expect(both.status).toBe(400);
    const badPhone = await gw.call("POST", "/messages", {
      body: { to: CUSTOMER, contacts: [{ name: "x", phones: ["0712"] }] },
    });
    expect(badPhone.status).toBe(400);
    await sent(gw, cards.id);
    expect(gw.provider.sent.map((m) => m.kind)).toEqual(["location", "contacts"]);
  });
});

describe("reactions, edits and deletes", () => {
  it("queues a reaction behind the chat's earlier messages, and sends it pointing at its message", async () => {
    const gw = await gateway();
    gw.provider.setReady("default", false);
    const message = await send(gw, { to: CUSTOMER, text: "New arrivals" });
    const res = await gw.call("POST", `/messages/${message.id}/reactions`, { body: { emoji: "🔥" } });
    expect(res.status).toBe(202);
    const reaction = await json(res);
    expect(reaction).toMatchObject({
      kind: "reaction",
      to: CUSTOMER,
      reaction: { messageId: message.id, emoji: "🔥" },
    });
    gw.provider.setReady("default", true);
    await sent(gw, reaction.id);
    expect(gw.provider.sent.map((m) => m.id)).toEqual([message.id, reaction.id]);
    expect(gw.provider.sent[1]?.target).toMatchObject({ providerMessageId: `baileys-${message.id}`, fromMe: true });
    expect((await gw.call("POST", "/messages/nope/reactions", { body: { emoji: "x" } })).status).toBe(404);
  });

  it("edits a queued message in place, and a sent one by an edit that changes it once sent", async () => {
    const gw = await gateway();
    gw.provider.setReady("default", false);
    const queued = await send(gw, { to: CUSTOMER, text: "Meet at 5" });
    const editedRes = await gw.call("PATCH", `/messages/${queued.id}`, { body: { text: "Meet at 6" } });
    expect(editedRes.status).toBe(202);
    expect(await json(editedRes)).toMatchObject({ id: queued.id, text: "Meet at 6", edits: [{ text: "Meet at 5" }] });
    gw.provider.setReady("default", true);
    await sent(gw, queued.id);
    expect(gw.provider.sent[0]?.text).toBe("Meet at 6");

    const edit = await json(await gw.call("PATCH", `/messages/${queued.id}`, { body: { text: "Meet at 7" } }));
    expect(edit).toMatchObject({ kind: "edit", edit: { messageId: queued.id, text: "Meet at 7" } });
    await sent(gw, edit.id);
    const after = await eventually(async () => {
      const m = await get(gw, queued.id);
      return m.text === "Meet at 7" ? m : undefined;
    });
    expect(after.editedAt).not.toBeNull();
    expect(after.edits.map((e) => e.text)).toEqual(["Meet at 5", "Meet at 6"]);
  });

  it("cancels a queued message (never sent) and deletes a sent one for everyone", async () => {
    const gw = await gateway();
    gw.provider.setReady("default", false);
    const queued = await send(gw, { to: CUSTOMER, text: "oops" });
    const cancelled = await json(await gw.call("DELETE", `/messages/${queued.id}`));
    expect(cancelled).toMatchObject({ id: queued.id, status: "failed", error: { code: "message.cancelled" } });
    expect(cancelled.deletedAt).not.toBeNull();
    const kept = await send(gw, { to: CUSTOMER, text: "the real one" });
    gw.provider.setReady("default", true);
    await sent(gw, kept.id);
    expect(gw.provider.sent.map((m) => m.id)).toEqual([kept.id]);

    const revoke = await json(await gw.call("DELETE", `/messages/${kept.id}`));
    expect(revoke).toMatchObject({ kind: "revoke", revoke: { messageId: kept.id } });
    await sent(gw, revoke.id);
    const gone = await eventually(async () => {
      const m = await get(gw, kept.id);
      return m.deletedAt ? m : undefined;
    });
    expect(gone.text).toBe("");
  });

  it("refuses to edit or delete what we received", async () => {
    const gw = await gateway();
    await receive(gw, "wa-in-9");
    const received = await eventually(async () => (await inbound(gw))[0]);
    const edit = await gw.call("PATCH", `/messages/${received.id}`, { body: { text: "x" } });
    expect(edit.status).toBe(409);
    expect((await json<{ code: string }>(edit)).code).toBe("MESSAGE.NOT_EDITABLE");
    const del = await gw.call("DELETE", `/messages/${received.id}`);
    expect(del.status).toBe(409);
    expect((await json<{ code: string }>(del)).code).toBe("MESSAGE.NOT_DELETABLE");
  });
});

describe("received replies, reactions, edits and deletes", () => {
  it("names our messages by our ids, and changes the message an edit or delete names", async () => {
    const gw = await gateway();
    const ours = await sent(gw, (await send(gw, { to: CUSTOMER, text: "Ready for pickup" })).id);
    await receive(gw, "wa-in-a", { kind: "text", replyTo: ours.providerMessageId });
    await receive(gw, "wa-in-b", { kind: "reaction", reaction: { messageId: ours.providerMessageId!, emoji: "👍" } });
    await receive(gw, "wa-in-c", { kind: "text" });
    const items = await eventually(async () => {
      const all = await inbound(gw);
      return all.length === 3 ? all : undefined;
    });
    const byProviderId = new Map(items.map((m) => [m.providerMessageId, m]));
    expect(byProviderId.get("wa-in-a")?.replyTo).toBe(ours.id);
    expect(byProviderId.get("wa-in-b")).toMatchObject({
      kind: "reaction",
      reaction: { messageId: ours.id, emoji: "👍" },
    });

    await receive(gw, "wa-in-d", { kind: "edit", edit: { messageId: "wa-in-c", text: "hello, corrected" } });
    const editedMessage = await eventually(async () => {
      const m = await get(gw, byProviderId.get("wa-in-c")!.id);
      return m.editedAt ? m : undefined;
    });
    expect(editedMessage.text).toBe("hello, corrected");
    expect(editedMessage.edits.map((e) => e.text)).toEqual(["hello"]);

    await receive(gw, "wa-in-e", { kind: "revoke", revoke: { messageId: "wa-in-c" } });
    const deleted = await eventually(async () => {
      const m = await get(gw, byProviderId.get("wa-in-c")!.id);
      return m.deletedAt ? m : undefined;
    });
    expect(deleted.text).toBe("");
    // An edit or delete is no message of its own.
    expect(await inbound(gw)).toHaveLength(3);

    // A contact cannot edit our message.
    await receive(gw, "wa-in-f", { kind: "edit", edit: { messageId: ours.providerMessageId!, text: "hacked" } });
    await receive(gw, "wa-in-g", { kind: "text" });
    await eventually(async () => ((await inbound(gw)).length === 4 ? true : undefined));
    expect((await get(gw, ours.id)).text).toBe("Ready for pickup");
  });
});

describe("read marks, presence and contact lookups", () => {
  it("marks a received message read, shows typing, and looks a number up once", async () => {
    const gw = await gateway();
    await receive(gw, "wa-in-r");
    const received = await eventually(async () => (await inbound(gw))[0]);
    expect((await gw.call("POST", `/messages/${received.id}/read`)).status).toBe(204);
    const presence = await gw.call("POST", "/sessions/default/presence", {
      body: { to: "+40712345678", state: "composing" },
    });
    expect(presence.status).toBe(204);
    const bad = await gw.call("POST", "/sessions/default/presence", { body: { to: CUSTOMER, state: "dancing" } });
    expect(bad.status).toBe(400);
    const unknownSession = await gw.call("POST", "/sessions/nope/presence", {
      body: { to: CUSTOMER, state: "paused" },
    });
    expect(unknownSession.status).toBe(404);

    gw.provider.notOnWhatsApp.add("whatsapp:+40712345000");
    const known = await json(await gw.call("GET", `/contacts/${encodeURIComponent(CUSTOMER)}`));
    expect(known).toEqual({ address: CUSTOMER, onWhatsApp: true, lid: null });
    const unknown = await json(await gw.call("GET", "/contacts/%2B40712345000"));
    expect(unknown).toMatchObject({ address: "whatsapp:+40712345000", onWhatsApp: false });
    await gw.call("GET", `/contacts/${encodeURIComponent(CUSTOMER)}`);
    expect(gw.provider.chatActions).toEqual([
      `read wa-in-r`,
      `composing default ${CUSTOMER}`,
      `lookup default ${CUSTOMER}`,
      "lookup default whatsapp:+40712345000",
    ]);
    const ours = await send(gw, { to: CUSTOMER, text: "x" });
    expect((await gw.call("POST", `/messages/${ours.id}/read`)).status).toBe(422);
  });
});

describe("WA_AUTO_READ", () => {
  it("marks every received message read once it is recorded, and nothing when off", async () => {
    const on = await startInProcessGateway({ WA_AUTO_READ: "true" });
    cleanups.push(() => on.close());
    await receive(on, "wa-auto-1");
    await eventually(() => (on.provider.chatActions.includes("read wa-auto-1") ? true : undefined));

    const off = await gateway();
    await receive(off, "wa-auto-2");
    await eventually(async () => (await inbound(off))[0]);
    expect(off.provider.chatActions).toEqual([]);
  });
});
