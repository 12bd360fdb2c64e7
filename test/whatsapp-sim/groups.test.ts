import type { GroupMetadata } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";

const ALICE = "15550007301";
const BOB = "15550007302";
const M1 = "15550009731";
const M2 = "15550009732";
const M3 = "15550009733";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;
const groupId = (groupJid: string): string => groupJid.split("@")[0]!;

describe("groups: a linked client creates a group and writes to it", () => {
  it("a text and an image: every member's phone takes the sender key and decrypts both", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
    const sock = alice.sock!;

    const created = await sock.groupCreate("Team", [jid(M1), jid(M2), jid(M3)]);
    expect(created.id).toMatch(/^1203630\d{11}@g\.us$/);
    expect(created.subject).toBe("Team");
    expect(created.addressingMode).toBe("lid");
    const meta = await sock.groupMetadata(created.id);
    expect(meta.participants.map((p) => p.phoneNumber).sort()).toEqual([ALICE, M1, M2, M3].map(jid).sort());
    expect(meta.participants.find((p) => p.phoneNumber === jid(ALICE))?.admin).toBe("superadmin");

    const text = await sock.sendMessage(created.id, { text: "hello team" });
    const image = mediaFixture.png(64);
    const photo = await sock.sendMessage(created.id, { image, caption: "the whiteboard", mimetype: "image/png" });
    const logged = await sim.waitForMessages(ALICE, 2);

    expect(logged[0]).toMatchObject({ id: text!.key.id, kind: "text", text: "hello team", to: created.id });
    expect(logged[1]).toMatchObject({
      id: photo!.key.id,
      kind: "media",
      text: "the whiteboard",
      media: { kind: "image", mimeType: "image/png", sha256: sha256Hex(image), caption: "the whiteboard" },
    });
    for (const entry of logged) {
      expect(entry.group).toBe(groupId(created.id));
      expect([...entry.decryptedBy!].sort()).toEqual([M1, M2, M3].sort());
    }
    // Each member's phone reports it read (the default receipts), named as participant.
    const readByAll = (): boolean =>
      [M1, M2, M3].every((p) => alice.userReceipts.get(text!.key.id!)?.get(lid(p))?.readTimestamp);
    await alice.waitFor(() => readByAll() || undefined, "every member's read");
  });

  it("replies, reactions and locations to a group decode as in a chat", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const group = sim.createGroup({ subject: "Decode", members: [ALICE, M1, M2] });
    const { id: question } = await sim.inbound({ from: M1, group: group.id, text: "lunch?" });
    const asked = await alice.waitFor(() => alice.received.find((m) => m.key.id === question), "question");

    await alice.sock!.sendMessage(group.jid, { text: "yes" }, { quoted: asked });
    await alice.sock!.sendMessage(group.jid, { react: { key: asked.key, text: "👍" } });
    await alice.sock!.sendMessage(group.jid, { location: { degreesLatitude: 48.85, degreesLongitude: 2.35 } });
    const [reply, reaction, place] = await sim.waitForMessages(ALICE, 3);

    expect(reply).toMatchObject({ kind: "text", text: "yes", replyTo: question, group: group.id });
    expect(reaction).toMatchObject({ kind: "reaction", reaction: { id: question, emoji: "👍" }, group: group.id });
    expect(place).toMatchObject({ kind: "location", location: { latitude: 48.85, longitude: 2.35 } });
    for (const entry of [reply, reaction, place]) expect([...entry!.decryptedBy!].sort()).toEqual([M1, M2]);
  });

  it("another member's linked client gets the message and decrypts it with the sender key", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const group = sim.createGroup({ subject: "Two clients", members: [ALICE, BOB, M1] });

    await alice.sock!.sendMessage(group.jid, { text: "one" });
    const second = await alice.sock!.sendMessage(group.jid, { text: "two" });
    const got = await bob.waitFor(() => bob.received.find((m) => m.key.id === second!.key.id), "bob's copy");

    expect(textOf(got)).toBe("two");
    expect(got.key.remoteJid).toBe(group.jid);
    expect(got.key.participantAlt).toBe(jid(ALICE));
    expect(bob.received.map(textOf)).toContain("one");
    const logged = await sim.waitForMessages(ALICE, 2);
    expect([...logged[1]!.decryptedBy!].sort()).toEqual([BOB, M1].sort());
  });

  it("receipts: a member's phone reports delivered and read when told; a linked member's read comes through", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const group = sim.createGroup({ subject: "Seen", members: [ALICE, BOB, M1] });
    const sent = await alice.sock!.sendMessage(group.jid, { text: "read me" });
    const id = sent!.key.id!;
    await sim.waitForMessages(ALICE, 1);
    const receiptOf = (who: string) => alice.userReceipts.get(id)?.get(who);
    const readBy = (who: string) => () => (receiptOf(who)?.readTimestamp ? receiptOf(who) : undefined);

    const atBob = await bob.waitFor(() => bob.received.find((m) => m.key.id === id), "bob's copy");
    await bob.sock!.readMessages([atBob.key]);
    const bobs = await alice.waitFor(readBy(lid(BOB)), "Bob's read");
    expect(receiptOf(lid(M1))).toBeUndefined();
    expect(sim.receipt({ from: ALICE, id, type: "delivery" })).toEqual({ devices: 1 });
    sim.receipt({ from: ALICE, id, type: "read" });
    const m1s = await alice.waitFor(readBy(lid(M1)), "M1's read");

    expect(m1s.receiptTimestamp).toBeTruthy();
    expect(bobs.receiptTimestamp).toBeTruthy();
    expect(sim.clientReceipts(BOB)).toContainEqual(expect.objectContaining({ id, type: "read", to: group.jid }));
  });

  it("without a metadata cache each send queries the group; with one, 100 sends cost no query", async () => {
    const sim = await startSim();
    const cache = new Map<string, GroupMetadata>();
    const alice = await linkedClient(sim, ALICE, { cachedGroupMetadata: async (j) => cache.get(j) });
    const group = sim.createGroup({ subject: "Busy", members: [ALICE, M1] });
    const queries = (): number => sim.stats().accounts[ALICE]?.groupMetadataQueries ?? 0;

    await alice.sock!.sendMessage(group.jid, { text: "uncached 1" });
    await alice.sock!.sendMessage(group.jid, { text: "uncached 2" });
    await sim.waitForMessages(ALICE, 2);
    expect(queries()).toBe(2);

    cache.set(group.jid, await alice.sock!.groupMetadata(group.jid));
    for (let i = 0; i < 100; i++) await alice.sock!.sendMessage(group.jid, { text: `cached ${i}` });
    const logged = await sim.waitForMessages(ALICE, 102);

    expect(queries()).toBe(3);
    expect(logged.every((m) => m.decryptedBy?.includes(M1))).toBe(true);
  });

  it("a group the client is not in: metadata forbidden (403), unknown (404), a send to it refused", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const theirs = sim.createGroup({ subject: "Not Alice's", members: [M1, M2] });
    const fake = {
      id: "",
      subject: "",
      participants: [{ id: jid(M1) }],
      addressingMode: "pn",
    } as unknown as GroupMetadata;
    const cached = await linkedClient(sim, BOB, { cachedGroupMetadata: async (j) => ({ ...fake, id: j }) });

    await expect(alice.sock!.groupMetadata(theirs.jid)).rejects.toMatchObject({ message: "forbidden", data: 403 });
    await expect(alice.sock!.groupMetadata("120363099999999999@g.us")).rejects.toMatchObject({ data: 404 });
    const sent = await cached.sock!.sendMessage(theirs.jid, { text: "let me in" });
    await cached.waitFor(() => cached.statuses.get(sent!.key.id!) === 0 || undefined, "error status");
    expect(sim.messages(BOB)).toHaveLength(0);
  });
});
