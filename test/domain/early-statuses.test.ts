import { describe, expect, it } from "vitest";
import {
  DEFAULT_EARLY_STATUS_RETENTION_MS,
  DEFAULT_MAX_EARLY_STATUSES,
  earlyStatusLimits,
  earlyStatusToKeep,
  isRetained,
  keepEarlyStatus,
  oldestKept,
  type EarlyStatus,
} from "../../src/domain/early-statuses.ts";

const report = (providerMessageId: string, reportedAt: number): EarlyStatus => ({
  provider: "baileys",
  providerMessageId,
  status: "delivered",
  error: undefined,
  reportedAt,
});
const ids = (kept: readonly EarlyStatus[]): string[] => kept.map((k) => k.providerMessageId);

describe("early status limits", () => {
  it("defaults to 24 h and 10,000 reports", () => {
    expect(DEFAULT_EARLY_STATUS_RETENTION_MS).toBe(24 * 60 * 60 * 1000);
    expect(DEFAULT_MAX_EARLY_STATUSES).toBe(10_000);
    expect(earlyStatusLimits()).toEqual({ retentionMs: 24 * 60 * 60 * 1000, max: 10_000 });
  });

  it("takes a store's settings, clamped", () => {
    expect(earlyStatusLimits({ earlyStatusRetentionMs: 1_000, maxEarlyStatuses: 3.7 })).toEqual({
      retentionMs: 1_000,
      max: 3,
    });
    expect(earlyStatusLimits({ earlyStatusRetentionMs: -1, maxEarlyStatuses: -2 })).toEqual({ retentionMs: 0, max: 0 });
  });
});

describe("which reports are kept", () => {
  it("keeps a report that names a provider id, not one that names only our id", () => {
    expect(earlyStatusToKeep({ provider: "twilio", providerMessageId: "SM1", status: "read" }, new Date(5))).toEqual({
      provider: "twilio",
      providerMessageId: "SM1",
      status: "read",
      error: undefined,
      reportedAt: 5,
    });
    expect(earlyStatusToKeep({ provider: "twilio", messageId: "m1", status: "read" }, new Date(5))).toBeUndefined();
  });

  it("retains a report up to the retention, inclusive", () => {
    const limits = earlyStatusLimits({ earlyStatusRetentionMs: 100 });
    expect(oldestKept(new Date(150), limits)).toBe(50);
    expect(isRetained(report("a", 50), new Date(150), limits)).toBe(true);
    expect(isRetained(report("a", 49), new Date(150), limits)).toBe(false);
  });

  it("drops reports past the retention when keeping another", () => {
    const limits = earlyStatusLimits({ earlyStatusRetentionMs: 100 });
    const kept = [report("old", 10), report("recent", 60)];
    expect(ids(keepEarlyStatus(kept, report("new", 150), new Date(150), limits))).toEqual(["recent", "new"]);
  });

  it("keeps at most `max`, dropping the oldest, in report order", () => {
    const limits = earlyStatusLimits({ maxEarlyStatuses: 3 });
    let kept: EarlyStatus[] = [];
    for (let i = 1; i <= 5; i++) kept = keepEarlyStatus(kept, report(`p${i}`, i), new Date(i), limits);
    expect(ids(kept)).toEqual(["p3", "p4", "p5"]);
  });

  it("keeps nothing with a cap of zero", () => {
    const limits = earlyStatusLimits({ maxEarlyStatuses: 0 });
    expect(keepEarlyStatus([], report("a", 1), new Date(1), limits)).toEqual([]);
  });
});
