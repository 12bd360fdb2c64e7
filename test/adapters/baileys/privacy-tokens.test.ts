import { describe, expect, it } from "vitest";
import { openSession, outbound, startSim } from "./harness.ts";

const ME = "15550301101";
const CONTACT = "15550309101";
const ISSUE_IQ = "privacy:set:tokens";

describe("BaileysConnector: privacy tokens", () => {
  it("issues our privacy token to a contact once, and keeps that it did", async () => {
    // After a 1:1 send Baileys issues our token to the contact without waiting
    // and then records when; a contact already issued to gets no second IQ.
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, store } = await openSession(sim, ME);
    const issued = (): number => sim.stats().accounts[ME]?.iqs[ISSUE_IQ] ?? 0;
    const issuedAt = async (): Promise<unknown> => {
      const entries = await store.entries("main");
      return [...entries].find(([key]) => key.startsWith("tctoken-") && key.includes("@"))?.[1];
    };

    await connection.send(outbound(CONTACT, "first"));
    await expect.poll(issued).toBe(1);
    await expect.poll(issuedAt, { timeout: 5_000 }).toMatchObject({ senderTimestamp: expect.any(Number) });
    for (const text of ["second", "third", "fourth"]) await connection.send(outbound(CONTACT, text));
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(sim.messages(ME).map((m) => m.text)).toEqual(["first", "second", "third", "fourth"]);
    expect(issued()).toBe(1);
  });
});
