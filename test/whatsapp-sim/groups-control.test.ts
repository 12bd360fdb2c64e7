import { describe, expect, it } from "vitest";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";

const ALICE = "15550007331";
const M1 = "15550009761";
const M2 = "15550009762";
const M3 = "15550009763";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;

// Control answers are loosely shaped JSON that the tests index into freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, json: (await res.json()) as Json };
}

describe("groups through the control API", () => {
  it("create, read, change members and details over HTTP; linked members hear of each change", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const base = sim.controlUrl;

    const created = await call(base, "POST", "/control/groups", {
      subject: "Made by the server",
      members: [M1, ALICE, M2],
      admins: [M1],
    });
    expect(created.status).toBe(200);
    const { id, jid: groupJid } = created.json as { id: string; jid: string };
    expect(id).toMatch(/^1203630\d{11}$/);
    expect(groupJid).toBe(`${id}@g.us`);
    const upsert = await alice.waitForGroupEvent("groups.upsert");
    expect(upsert[0]).toMatchObject({ id: groupJid, subject: "Made by the server", owner: lid(M1), ownerPn: jid(M1) });

    const one = await call(base, "GET", `/control/groups/${id}`);
    expect(one.json).toMatchObject({
      id,
      subject: "Made by the server",
      description: null,
      owner: M1,
      participants: [
        { phone: M1, admin: "superadmin", lid: lid(M1) },
        { phone: ALICE, admin: null },
        { phone: M2, admin: null },
      ],
    });
    expect((await call(base, "GET", "/control/groups")).json.map((g: Json) => g.id)).toEqual([id]);

    const changed = await call(base, "POST", `/control/groups/${groupJid}/participants`, { add: [M3], remove: [M2] });
    expect(changed.json.results).toEqual([
      { phone: M3, action: "add", status: "200" },
      { phone: M2, action: "remove", status: "200" },
    ]);
    expect(changed.json.group.participants.map((p: Json) => p.phone)).toEqual([M1, ALICE, M3]);
    const added = await alice.waitForGroupEvent("group-participants.update", (u) => u.action === "add");
    const removed = await alice.waitForGroupEvent("group-participants.update", (u) => u.action === "remove");
    expect(added).toMatchObject({
      id: groupJid,
      author: lid(M1),
      participants: [{ id: lid(M3), phoneNumber: jid(M3) }],
    });
    expect(removed.participants[0]).toMatchObject({ id: lid(M2) });

    const renamed = await call(base, "POST", `/control/groups/${id}`, {
      subject: "Renamed",
      description: "about",
      by: M3,
    });
    expect(renamed.json).toMatchObject({ subject: "Renamed", description: "about" });
    const update = await alice.waitForGroupEvent("groups.update", (u) => u[0]?.subject !== undefined);
    expect(update[0]).toMatchObject({ id: groupJid, subject: "Renamed", author: lid(M3) });
    expect((await alice.sock!.groupMetadata(groupJid)).desc).toBe("about");
  });

  it("inbound to a group and the messages log over HTTP: group, decryptedBy, metadata queries in stats", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const base = sim.controlUrl;
    const { json: group } = await call(base, "POST", "/control/groups", { subject: "Log", members: [ALICE, M1, M2] });

    const inbound = await call(base, "POST", "/control/inbound", { from: M1, group: group.id, text: "from the phone" });
    expect(inbound.status).toBe(200);
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === inbound.json.id), "upsert");
    expect(textOf(got)).toBe("from the phone");
    await alice.sock!.sendMessage(group.jid, { text: "logged" });
    await sim.waitForMessages(ALICE, 1);

    const messages = await call(base, "GET", `/control/messages?from=${ALICE}`);
    expect(messages.json).toEqual([
      expect.objectContaining({ from: ALICE, to: group.jid, group: group.id, text: "logged", kind: "text" }),
    ]);
    expect([...messages.json[0].decryptedBy].sort()).toEqual([M1, M2]);
    const stats = await call(base, "GET", "/control/stats");
    expect(stats.json.accounts[ALICE]).toMatchObject({ groupMetadataQueries: 1, iqs: { "w:g2:get:query": 1 } });
  });

  it("refuses what is not right: 400 for bad input, 404 for an unknown group, 409 for a non-member", async () => {
    const sim = await startSim();
    const base = sim.controlUrl;
    const { json: group } = await call(base, "POST", "/control/groups", { subject: "Strict", members: [M1] });
    const bad: Array<[string, string, unknown, number]> = [
      ["POST", "/control/groups", { members: [M1] }, 400],
      ["POST", "/control/groups", { subject: "x", members: [] }, 400],
      ["POST", "/control/groups", { subject: "x", members: ["not a phone"] }, 400],
      ["POST", "/control/groups", { subject: "x", members: [M1], addressingMode: "email" }, 400],
      ["GET", "/control/groups/120363000000000000", undefined, 404],
      ["POST", `/control/groups/${group.id}/participants`, { add: "nope" }, 400],
      ["POST", `/control/groups/${group.id}/participants`, { add: [M2], by: M3 }, 409],
      ["POST", `/control/groups/${group.id}`, { subject: "" }, 400],
      ["POST", "/control/inbound", { from: M2, group: group.id, text: "not in it" }, 409],
      ["POST", "/control/inbound", { from: M1, group: "general", text: "?" }, 400],
    ];
    for (const [method, path, body, status] of bad) {
      const answer = await call(base, method, path, body);
      expect({ method, path, body, status: answer.status }).toEqual({ method, path, body, status });
      expect(typeof answer.json.error).toBe("string");
    }
    expect(sim.group(group.id).participants.map((p) => p.phone)).toEqual([M1]);
  });
});
