import { describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../../src/adapters/messaging/baileys/wa-message-id.ts";
import { plainConversation } from "../../../src/domain/conversation.ts";
import type { HeldMedia } from "../../../src/domain/media.ts";
import type { Message } from "../../../src/domain/message.ts";
import type { MediaStore } from "../../../src/domain/ports/media-store.port.ts";
import type { WhatsAppSimulator } from "../../fakes/whatsapp/index.ts";
import { lidForPhone } from "../../fakes/whatsapp/registry.ts";
import { chunked } from "../../support/media-fixtures.ts";
import { aSendingMessage } from "../../support/message-mother.ts";
import { realMedia } from "../../support/real-media.ts";
import { mediaStore, openSession, startSim } from "./harness.ts";

const ME = "15550401701";
const M1 = "15550409701";
const M2 = "15550409702";
const M3 = "15550409703";
const M4 = "15550409704";
const address = (phone: string): string => `whatsapp:+${phone}`;

/** A message to the group; `overrides` give its kind and facts. */
function toGroup(groupAddress: string, overrides: Partial<Message>): Message {
  return aSendingMessage({ to: groupAddress, group: groupAddress, text: "", ...overrides });
}

/** The simulator's entry for the message it received with our derived id. */
async function arrived(sim: WhatsAppSimulator, message: Message) {
  const id = deriveWaMessageId(message.id);
  await expect.poll(() => sim.messages(ME).some((m) => m.id === id)).toBe(true);
  return sim.messages(ME).find((m) => m.id === id)!;
}

async function heldImage(store: MediaStore): Promise<HeldMedia> {
  const stored = await store.put(chunked(await realMedia.png(24), 1024), { maxBytes: 1024 * 1024 });
  const { id, mimeType, size, sha256 } = stored;
  return { id, kind: "image", mimeType, size, sha256, filename: null, caption: null, sourceUrl: null, error: null };
}

const sorted = (phones: readonly string[] | undefined): string[] => [...(phones ?? [])].sort();

describe("BaileysConnector: groups", () => {
  it("creates a group whose every member decrypts our text and our photo", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const media = mediaStore();
    const { connection } = await openSession(sim, ME, { media });

    const group = await connection.groups.create("Team", [address(M1), address(M2), address(M3)]);
    const text = toGroup(group.address, { text: "hello team" });
    const photo = toGroup(group.address, { kind: "media", text: "the plan", media: [await heldImage(media)] });
    const textReceipt = await connection.send(text);
    await connection.send(photo);

    expect(group).toMatchObject({ subject: "Team", ourRole: "superadmin", owner: address(ME) });
    expect(group.address).toBe(`whatsapp:group:${group.id}`);
    expect(group.participants.map((p) => p.address).sort()).toEqual([ME, M1, M2, M3].map(address).sort());
    expect(textReceipt).toEqual({ providerMessageId: deriveWaMessageId(text.id), status: "sent" });
    const [sentText, sentPhoto] = [await arrived(sim, text), await arrived(sim, photo)];
    expect(sentText).toMatchObject({ group: group.id, kind: "text", text: "hello team" });
    expect(sorted(sentText.decryptedBy)).toEqual([M1, M2, M3]);
    expect(sentPhoto).toMatchObject({ group: group.id, kind: "media", media: { caption: "the plan" } });
    expect(sentPhoto.mediaError).toBeUndefined();
    expect(sorted(sentPhoto.decryptedBy)).toEqual([M1, M2, M3]);
  });

  it("a member's message comes in from its number, in the group; our reply and reaction name it", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const group = sim.createGroup({ subject: "Club", members: [M1, ME, M2] });

    const theirs = await sim.inbound({ from: M1, group: group.id, text: "who's in?" });
    const inbound = await events.waitFor("inbound", (e) => e.message.providerMessageId === theirs.id);
    const target = { providerMessageId: theirs.id, fromMe: false, text: "who's in?" };
    const reply = toGroup(`whatsapp:group:${group.id}`, { text: "me", replyTo: "x", target });
    const reaction = toGroup(`whatsapp:group:${group.id}`, {
      ...plainConversation("reaction"),
      reaction: { messageId: "x", emoji: "👍" },
      target,
    });
    await connection.send(reply);
    await connection.send(reaction);

    expect(inbound.message).toMatchObject({
      from: address(M1),
      text: "who's in?",
      conversation: {
        group: `whatsapp:group:${group.id}`,
        participant: address(M1),
        lid: `${lidForPhone(M1)}@lid`,
      },
    });
    const [sentReply, sentReaction] = [await arrived(sim, reply), await arrived(sim, reaction)];
    expect(sentReply).toMatchObject({ group: group.id, text: "me", replyTo: theirs.id });
    expect(sentReaction).toMatchObject({ group: group.id, reaction: { id: theirs.id, emoji: "👍" } });
    expect(sorted(sentReply.decryptedBy)).toEqual([M1, M2]);
  });

  it("an added member reads what follows, a removed one does not; both changes are reported", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const group = await connection.groups.create("Moving", [address(M1), address(M2), address(M3)]);
    await connection.send(toGroup(group.address, { text: "before" }));

    const grown = await connection.groups.changeParticipants(group.id, { add: [address(M4)] });
    const welcome = toGroup(group.address, { text: "welcome" });
    await connection.send(welcome);
    const shrunk = await connection.groups.changeParticipants(group.id, { remove: [address(M2)] });
    const after = toGroup(group.address, { text: "after" });
    await connection.send(after);

    expect(grown.participants.map((p) => p.address)).toContain(address(M4));
    expect(shrunk.participants.map((p) => p.address)).not.toContain(address(M2));
    expect(sorted((await arrived(sim, welcome)).decryptedBy)).toEqual([M1, M2, M3, M4]);
    expect(sorted((await arrived(sim, after)).decryptedBy)).toEqual([M1, M3, M4]);
    const added = await events.waitFor("group", (e) => e.update.action === "add");
    const removed = await events.waitFor("group", (e) => e.update.action === "remove");
    expect(added.update).toEqual({
      group: group.address,
      action: "add",
      participants: [address(M4)],
      by: address(ME),
    });
    expect(removed.update).toMatchObject({ group: group.address, participants: [address(M2)] });
  });

  it("100 messages to one group cost one metadata query; a member change costs one more", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const group = sim.createGroup({ subject: "Busy", members: [M1, ME, M2, M3] });
    const to = `whatsapp:group:${group.id}`;
    const queries = (): number => sim.stats().accounts[ME]?.groupMetadataQueries ?? 0;
    const before = queries();

    await Promise.all(Array.from({ length: 100 }, (_, i) => connection.send(toGroup(to, { text: `m${i}` }))));
    const afterBurst = queries();
    sim.updateParticipants(group.id, { add: [M4] });
    await events.waitFor("group", (e) => e.update.action === "add");
    const next = toGroup(to, { text: "with M4" });
    await connection.send(next);

    expect(afterBurst - before).toBe(1);
    expect(sim.messages(ME).filter((m) => m.group === group.id)).toHaveLength(101);
    expect(queries() - afterBurst).toBe(1);
    expect(sorted((await arrived(sim, next)).decryptedBy)).toEqual([M1, M2, M3, M4]);
  });

  it("lists, reads, renames, describes, shares and leaves a group; reports renames", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const group = await connection.groups.create("Old name", [address(M1), address(M2)]);

    const updated = await connection.groups.update(group.id, { subject: "New name", description: "what we do" });
    const read = await connection.groups.get(group.id);
    const listed = await connection.groups.list();
    const link = await connection.groups.inviteLink(group.id);
    const renamed = await events.waitFor("group", (e) => e.update.action === "subject");
    const described = await events.waitFor("group", (e) => e.update.action === "description");
    await connection.groups.leave(group.id);

    expect(updated).toMatchObject({ subject: "New name", description: "what we do" });
    expect(read).toEqual(updated);
    expect(listed.map((g) => g.id)).toContain(group.id);
    expect(link).toBe(`https://chat.whatsapp.com/${sim.group(group.id).inviteCode}`);
    expect(renamed.update).toMatchObject({ group: group.address, subject: "New name", by: address(ME) });
    expect(described.update).toMatchObject({ group: group.address, description: "what we do" });
    expect(sim.group(group.id).participants.map((p) => p.phone)).not.toContain(ME);
    await expect(connection.groups.get(group.id)).rejects.toMatchObject({ code: "GROUP.NOT_FOUND" });
  });

  it("refuses a member's admin-only change (GROUP.NOT_ADMIN), an unknown group and a closed connection", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const group = sim.createGroup({ subject: "Admins only", members: [M1, ME, M2], admins: [M1] });

    const info = await connection.groups.get(group.id);
    await expect(connection.groups.changeParticipants(group.id, { add: [address(M3)] })).rejects.toMatchObject({
      code: "GROUP.NOT_ADMIN",
    });
    await expect(connection.groups.inviteLink(group.id)).rejects.toMatchObject({ code: "GROUP.NOT_ADMIN" });
    await expect(connection.groups.get("120363999999999999")).rejects.toMatchObject({ code: "GROUP.NOT_FOUND" });
    connection.end();
    await expect(connection.groups.list()).rejects.toMatchObject({ retryable: true });

    expect(info.ourRole).toBe("member");
    expect(info.participants.find((p) => p.address === address(M1))?.role).toBe("superadmin");
    expect(sim.group(group.id).participants.map((p) => p.phone)).toEqual([M1, ME, M2]);
  });
});
