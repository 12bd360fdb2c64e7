import { describe, expect, it } from "vitest";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";

const ALICE = "15550007311";
const M1 = "15550009741";
const M2 = "15550009742";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;

describe("groups: what simulated members send reaches Baileys in the group chat", () => {
  it("a member's text arrives with remoteJid the group and participant the member", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const group = sim.createGroup({ subject: "Inbound", members: [M1, M2, ALICE] });

    const first = await sim.inbound({ from: M1, group: group.id, text: "hi all" });
    const second = await sim.inbound({ from: M1, group: group.id, text: "again" });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === second.id), "second");
    const one = alice.received.find((m) => m.key.id === first.id);

    expect(textOf(one)).toBe("hi all");
    expect(textOf(got)).toBe("again");
    expect(got.key.remoteJid).toBe(group.jid);
    expect(got.key.participant).toBe(lid(M1));
    expect(got.key.participantAlt).toBe(jid(M1));
  });
});
