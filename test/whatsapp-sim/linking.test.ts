import { DisconnectReason, proto, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { client, jid, startSim, tempDir } from "./harness.ts";

const PHONE = "15550003001";

describe("linking a fresh Baileys client", () => {
  it("QR -> scan -> pair-success -> 515 -> login -> open, with file auth state", async () => {
    const sim = await startSim();
    const { state, saveCreds } = await useMultiFileAuthState(await tempDir());
    const wa = client({ wsUrl: sim.wsUrl, auth: state, saveCreds });

    wa.connect();
    const qr = await wa.waitFor(() => wa.qr, "QR");
    const linked = await sim.scanQr(qr, PHONE);
    expect(await wa.waitForClose(0)).toBe(DisconnectReason.restartRequired);
    wa.connect();
    await wa.waitForOpen();

    expect(linked.jid).toMatch(new RegExp(`^${PHONE}:\\d+@s\\.whatsapp\\.net$`));
    expect(state.creds.me?.id).toBe(linked.jid);
    expect(state.creds.me?.lid).toBe(linked.lid);
    expect(sim.accounts()).toEqual([
      expect.objectContaining({ phone: PHONE, devices: [expect.objectContaining({ jid: linked.jid, online: true })] }),
    ]);
  });

  it("a QR-linked client can send right away and sees receipts", async () => {
    const sim = await startSim();
    const wa = client({ wsUrl: sim.wsUrl });
    wa.connect();
    await sim.scanQr(await wa.waitFor(() => wa.qr, "QR"), PHONE);
    await wa.waitForClose(0);
    wa.connect();
    await wa.waitForOpen();

    const sent = await wa.sock!.sendMessage(jid("15550009004"), { text: "first words" });
    await wa.waitFor(() => wa.statuses.get(sent!.key.id!) === proto.WebMessageInfo.Status.READ || undefined, "READ");

    expect((await sim.waitForMessages(PHONE, 1))[0]).toMatchObject({ to: "15550009004", text: "first words" });
  });

  it("links by pairing code entered on the simulated phone", async () => {
    const sim = await startSim();
    const wa = client({ wsUrl: sim.wsUrl });
    wa.connect();
    await wa.waitFor(() => wa.qr, "registration");

    const code = await wa.sock!.requestPairingCode(PHONE);
    const linked = await sim.enterPairingCode(PHONE, code);
    expect(await wa.waitForClose(0)).toBe(DisconnectReason.restartRequired);
    wa.connect();
    await wa.waitForOpen();

    expect(wa.auth.creds.me?.id).toBe(linked.jid);
  });

  it("rejects a wrong pairing code", async () => {
    const sim = await startSim();
    const wa = client({ wsUrl: sim.wsUrl });
    wa.connect();
    await wa.waitFor(() => wa.qr, "registration");
    await wa.sock!.requestPairingCode(PHONE);

    await expect(sim.enterPairingCode(PHONE, "ZZZZZZZZ")).rejects.toThrow(/pairing failed|did not finish/);
    expect(sim.accounts()).toEqual([]);
  });

  it("refuses a malformed QR and one no client shows", async () => {
    const sim = await startSim();
    const wa = client({ wsUrl: sim.wsUrl });
    wa.connect();
    const qr = await wa.waitFor(() => wa.qr, "QR");

    await expect(sim.scanQr("not a qr", PHONE)).rejects.toMatchObject({ status: 400 });
    await expect(sim.scanQr(qr.replace("#2@", "#2@x"), PHONE)).rejects.toMatchObject({ status: 404 });
    await expect(sim.scanQr(qr, "not-a-phone")).rejects.toMatchObject({ status: 400 });
    expect(wa.isOpen).toBe(false);
  });
});
