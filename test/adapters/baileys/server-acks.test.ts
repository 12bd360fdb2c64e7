import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ServerAcks } from "../../../src/adapters/messaging/baileys/server-acks.ts";

describe("ServerAcks", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("counts the ack timeout from wait(), so time spent before the stanza is written (an upload) does not count", async () => {
    const acks = new ServerAcks(1_000);
    const ack = acks.expect("M1");

    await vi.advanceTimersByTimeAsync(5_000); // a long upload
    const waited = ack.wait();
    await vi.advanceTimersByTimeAsync(900);
    acks.onAck({ id: "M1" });

    await expect(waited).resolves.toBeUndefined();
  });

  it("keeps an ack that came before wait(), and times out one that never comes", async () => {
    const acks = new ServerAcks(1_000);
    const early = acks.expect("M1");
    const never = acks.expect("M2");
    acks.onAck({ id: "M1" });

    await expect(early.wait()).resolves.toBeUndefined();
    const waited = never.wait();
    const outcome = expect(waited).rejects.toMatchObject({ retryable: true, providerCode: "408" });
    await vi.advanceTimersByTimeAsync(1_000);
    await outcome;
  });

  it("rejects with the server's refusal code", async () => {
    const acks = new ServerAcks(1_000);
    const ack = acks.expect("M1");
    acks.onAck({ id: "M1", error: "479" });

    await expect(ack.wait()).rejects.toMatchObject({ retryable: false, providerCode: "479" });
  });
});
