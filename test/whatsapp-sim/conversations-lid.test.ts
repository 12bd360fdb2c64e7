import { jidNormalizedUser, proto } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";

const { READ } = proto.WebMessageInfo.Status;
const ALICE = "15550007201";
const BOB = "15550007202";
const CONTACT = "15550009721";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;

describe("LID addressing through the simulator", () => {
  it("a contact writing from its LID reaches Baileys in the @lid chat, and Baileys learns its number", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const { id } = await sim.inbound({ from: CONTACT, to: ALICE, text: "from my lid", fromLid: true });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "LID message");

    expect(got.message?.conversation).toBe("from my lid");
    expect(got.key.remoteJid).toBe(lid(CONTACT));
    expect(got.key.remoteJidAlt).toBe(jid(CONTACT));
    expect(got.key.addressingMode).toBe("lid");
    const mapping = alice.sock!.signalRepository.lidMapping;
    // rc14 answers with the device jid (`pn:0@s.whatsapp.net`).
    expect(jidNormalizedUser((await mapping.getPNForLID(lid(CONTACT))) ?? "")).toBe(jid(CONTACT));
    expect(await mapping.getLIDForPN(jid(CONTACT))).toBe(lid(CONTACT));
  });

  it("replies to the @lid chat and to the number land in one chat at the simulator, both read", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const { id } = await sim.inbound({ from: CONTACT, to: ALICE, text: "hi", fromLid: true });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "LID message");

    const byLid = await alice.sock!.sendMessage(got.key.remoteJid!, { text: "by lid" }, { quoted: got });
    const byPhone = await alice.sock!.sendMessage(jid(CONTACT), { text: "by number" });
    for (const sent of [byLid, byPhone]) {
      await alice.waitFor(() => alice.statuses.get(sent!.key.id!) === READ || undefined, "READ");
    }

    expect(sim.messages(ALICE)).toEqual([
      expect.objectContaining({ id: byLid!.key.id, to: CONTACT, toLid: lid(CONTACT), addressing: "lid", replyTo: id }),
      expect.objectContaining({ id: byPhone!.key.id, to: CONTACT, toLid: lid(CONTACT), addressing: "pn" }),
    ]);
    expect(sim.messages(ALICE).map((m) => m.text)).toEqual(["by lid", "by number"]);
  });

  it("usync gives the LID of a number Baileys writes to first, and later LID messages share its session", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    await alice.sock!.sendMessage(jid(CONTACT), { text: "first contact" });
    await sim.waitForMessages(ALICE, 1);
    expect(await alice.sock!.signalRepository.lidMapping.getLIDForPN(jid(CONTACT))).toBe(lid(CONTACT));

    const byNumber = await sim.inbound({ from: CONTACT, to: ALICE, text: "from my number" });
    const byLid = await sim.inbound({ from: CONTACT, to: ALICE, text: "from my lid", fromLid: true });
    const got = await alice.waitFor(
      () => [byNumber, byLid].map(({ id }) => alice.received.find((m) => m.key.id === id)).every(Boolean) || undefined,
      "both messages",
    );

    expect(got).toBe(true);
    const [first, second] = [byNumber, byLid].map(({ id }) => alice.received.find((m) => m.key.id === id));
    expect([textOf(first), textOf(second)]).toEqual(["from my number", "from my lid"]);
    expect([first?.key.remoteJid, second?.key.remoteJid]).toEqual([jid(CONTACT), lid(CONTACT)]);
  });

  it("between two linked accounts, a message to a LID arrives from the sender's LID with its number beside it", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    await alice.sock!.sendMessage(jid(BOB), { text: "by number" });
    await bob.waitFor(() => bob.received.length >= 1 || undefined, "first message");

    const sent = await alice.sock!.sendMessage(lid(BOB), { text: "by lid" });
    const got = await bob.waitFor(() => bob.received.find((m) => m.key.id === sent!.key.id), "LID message");

    expect(textOf(got)).toBe("by lid");
    expect(got.key.remoteJid).toBe(lid(ALICE));
    expect(got.key.remoteJidAlt).toBe(jid(ALICE));
    expect(sim.messages(ALICE).map((m) => [m.to, m.addressing])).toEqual([
      [BOB, "pn"],
      [BOB, "lid"],
    ]);
  });
});
