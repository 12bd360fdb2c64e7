import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideAcquire,
  decideRelease,
  decideRenew,
  fenceAdmits,
  isLeaseFree,
  LeaseLostError,
  type LeaseRecord,
} from "../../src/domain/session-lease.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE_MS = 15_000;
const record = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  session: "s",
  owner: "a",
  token: 3,
  expiresAt: at(LEASE_MS),
  released: false,
  ...over,
});

describe("lease rules", () => {
  it("a lease is free when there is none, it was released, or it expired (expiry instant included)", () => {
    expect(isLeaseFree(null, T0)).toBe(true);
    expect(isLeaseFree(record({ released: true }), T0)).toBe(true);
    expect(isLeaseFree(record(), at(LEASE_MS - 1))).toBe(false);
    expect(isLeaseFree(record(), at(LEASE_MS))).toBe(true);
  });

  it("the first tenure gets token 1; a takeover the next token; a held lease is left alone", () => {
    expect(decideAcquire(null, "s", "a", T0, LEASE_MS)).toEqual({
      kind: "acquired",
      tookOver: true,
      record: { session: "s", owner: "a", token: 1, expiresAt: at(LEASE_MS), released: false },
    });
    expect(decideAcquire(record(), "s", "b", at(LEASE_MS), LEASE_MS)).toMatchObject({
      kind: "acquired",
      tookOver: true,
      record: { owner: "b", token: 4 },
    });
    expect(decideAcquire(record(), "s", "b", at(1), LEASE_MS)).toEqual({ kind: "held", record: record() });
  });

  it("the owner acquiring its own live lease extends it with the same token; after its own release it is a new tenure", () => {
    expect(decideAcquire(record(), "s", "a", at(5_000), LEASE_MS)).toMatchObject({
      kind: "acquired",
      tookOver: false,
      record: { token: 3, expiresAt: at(20_000) },
    });
    expect(decideAcquire(record({ released: true }), "s", "a", at(1), LEASE_MS)).toMatchObject({
      tookOver: true,
      record: { token: 4 },
    });
  });

  it("only the owner, in its tenure, renews; a released lease is not renewed", () => {
    const lease = record();
    expect(decideRenew(lease, lease, at(10_000), LEASE_MS)).toEqual({
      kind: "renewed",
      record: { ...lease, expiresAt: at(25_000) },
    });
    const takenOver = record({ owner: "b", token: 4 });
    expect(decideRenew(takenOver, lease, at(1), LEASE_MS)).toEqual({ kind: "lost", current: takenOver });
    expect(decideRenew(record({ released: true }), lease, at(1), LEASE_MS)).toMatchObject({ kind: "lost" });
    expect(decideRenew(null, lease, at(1), LEASE_MS)).toEqual({ kind: "lost", current: null });
    // Expired, but nobody took it: the token is still the newest.
    expect(decideRenew(lease, lease, at(60_000), LEASE_MS)).toMatchObject({ kind: "renewed" });
  });

  it("release marks the owner's tenure released at now and never touches another's lease", () => {
    const lease = record();
    expect(decideRelease(lease, lease, at(1))).toEqual({ ...lease, released: true, expiresAt: at(1) });
    expect(decideRelease(record({ owner: "b", token: 4 }), lease, at(1))).toBeNull();
  });

  it("the fence admits a write only under the stored, unreleased token", () => {
    expect(fenceAdmits(record(), 3)).toBe(true);
    expect(fenceAdmits(record({ expiresAt: at(-1) }), 3)).toBe(true);
    expect(fenceAdmits(record(), 2)).toBe(false);
    expect(fenceAdmits(record({ released: true }), 3)).toBe(false);
    expect(fenceAdmits(null, 1)).toBe(false);
    expect(fenceAdmits(record(), null)).toBe(false);
  });

  it("LeaseLostError names the session, the token held and the new owner and token", () => {
    const error = new LeaseLostError("s", "a", 3, record({ owner: "b", token: 4 }));
    expect(error.code).toBe("SESSION.LEASE_LOST");
    expect(error.message).toBe(
      "lease of session s lost: instance a held token 3, the lease is now held by b with token 4",
    );
    expect(new LeaseLostError("s", "a", null, null).message).toContain("a holds no lease, there is no lease");
  });

  it("property: whatever happens, the stored token never goes back and each takeover adds exactly one", () => {
    const step = fc.record({
      who: fc.constantFrom("a", "b", "c"),
      kind: fc.constantFrom("acquire", "renew", "release"),
      wait: fc.integer({ min: 0, max: 2 * LEASE_MS }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let stored: LeaseRecord | null = null;
        let now = 0;
        for (const { who, kind, wait } of steps) {
          now += wait;
          const before = stored?.token ?? 0;
          if (kind === "acquire") {
            const decision = decideAcquire(stored, "s", who, at(now), LEASE_MS);
            if (decision.kind === "acquired") {
              expect(decision.record.token).toBe(decision.tookOver ? before + 1 : before);
              stored = decision.record;
            }
          } else if (stored !== null) {
            // A caller holding the current tenure under its own name, if it is `who`'s.
            const lease: LeaseRecord = { ...stored, owner: who };
            if (kind === "renew") {
              const decision = decideRenew(stored, lease, at(now), LEASE_MS);
              if (decision.kind === "renewed") stored = decision.record;
            } else stored = decideRelease(stored, lease, at(now)) ?? stored;
          }
          expect(stored?.token ?? 0).toBeGreaterThanOrEqual(before);
        }
      }),
    );
  });
});
