import { proto } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;
const ALICE = "15550001001";
const BOB = "15550001002";
const CONTACT = "15550009001";

describe("messaging through the simulator", () => {
  it("acks a send, decrypts it, and reports delivery then read", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), { text: "hello contact" });
    const id = sent!.key.id!;
    await alice.waitFor(() => (alice.statuses.get(id) ?? 0) >= READ || undefined, "READ status");

    const second = await alice.sock!.sendMessage(jid(CONTACT), { text: "second" });
    await alice.waitFor(() => (alice.statuses.get(second!.key.id!) ?? 0) >= READ || undefined, "READ status");

    expect(alice.statuses.get(id)).toBe(READ);
    expect(alice.statuses.get(second!.key.id!)).toBe(READ);
    expect(sim.messages(ALICE)).toEqual([
      expect.objectContaining({ id, from: ALICE, to: CONTACT, text: "hello contact" }),
      expect.objectContaining({ id: second!.key.id, text: "second" }),
    ]);
  });

  it("sends only a delivery receipt when read receipts are off", async () => {
    const sim = await startSim({ receipts: { read: false } });
    const alice = await linkedClient(sim, ALICE);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), { text: "deliver me" });
    const id = sent!.key.id!;
    await alice.waitFor(() => alice.statuses.get(id) === DELIVERY_ACK || undefined, "DELIVERY_ACK");
    // Receipts travel in order and Baileys handles them one by one: once the
    // next message is delivered, a read receipt for the first would be in.
    const next = await alice.sock!.sendMessage(jid(CONTACT), { text: "and me" });
    await alice.waitFor(() => alice.statuses.get(next!.key.id!) === DELIVERY_ACK || undefined, "next DELIVERY_ACK");

    expect(alice.statuses.get(id)).toBe(DELIVERY_ACK);
  });

  it("delivers inbound messages from a contact, Signal-encrypted and plaintext", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const encrypted = await sim.inbound({ from: CONTACT, to: ALICE, text: "secret hello" });
    const plain = await sim.inbound({ from: CONTACT, to: ALICE, text: "plain hello", encrypted: false });
    const again = await sim.inbound({ from: CONTACT, to: ALICE, text: "second secret" });
    await alice.waitFor(() => alice.received.length >= 3 || undefined, "three inbound messages");

    const byId = new Map(alice.received.map((m) => [m.key.id, m]));
    expect(byId.get(encrypted.id)?.message?.conversation).toBe("secret hello");
    expect(byId.get(plain.id)?.message?.conversation).toBe("plain hello");
    expect(byId.get(again.id)?.message?.conversation).toBe("second secret");
    expect(byId.get(encrypted.id)?.key.remoteJid).toBe(jid(CONTACT));
    await expect.poll(() => sim.clientReceipts(ALICE).map((r) => r.id)).toContain(again.id);
  });

  it("lets the client reply over the session the contact opened", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const inbound = await sim.inbound({ from: CONTACT, to: ALICE, text: "ping" });
    await alice.waitFor(() => alice.received.find((m) => m.key.id === inbound.id), "inbound");

    await alice.sock!.sendMessage(jid(CONTACT), { text: "pong" });
    const [reply] = await sim.waitForMessages(ALICE, 1);

    expect(reply).toMatchObject({ from: ALICE, to: CONTACT, text: "pong" });
  });

  it("routes messages and receipts between two real clients", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);

    const toBob = await alice.sock!.sendMessage(jid(BOB), { text: "hi bob" });
    const atBob = await bob.waitFor(() => bob.received.find((m) => m.key.id === toBob!.key.id), "bob receives");
    await alice.waitFor(
      () => (alice.statuses.get(toBob!.key.id!) ?? 0) >= DELIVERY_ACK || undefined,
      "delivery from bob",
    );
    const toAlice = await bob.sock!.sendMessage(jid(ALICE), { text: "hi alice" });
    const atAlice = await alice.waitFor(
      () => alice.received.find((m) => m.key.id === toAlice!.key.id),
      "alice receives",
    );

    expect(textOf(atBob)).toBe("hi bob");
    expect(atBob.key.remoteJid).toBe(jid(ALICE));
    expect(textOf(atAlice)).toBe("hi alice");
    expect(sim.messages(ALICE)).toEqual([expect.objectContaining({ to: BOB, text: "hi bob" })]);
    expect(sim.messages(BOB)).toEqual([expect.objectContaining({ to: ALICE, text: "hi alice" })]);
  });

  it("keeps messages for an offline account and delivers them on login", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    await alice.end();
    await expect.poll(() => sim.stats().accounts[ALICE]?.online).toBe(false);

    const queued = await sim.inbound({ from: CONTACT, to: ALICE, text: "while you were away" });
    alice.connect();
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === queued.id), "queued message");

    expect(got.message?.conversation).toBe("while you were away");
    expect(sim.stats().accounts[ALICE]?.connections).toBe(2);
  });

  it("counts a message id sent twice as a duplicate", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    await alice.sock!.sendMessage(jid(CONTACT), { text: "once" }, { messageId: "DUPLICATE-ID-1" });
    await alice.sock!.sendMessage(jid(CONTACT), { text: "twice" }, { messageId: "DUPLICATE-ID-1" });
    await sim.waitForMessages(ALICE, 2);

    expect(sim.stats().accounts[ALICE]).toMatchObject({ messagesReceived: 2, uniqueIds: 1, duplicates: 1 });
  });
});
