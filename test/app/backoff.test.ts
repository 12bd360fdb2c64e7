import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/domain/errors.ts";
import { backoffDelayMs } from "../../src/app/dispatcher/backoff.ts";
import { classifyFailure } from "../../src/app/dispatcher/classify-failure.ts";

const policy = { baseMs: 1000, maxMs: 30_000, maxAttempts: 4 };
const now = new Date("2026-01-01T00:00:00Z");

describe("backoff with full jitter", () => {
  it("grows exponentially up to the cap", () => {
    const top = () => 0.999999;
    expect(backoffDelayMs(1, policy, top)).toBe(999);
    expect(backoffDelayMs(2, policy, top)).toBe(1999);
    expect(backoffDelayMs(3, policy, top)).toBe(3999);
    expect(backoffDelayMs(10, policy, top)).toBe(29_999);
    expect(backoffDelayMs(1000, policy, top)).toBe(29_999);
  });

  it("spreads delays uniformly from zero", () => {
    expect(backoffDelayMs(5, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(5, policy, () => 0.5)).toBe(8000);
  });
});

describe("classifyFailure", () => {
  it("retries a retryable error with a delay", () => {
    const outcome = classifyFailure(new ProviderError("p", "busy", true), 1, true, policy, now, () => 0.5);
    expect(outcome).toMatchObject({ kind: "retry", nextAttemptAt: new Date(now.getTime() + 500) });
  });

  it("fails a terminal error at once, keeping the provider's code", () => {
    const outcome = classifyFailure(new ProviderError("p", "invalid To", false, "21211"), 1, true, policy, now);
    expect(outcome).toMatchObject({
      kind: "failed",
      error: { code: "PROVIDER.REJECTED", providerCode: "21211", retryable: false },
    });
  });

  it("gives up after the last attempt with the reason", () => {
    const outcome = classifyFailure(new ProviderError("p", "busy", true), 4, true, policy, now);
    expect(outcome.kind).toBe("failed");
    expect(outcome.error.message).toMatch(/gave up after 4 attempts: busy/);
  });

  it("never fails a message because the session is down, whatever the attempt count", () => {
    const outcome = classifyFailure(new ProviderError("p", "connection closed", true), 99, false, policy, now);
    expect(outcome).toMatchObject({ kind: "retry", nextAttemptAt: now });
  });

  it("treats an unexpected error as retryable", () => {
    expect(classifyFailure(new TypeError("boom"), 1, true, policy, now, () => 0).kind).toBe("retry");
  });
});
