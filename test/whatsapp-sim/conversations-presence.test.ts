import { proto } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { client, jid, linkedClient, startSim } from "./harness.ts";

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;
const ALICE = "15550007301";
const CONTACT = "15550009731";
const STRANGER = "15550009739";
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

describe("presence, read receipts and numbers without WhatsApp", () => {
  it("records typing, recording, paused and available as the client sends them", async () => {
    const sim = await startSim();
    // Baileys sends `available` only for an account with a push name.
    const account = sim.provisionAccount({ phone: ALICE, name: "Alice" });
    const alice = client({ wsUrl: sim.wsUrl, creds: account.creds });
    alice.connect();
    await alice.waitForOpen();

    await alice.sock!.sendPresenceUpdate("available");
    await alice.sock!.sendPresenceUpdate("composing", jid(CONTACT));
    await alice.sock!.sendPresenceUpdate("recording", jid(CONTACT));
    await alice.sock!.sendPresenceUpdate("paused", lid(CONTACT));

    // Before these, Baileys said `unavailable` at login (markOnlineOnConnect is off).
    await expect
      .poll(() =>
        sim
          .presence(ALICE)
          .slice(-4)
          .map(({ to, state }) => ({ to, state })),
      )
      .toEqual([
        { to: null, state: "available" },
        { to: CONTACT, state: "composing" },
        { to: CONTACT, state: "recording" },
        { to: CONTACT, state: "paused" },
      ]);
    const { json } = await call(sim.controlUrl, "GET", `/control/presence?from=${ALICE}`);
    expect(json[0]).toMatchObject({ to: null, state: "unavailable" });
    expect(json.at(-3)).toMatchObject({ to: CONTACT, state: "composing", at: expect.any(Number) });
  });

  it("readMessages shows as a read receipt for inbound messages, by number and by LID", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const byNumber = await sim.inbound({ from: CONTACT, to: ALICE, text: "read me" });
    const byLid = await sim.inbound({ from: CONTACT, to: ALICE, text: "and me", fromLid: true });
    const keys = await alice.waitFor(() => {
      const got = [byNumber, byLid].map(({ id }) => alice.received.find((m) => m.key.id === id));
      return got.every(Boolean) ? got.map((m) => m!.key) : undefined;
    }, "both messages");

    await alice.sock!.readMessages(keys);

    await expect
      .poll(() =>
        sim
          .clientReceipts(ALICE)
          .filter((r) => r.type === "read")
          .map(({ id, to }) => ({ id, to })),
      )
      .toEqual([
        { id: byNumber.id, to: CONTACT },
        { id: byLid.id, to: CONTACT },
      ]);
  });

  it("a number made unknown to WhatsApp is left out by onWhatsApp, cannot write, and gets no receipts", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const made = await call(sim.controlUrl, "POST", "/control/contacts", { phone: `+${STRANGER}`, onWhatsApp: false });
    const check = await alice.sock!.onWhatsApp(jid(STRANGER), jid(CONTACT));
    const inbound = await sim.inbound({ from: STRANGER, to: ALICE, text: "hello?" }).catch((err: unknown) => err);
    const lost = await alice.sock!.sendMessage(jid(STRANGER), { text: "anyone there?" });
    // Receipts come in order: once a later message to a real contact is read, one for `lost` would be in.
    const next = await alice.sock!.sendMessage(jid(CONTACT), { text: "hi" });
    await alice.waitFor(() => alice.statuses.get(next!.key.id!) === READ || undefined, "READ of the next message");

    expect(made).toEqual({ status: 200, json: { phone: STRANGER, onWhatsApp: false, lid: null } });
    // rc14's onWhatsApp keeps only numbers that exist: the stranger is missing, not `exists: false`.
    expect(check).toEqual([{ jid: jid(CONTACT), exists: true }]);
    expect(inbound).toMatchObject({ status: 409 });
    expect(alice.statuses.get(lost!.key.id!) ?? 0).toBeLessThan(DELIVERY_ACK);
    expect(sim.messages(ALICE).map((m) => m.to)).toEqual([STRANGER, CONTACT]);

    const back = await call(sim.controlUrl, "POST", "/control/contacts", { phone: STRANGER, onWhatsApp: true });
    expect(back.json).toEqual({ phone: STRANGER, onWhatsApp: true, lid: lid(STRANGER) });
    expect(await alice.sock!.onWhatsApp(jid(STRANGER))).toEqual([{ jid: jid(STRANGER), exists: true }]);
  });

  it("POST /control/contacts checks its input and will not unlist a linked account", async () => {
    const sim = await startSim();
    await linkedClient(sim, ALICE);

    const answers = await Promise.all([
      call(sim.controlUrl, "POST", "/control/contacts", { phone: STRANGER }),
      call(sim.controlUrl, "POST", "/control/contacts", { phone: "nope", onWhatsApp: false }),
      call(sim.controlUrl, "POST", "/control/contacts", { phone: ALICE, onWhatsApp: false }),
    ]);

    expect(answers.map((a) => a.status)).toEqual([400, 400, 409]);
  });

  it("the control API passes every conversation field to the contact's message and lists the decoded answer", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const sent = await call(sim.controlUrl, "POST", "/control/inbound", {
      from: CONTACT,
      to: ALICE,
      location: { latitude: 10.5, longitude: -66.9, name: "Caracas" },
      fromLid: true,
    });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === sent.json.id), "location");
    await alice.sock!.sendMessage(got.key.remoteJid!, { react: { text: "👍", key: got.key } });
    await sim.waitForMessages(ALICE, 1);
    const listed = await call(sim.controlUrl, "GET", `/control/messages?from=${ALICE}`);
    const refused = await call(sim.controlUrl, "POST", "/control/inbound", {
      from: CONTACT,
      to: ALICE,
      text: "x",
      fromLid: "yes",
    });

    expect(sent.status).toBe(200);
    expect(got.key.remoteJid).toBe(lid(CONTACT));
    expect(got.message?.locationMessage).toMatchObject({ degreesLatitude: 10.5, name: "Caracas" });
    expect(listed.json).toEqual([
      expect.objectContaining({
        kind: "reaction",
        to: CONTACT,
        addressing: "lid",
        reaction: { id: sent.json.id, emoji: "👍" },
      }),
    ]);
    expect(refused).toEqual({ status: 400, json: { error: "fromLid must be a boolean" } });
  });
});
