import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../src/adapters/messaging/baileys/wa-message-id.ts";
import { startWhatsAppSimulator, type ReceivedMessage, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually, TEST_API_KEY, type InProcessGateway } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { startLinkedGateway, type LinkedGateway } from "../support/linked-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";

// A conversation through the whole product on the simulator, as a new user
// would try it: reply, react, edit, delete, a location and a contact, typing,
// a read mark; a customer who writes from a LID shown by their phone number,
// and our answer landing in the same chat.

const PHONE = "40711116666";
const CUSTOMER = "40722226666";
const CUSTOMER_ADDRESS = `whatsapp:+${CUSTOMER}`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface MessageView {
  id: string;
  direction: string;
  status: string;
  kind: string;
  from: string | null;
  to: string;
  text: string;
  providerMessageId: string | null;
  replyTo: string | null;
  lid: string | null;
  editedAt: string | null;
  deletedAt: string | null;
  reaction: { messageId: string; emoji: string } | null;
}

function setup(): Promise<LinkedGateway> {
  return startLinkedGateway(PHONE, cleanups, { RECONNECT_BACKOFF_BASE_MS: "50", RECONNECT_BACKOFF_MAX_MS: "300" });
}

async function post(gw: InProcessGateway, path: string, body: object, method = "POST"): Promise<MessageView> {
  const res = await gw.call(method, path, { body });
  expect(res.status).toBe(202);
  return (await res.json()) as MessageView;
}

async function get(gw: InProcessGateway, id: string): Promise<MessageView> {
  return (await (await gw.call("GET", `/messages/${id}`)).json()) as MessageView;
}

/** The simulator's decoded record of our message. */
function atWhatsApp(sim: WhatsAppSimulator, messageId: string): Promise<ReceivedMessage> {
  const waId = deriveWaMessageId(messageId);
  return eventually(() => sim.messages(PHONE).find((m) => m.id === waId), 20_000, `message ${waId} at WhatsApp`);
}

async function inbound(gw: InProcessGateway, count: number): Promise<MessageView[]> {
  return eventually(async () => {
    const page = (await (await gw.call("GET", "/messages?direction=inbound")).json()) as { items: MessageView[] };
    return page.items.length >= count ? page.items : undefined;
  }, 20_000);
}

describe("a WhatsApp conversation through the gateway", () => {
  it("replies, reacts, edits, deletes, shares a place and a contact, in order and each once", async () => {
    const { sim, gw } = await setup();
    const { id: theirId } = await sim.inbound({ from: CUSTOMER, to: PHONE, text: "Is my order ready?" });
    const [question] = await inbound(gw, 1);
    expect(question?.providerMessageId).toBe(theirId);

    const answer = await post(gw, "/messages", {
      to: CUSTOMER_ADDRESS,
      text: "Yes, since noon",
      replyTo: question!.id,
    });
    const reaction = await post(gw, `/messages/${question!.id}/reactions`, { emoji: "👍" });
    const place = await post(gw, "/messages", {
      to: CUSTOMER_ADDRESS,
      location: { latitude: 44.4268, longitude: 26.1025, name: "Our shop" },
    });
    const card = await post(gw, "/messages", {
      to: CUSTOMER_ADDRESS,
      contacts: [{ name: "Pickup desk", phones: ["+40700000100", "+40700000101"] }],
    });

    expect(await atWhatsApp(sim, answer.id)).toMatchObject({ kind: "text", text: "Yes, since noon", replyTo: theirId });
    expect(await atWhatsApp(sim, reaction.id)).toMatchObject({
      kind: "reaction",
      reaction: { id: theirId, emoji: "👍" },
    });
    expect(await atWhatsApp(sim, place.id)).toMatchObject({
      kind: "location",
      location: { latitude: 44.4268, longitude: 26.1025, name: "Our shop" },
    });
    expect(await atWhatsApp(sim, card.id)).toMatchObject({
      kind: "contacts",
      contacts: [{ name: "Pickup desk", phones: ["+40700000100", "+40700000101"] }],
    });
    // In the order they were accepted, each once.
    const order = sim.messages(PHONE).map((m) => m.id);
    expect(order).toEqual([answer, reaction, place, card].map((m) => deriveWaMessageId(m.id)));

    const sentAnswer = await eventually(async () => {
      const m = await get(gw, answer.id);
      return m.status === "sent" ? m : undefined;
    });
    const edit = await post(gw, `/messages/${answer.id}`, { text: "Yes, since 12:30" }, "PATCH");
    expect(await atWhatsApp(sim, edit.id)).toMatchObject({
      kind: "edit",
      edit: { id: sentAnswer.providerMessageId, text: "Yes, since 12:30" },
    });
    await eventually(async () => ((await get(gw, answer.id)).text === "Yes, since 12:30" ? true : undefined));

    const revoke = await post(gw, `/messages/${place.id}`, {}, "DELETE");
    expect(await atWhatsApp(sim, revoke.id)).toMatchObject({
      kind: "revoke",
      revoke: { id: deriveWaMessageId(place.id) },
    });
    await eventually(async () => ((await get(gw, place.id)).deletedAt ? true : undefined));
  });

  it("receives a reply, a reaction, an edit and a delete as the customer makes them, with webhooks", async () => {
    const { sim, gw, hooks } = await setup();
    const ours = await post(gw, "/messages", { to: CUSTOMER_ADDRESS, text: "Your table is booked" });
    const sent = await eventually(async () => {
      const m = await get(gw, ours.id);
      return m.providerMessageId && m.status === "sent" ? m : undefined;
    });
    await sim.inbound({ from: CUSTOMER, to: PHONE, text: "Thanks!", replyTo: sent.providerMessageId! });
    await sim.inbound({ from: CUSTOMER, to: PHONE, reaction: { id: sent.providerMessageId!, emoji: "❤️" } });
    const { id: typoId } = await sim.inbound({ from: CUSTOMER, to: PHONE, text: "See you at 8pn" });
    await sim.inbound({ from: CUSTOMER, to: PHONE, edit: { id: typoId, text: "See you at 8pm" } });
    const { id: goneId } = await sim.inbound({ from: CUSTOMER, to: PHONE, text: "wrong chat, sorry" });
    await sim.inbound({ from: CUSTOMER, to: PHONE, revoke: { id: goneId } });

    const items = await eventually(async () => {
      const all = await inbound(gw, 4);
      const typo = all.find((m) => m.providerMessageId === typoId);
      const gone = all.find((m) => m.providerMessageId === goneId);
      return typo?.editedAt && gone?.deletedAt ? all : undefined;
    });
    const byWaId = new Map(items.map((m) => [m.providerMessageId, m]));
    expect(items.find((m) => m.text === "Thanks!")?.replyTo).toBe(ours.id);
    expect(items.find((m) => m.kind === "reaction")?.reaction).toEqual({ messageId: ours.id, emoji: "❤️" });
    expect(byWaId.get(typoId)?.text).toBe("See you at 8pm");
    expect(byWaId.get(goneId)?.text).toBe("");

    const types = await eventually(() => {
      const seen = hooks.received.map((h) => h.payload?.type ?? "");
      return ["message.inbound", "message.reaction", "message.edited", "message.deleted"].every((t) => seen.includes(t))
        ? seen
        : undefined;
    }, 20_000);
    expect(types.filter((t) => t === "message.reaction")).toHaveLength(1);
  });

  it("shows a customer writing from a LID by their phone number, and answers in the same chat", async () => {
    const { sim, gw, hooks } = await setup();
    await sim.inbound({ from: CUSTOMER, to: PHONE, text: "Hi from my LID", fromLid: true });
    const [fromLid] = await inbound(gw, 1);
    expect(fromLid?.from).toBe(CUSTOMER_ADDRESS);
    expect(fromLid?.lid).toMatch(/\d+/);
    const hook = await eventually(() => hooks.received.find((h) => h.payload?.type === "message.inbound"), 20_000);
    expect(hook.verifyError).toBeUndefined();
    expect(hook.payload?.data).toMatchObject({ from: CUSTOMER_ADDRESS, lid: fromLid!.lid });

    const answer = await post(gw, "/messages", { to: CUSTOMER_ADDRESS, text: "Hello!", replyTo: fromLid!.id });
    const received = await atWhatsApp(sim, answer.id);
    // One chat: the simulator names the customer's phone whichever way Baileys addressed it.
    expect(received.to).toBe(CUSTOMER);
  });

  it("shows typing, marks a message read, and knows who is not on WhatsApp", async () => {
    const { sim, gw } = await setup();
    await sim.inbound({ from: CUSTOMER, to: PHONE, text: "hello?" });
    const [message] = await inbound(gw, 1);
    expect(
      (await gw.call("POST", "/sessions/default/presence", { body: { to: CUSTOMER_ADDRESS, state: "composing" } }))
        .status,
    ).toBe(204);
    expect((await gw.call("POST", `/messages/${message!.id}/read`)).status).toBe(204);
    await eventually(() => sim.presence(PHONE).find((p) => p.state === "composing" && p.to === CUSTOMER), 10_000);
    await eventually(
      () => sim.clientReceipts(PHONE).find((r) => r.id === message!.providerMessageId && r.type === "read"),
      10_000,
    );

    sim.setContact("40722229999", false);
    const nobody = (await (await gw.call("GET", "/contacts/whatsapp:+40722229999")).json()) as { onWhatsApp: boolean };
    expect(nobody.onWhatsApp).toBe(false);
    const somebody = (await (await gw.call("GET", `/contacts/${CUSTOMER_ADDRESS}`)).json()) as { onWhatsApp: boolean };
    expect(somebody.onWhatsApp).toBe(true);
  });

  it("sends a reply, a reaction and a delete accepted before a kill -9 once each, after the restart", async () => {
    const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
    cleanups.push(() => sim.close());
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await seedLinkedSession(sim, dir.path, "default", PHONE);
    const start = async (): Promise<GatewayProcess> => {
      const gw = await startGatewayProcess(join(import.meta.dirname, "../../src/main.ts"), {
        GATEWAY_PROVIDERS: "baileys",
        WA_WEBSOCKET_URL: sim.wsUrl,
        WA_MEDIA_CA_FILE: sim.caFile,
        RECONNECT_BACKOFF_BASE_MS: "50",
        RECONNECT_BACKOFF_MAX_MS: "300",
        DATA_DIR: dir.path,
        API_KEYS: TEST_API_KEY,
      });
      cleanups.push(() => {
        if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      });
      return gw;
    };
    const call = async (gw: GatewayProcess, method: string, path: string, body?: object): Promise<Response> =>
      fetch(`${gw.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const first = await start();
    const { id: theirId } = await sim.inbound({ from: CUSTOMER, to: PHONE, text: "Can I change my order?" });
    const question = await eventually(async () => {
      const page = (await (await call(first, "GET", "/messages?direction=inbound")).json()) as { items: MessageView[] };
      return page.items[0];
    }, 20_000);
    // WhatsApp unreachable for a while: everything below is accepted and waits in the queue.
    sim.outage(4);
    const reply = (await (
      await call(first, "POST", "/messages", { to: CUSTOMER_ADDRESS, text: "Sure, what to?", replyTo: question.id })
    ).json()) as MessageView;
    const reaction = (await (
      await call(first, "POST", `/messages/${question.id}/reactions`, { emoji: "👌" })
    ).json()) as MessageView;
    const cancelled = (await (
      await call(first, "POST", "/messages", { to: CUSTOMER_ADDRESS, text: "never mind" })
    ).json()) as MessageView;
    const deleted = (await (await call(first, "DELETE", `/messages/${cancelled.id}`)).json()) as MessageView;
    expect(deleted).toMatchObject({ id: cancelled.id, status: "failed", error: { code: "message.cancelled" } });
    first.child.kill("SIGKILL");
    await first.exited;
    expect(sim.messages(PHONE)).toEqual([]);

    const second = await start();
    await eventually(async () => {
      const m = (await (await call(second, "GET", `/messages/${reaction.id}`)).json()) as MessageView;
      return m.status === "sent" ? m : undefined;
    }, 30_000);
    const received = sim.messages(PHONE);
    expect(received.map((m) => m.id)).toEqual([deriveWaMessageId(reply.id), deriveWaMessageId(reaction.id)]);
    expect(received[0]).toMatchObject({ kind: "text", replyTo: theirId });
    expect(received[1]).toMatchObject({ kind: "reaction", reaction: { id: theirId, emoji: "👌" } });
    // The cancelled message never went out.
    expect(sim.messages(PHONE).some((m) => m.id === deriveWaMessageId(cancelled.id))).toBe(false);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });
});
