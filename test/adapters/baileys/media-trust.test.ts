import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { assertCertificate, mediaTrustFor } from "../../../src/adapters/messaging/baileys/media-trust.ts";
import { connectorFor, sessionStore, silentLogger, startSim } from "./harness.ts";

describe("media trust (WA_MEDIA_CA_FILE)", () => {
  it("without a CA, changes nothing: the default trust everywhere", async () => {
    expect(await mediaTrustFor(undefined, silentLogger)).toEqual({});
  });

  it("with the simulator's CA, downloads reach its media server, which the default trust refuses", async () => {
    const sim = await startSim();
    const trust = await mediaTrustFor(await readFile(sim.caFile), silentLogger);
    const url = `https://${sim.mediaHost}/no-such-file`;

    const trusted = await fetch(url, { dispatcher: trust.dispatcher });
    const untrusted = (await fetch(url).catch((error: unknown) => error)) as Error;

    expect(trust.fetchAgent).toBeDefined();
    expect(trusted.status).toBeGreaterThanOrEqual(400); // an answer from the server: TLS went through
    expect((untrusted.cause as { code?: string } | undefined)?.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("refuses a CA that is not a certificate, when the connector is built", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();

    expect(() => assertCertificate("not a certificate")).toThrow(/not a certificate/);
    expect(() => assertCertificate(Buffer.alloc(0))).toThrow(/not a certificate/);
    expect(() => connectorFor(sim, store, { mediaCa: "-----BEGIN CERTIFICATE-----\nAAAA\n" })).toThrow(
      /media CA is not a certificate/,
    );
    await expect(readFile(sim.caFile).then(assertCertificate)).resolves.toBeUndefined();
  });
});
