import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Curve, DisconnectReason, NOISE_MODE, NOISE_WA_HEADER, proto, WA_CERT_DETAILS } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { verifyCurveSignature } from "../fakes/whatsapp/adv.ts";
import { BAILEYS_WA_VERSION } from "../fakes/whatsapp/baileys-client.ts";
import { parseQr } from "../fakes/whatsapp/index.ts";
import { createServerIdentity } from "../fakes/whatsapp/noise.ts";
import { client, startSim } from "./harness.ts";

/**
 * The simulator encodes facts about one Baileys release. These tests pin
 * them so that upgrading Baileys fails here, loudly, instead of leaving a
 * simulator that quietly disagrees with the library.
 */
describe("Baileys version contract", () => {
  it("the installed Baileys is exactly 7.0.0-rc14", async () => {
    const require = createRequire(import.meta.url);
    const path = require.resolve("@whiskeysockets/baileys/package.json");
    const pkg = JSON.parse(await readFile(path, "utf8")) as { version: string };

    expect(pkg.version).toBe("7.0.0-rc14");
  });

  it("the wire constants the simulator mirrors are unchanged", async () => {
    const defaults = await import("@whiskeysockets/baileys");

    expect(NOISE_MODE).toBe("Noise_XX_25519_AESGCM_SHA256\0\0\0\0");
    expect([...NOISE_WA_HEADER]).toEqual([0x57, 0x41, 6, 3]);
    expect(WA_CERT_DETAILS.SERIAL).toBe(0);
    expect(defaults.DEFAULT_CONNECTION_CONFIG.version).toEqual(BAILEYS_WA_VERSION);
    expect(DisconnectReason).toMatchObject({
      connectionClosed: 428,
      connectionLost: 408,
      connectionReplaced: 440,
      loggedOut: 401,
      badSession: 500,
      restartRequired: 515,
      forbidden: 403,
      unavailableService: 503,
    });
  });

  it("the QR string has the v7 shape the simulated phone parses", async () => {
    const sim = await startSim();
    const wa = client({ wsUrl: sim.wsUrl });
    wa.connect();
    const qr = await wa.waitFor(() => wa.qr, "QR");

    expect(qr.startsWith("https://wa.me/settings/linked_devices#")).toBe(true);
    const data = parseQr(qr);
    expect(data.ref.startsWith("2@")).toBe(true);
    expect(data.noiseKey.equals(Buffer.from(wa.auth.creds.noiseKey.public))).toBe(true);
    expect(data.identityKey.equals(Buffer.from(wa.auth.creds.signedIdentityKey.public))).toBe(true);
    expect(data.advSecret.toString("base64")).toBe(wa.auth.creds.advSecretKey);
    expect(data.platformId).toMatch(/^\d+$/);
  });

  it("the simulator's certificate chain verifies against its own root", async () => {
    const identity = createServerIdentity();
    const chain = proto.CertChain.decode(identity.certChain);
    const intermediate = proto.CertChain.NoiseCertificate.Details.decode(chain.intermediate!.details!);
    const leaf = proto.CertChain.NoiseCertificate.Details.decode(chain.leaf!.details!);

    expect(
      await verifyCurveSignature(identity.rootKey.public, chain.intermediate!.details!, chain.intermediate!.signature!),
    ).toBe(true);
    expect(await verifyCurveSignature(intermediate.key!, chain.leaf!.details!, chain.leaf!.signature!)).toBe(true);
    expect(
      await verifyCurveSignature(
        WA_CERT_DETAILS.PUBLIC_KEY,
        chain.intermediate!.details!,
        chain.intermediate!.signature!,
      ),
    ).toBe(false);
    expect(intermediate.issuerSerial).toBe(WA_CERT_DETAILS.SERIAL);
    expect(Buffer.from(leaf.key!).equals(Buffer.from(identity.staticKey.public))).toBe(true);
  });

  it("rc14 does not really check the root signature (else use trustRootInProcess)", () => {
    const identity = createServerIdentity();
    const chain = proto.CertChain.decode(identity.certChain);

    // If this starts failing, Baileys verifies the chain for real: clients
    // must then trust the simulator's root (see SimulatorOptions.trustRootInProcess).
    expect(Curve.verify(WA_CERT_DETAILS.PUBLIC_KEY, chain.intermediate!.details!, chain.intermediate!.signature!)).toBe(
      true,
    );
  });
});
