import { describe, expect, it } from "vitest";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550007301";
const M1 = "15550009731";
const M2 = "15550009732";
const M3 = "15550009733";

describe("groups: a linked client creates a group and writes to it", () => {
  it("create, metadata, a text every member's phone decrypts", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const sock = alice.sock!;

    const created = await sock.groupCreate("Team", [jid(M1), jid(M2), jid(M3)]);
    expect(created.id).toMatch(/^1203630\d+@g\.us$/);
    expect(created.subject).toBe("Team");
    expect(created.participants).toHaveLength(4);

    const meta = await sock.groupMetadata(created.id);
    expect(meta.participants.map((p) => p.phoneNumber).sort()).toEqual([ALICE, M1, M2, M3].map(jid).sort());

    const sent = await sock.sendMessage(created.id, { text: "hello team" });
    const [logged] = await sim.waitForMessages(ALICE, 1);
    expect(logged).toMatchObject({
      id: sent!.key.id,
      kind: "text",
      text: "hello team",
      group: created.id.split("@")[0],
    });
    expect([...logged!.decryptedBy!].sort()).toEqual([M1, M2, M3].sort());
  });
});
