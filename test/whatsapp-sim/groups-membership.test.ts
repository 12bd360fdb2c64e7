import { describe, expect, it } from "vitest";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550007321";
const BOB = "15550007322";
const M1 = "15550009751";
const M2 = "15550009752";
const M3 = "15550009753";
const M4 = "15550009754";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;

describe("groups: membership, and who can read what follows", () => {
  it("an added member gets the sender key and reads the next message; a removed one gets nothing", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const sock = alice.sock!;
    const group = await sock.groupCreate("Rotating", [jid(M1), jid(M2), jid(M3)]);
    await sock.sendMessage(group.id, { text: "before" });

    const added = await sock.groupParticipantsUpdate(group.id, [jid(M4)], "add");
    await sock.sendMessage(group.id, { text: "welcome" });
    const removed = await sock.groupParticipantsUpdate(group.id, [jid(M2)], "remove");
    await sock.sendMessage(group.id, { text: "after" });
    const [before, welcome, after] = await sim.waitForMessages(ALICE, 3);

    expect(added).toEqual([expect.objectContaining({ status: "200", jid: jid(M4) })]);
    expect(removed).toEqual([expect.objectContaining({ status: "200", jid: jid(M2) })]);
    expect([...before!.decryptedBy!].sort()).toEqual([M1, M2, M3]);
    expect([...welcome!.decryptedBy!].sort()).toEqual([M1, M2, M3, M4]);
    expect([...after!.decryptedBy!].sort()).toEqual([M1, M3, M4]);
    const members = sim.group(group.id).participants.map((p) => p.phone);
    expect(members.sort()).toEqual([ALICE, M1, M3, M4]);
    // Baileys hears of its own changes too.
    const add = await alice.waitForGroupEvent("group-participants.update", (u) => u.action === "add");
    expect(add).toMatchObject({
      id: group.id,
      author: lid(ALICE),
      participants: [{ id: lid(M4), phoneNumber: jid(M4) }],
    });
  });

  it("adding a member twice answers 409 for that one; promote and demote reach the other client", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const group = await alice.sock!.groupCreate("Ranks", [jid(BOB), jid(M1)]);

    const again = await alice.sock!.groupParticipantsUpdate(group.id, [jid(M1), jid(M2)], "add");
    await alice.sock!.groupParticipantsUpdate(group.id, [jid(BOB)], "promote");
    const promoted = await bob.waitForGroupEvent("group-participants.update", (u) => u.action === "promote");
    await alice.sock!.groupParticipantsUpdate(group.id, [jid(BOB)], "demote");
    const demoted = await bob.waitForGroupEvent("group-participants.update", (u) => u.action === "demote");

    expect(again.map((r) => [r.jid, r.status])).toEqual([
      [jid(M1), "409"],
      [jid(M2), "200"],
    ]);
    expect(promoted).toMatchObject({
      id: group.id,
      author: lid(ALICE),
      participants: [{ id: lid(BOB), admin: "admin" }],
    });
    expect(demoted.participants[0]).toMatchObject({ id: lid(BOB), admin: null });
    const upsert = await bob.waitForGroupEvent("groups.upsert", (g) => g[0]?.id === group.id);
    expect(upsert[0]).toMatchObject({ subject: "Ranks", author: lid(ALICE), authorPn: jid(ALICE) });
  });

  it("a member who is not an admin cannot change participants: 401 not-authorized, nothing changes", async () => {
    const sim = await startSim();
    const bob = await linkedClient(sim, BOB);
    const group = sim.createGroup({ subject: "Admins only", members: [M1, BOB, M2], admins: [M1] });
    await bob.waitForGroupEvent("groups.upsert", (g) => g[0]?.id === group.jid);

    await expect(bob.sock!.groupParticipantsUpdate(group.jid, [jid(M3)], "add")).rejects.toMatchObject({
      message: "not-authorized",
      data: 401,
    });
    await expect(bob.sock!.groupParticipantsUpdate(group.jid, [jid(M2)], "remove")).rejects.toMatchObject({
      data: 401,
    });
    await expect(bob.sock!.groupInviteCode(group.jid)).rejects.toMatchObject({ data: 401 });
    expect(sim.group(group.id).participants.map((p) => p.phone)).toEqual([M1, BOB, M2]);
  });

  it("subject, description, invite code, the list of groups and leaving, through Baileys", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const sock = alice.sock!;
    const group = await sock.groupCreate("Old name", [jid(BOB), jid(M1)]);
    const other = sim.createGroup({ subject: "Elsewhere", members: [M2, ALICE] });

    await sock.groupUpdateSubject(group.id, "New name");
    const renamed = await bob.waitForGroupEvent("groups.update", (u) => u[0]?.subject !== undefined);
    await sock.groupUpdateDescription(group.id, "what we do");
    const described = await bob.waitForGroupEvent("groups.update", (u) => u[0]?.desc !== undefined);
    await sock.groupUpdateDescription(group.id, "what we do now");
    const code = await sock.groupInviteCode(group.id);
    const all = await sock.groupFetchAllParticipating();
    const meta = await sock.groupMetadata(group.id);

    expect(renamed[0]).toMatchObject({ id: group.id, subject: "New name", author: lid(ALICE) });
    expect(described[0]).toMatchObject({ id: group.id, desc: "what we do" });
    expect(meta).toMatchObject({ subject: "New name", desc: "what we do now", descOwnerPn: jid(ALICE) });
    expect(code).toBe(sim.group(group.id).inviteCode);
    expect(code).toMatch(/^[\w-]{22}$/);
    expect(Object.keys(all).sort()).toEqual([group.id, other.jid].sort());
    expect(all[other.jid]).toMatchObject({ subject: "Elsewhere", owner: lid(M2) });

    await bob.sock!.groupLeave(group.id);
    const left = await alice.waitForGroupEvent("group-participants.update", (u) => u.action === "remove");
    expect(left).toMatchObject({ id: group.id, author: lid(BOB), participants: [{ id: lid(BOB) }] });
    expect(sim.group(group.id).participants.map((p) => p.phone)).toEqual([ALICE, M1]);
    await expect(bob.sock!.groupMetadata(group.id)).rejects.toMatchObject({ data: 403 });
    expect(Object.keys(await bob.sock!.groupFetchAllParticipating())).toEqual([]);
  });

  it("a description edit naming a stale version is refused with 409 conflict", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const group = sim.createGroup({ subject: "Docs", members: [ALICE, M1] });
    await alice.sock!.groupUpdateDescription(group.jid, "first");
    sim.updateGroup(group.id, { description: "changed on a phone", by: M1 });

    // Baileys reads the current version first, so only a racing edit can conflict: play one by hand.
    const stale = alice.sock!.query({
      tag: "iq",
      attrs: { type: "set", xmlns: "w:g2", to: group.jid },
      content: [{ tag: "description", attrs: { id: "NEWID", prev: "NOT-CURRENT" }, content: [] }],
    });

    await expect(stale).rejects.toMatchObject({ message: "conflict", data: 409 });
    expect(sim.group(group.id).description).toBe("changed on a phone");
  });
});
