import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/domain/ports/clock.port.ts";
import type { InstanceRegistry } from "../../src/domain/ports/instance-registry.port.ts";
import type { SessionLease } from "../../src/domain/ports/session-lease.port.ts";
import { LeaseLostError, type Lease } from "../../src/domain/session-lease.ts";
import { ManualClock } from "../fakes/manual-clock.ts";

/**
 * A lease backend under test. Each call of `contenders` (or `registries`)
 * makes instances that share one fresh backing store (a table, a Firestore
 * collection) and read time from `clock`.
 */
export interface SessionLeaseContractSubject {
  contenders(ids: readonly string[], leaseMs: number, clock: Clock): SessionLease[];
  registries(ids: readonly string[], ttlMs: number, clock: Clock): InstanceRegistry[];
  dispose(): Promise<void>;
}

const LEASE_MS = 15_000;
let sessionCounter = 0;
const freshSession = () => `lease-${process.pid}-${++sessionCounter}`;

/** The one SessionLease (and InstanceRegistry) contract, run against every adapter. */
export function runSessionLeaseContract(name: string, make: () => Promise<SessionLeaseContractSubject>): void {
  describe(`SessionLease contract: ${name}`, () => {
    let subject: SessionLeaseContractSubject;
    let clock: ManualClock;
    const opened: Array<SessionLease | InstanceRegistry> = [];
    const contenders = (...ids: string[]) => {
      const made = subject.contenders(ids, LEASE_MS, clock);
      opened.push(...made);
      return made;
    };

    beforeAll(async () => {
      subject = await make();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((instance) => instance.close()));
    });
    afterAll(async () => {
      await subject?.dispose();
    });
    // Each test starts its own clock: time only moves when a test moves it.
    const start = () => (clock = new ManualClock(new Date("2026-01-01T00:00:00Z")));

    it("takes a free lease with token 1, expiring SESSION_LEASE_MS from now, and knows its token", async () => {
      start();
      const [a] = contenders("a");
      const session = freshSession();
      expect(await a!.holder(session)).toBeNull();
      expect(a!.heldToken(session)).toBeNull();
      const outcome = await a!.acquire(session);
      expect(outcome).toEqual({
        acquired: true,
        tookOver: true,
        lease: { session, owner: "a", token: 1, expiresAt: new Date(clock.now().getTime() + LEASE_MS) },
      });
      expect(a!.heldToken(session)).toBe(1);
      expect(await a!.holder(session)).toMatchObject({ session, owner: "a", token: 1, released: false });
    });

    it("acquiring a lease it holds extends it with the same token", async () => {
      start();
      const [a] = contenders("a");
      const session = freshSession();
      await a!.acquire(session);
      clock.advance(5_000);
      const again = await a!.acquire(session);
      expect(again).toMatchObject({ acquired: true, tookOver: false, lease: { token: 1 } });
      expect(again.acquired && again.lease.expiresAt).toEqual(new Date(clock.now().getTime() + LEASE_MS));
    });

    it("two contenders at once: exactly one wins, the other is told who holds it", async () => {
      start();
      const [a, b] = contenders("a", "b");
      const session = freshSession();
      const outcomes = await Promise.all([a!.acquire(session), b!.acquire(session)]);
      const winners = outcomes.filter((o) => o.acquired);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.acquired ? winners[0]!.lease.owner : "";
      const loser = outcomes.find((o) => !o.acquired)!;
      expect(loser).toMatchObject({ acquired: false, holder: { owner: winner, token: 1 } });
      expect([a!.heldToken(session), b!.heldToken(session)].sort()).toEqual([1, null]);
    });

    it("three contenders race at every expiry: one winner per round and tokens 1, 2, 3, ... with no gap", async () => {
      start();
      const all = contenders("a", "b", "c");
      const session = freshSession();
      const tokens: number[] = [];
      for (let round = 0; round < 4; round++) {
        const outcomes = await Promise.all(all.map((instance) => instance.acquire(session)));
        const won = outcomes.flatMap((o) => (o.acquired ? [o.lease] : []));
        expect(won).toHaveLength(1);
        tokens.push(won[0]!.token);
        for (const o of outcomes) if (!o.acquired) expect(o.holder).toMatchObject({ owner: won[0]!.owner });
        clock.advance(LEASE_MS);
      }
      expect(tokens).toEqual([1, 2, 3, 4]);
    });

    it("a lease is not taken before SESSION_LEASE_MS; at expiry another instance takes it over with token + 1", async () => {
      start();
      const [a, b] = contenders("a", "b");
      const session = freshSession();
      await a!.acquire(session);
      clock.advance(LEASE_MS - 1);
      expect(await b!.acquire(session)).toMatchObject({ acquired: false, holder: { owner: "a", token: 1 } });
      clock.advance(1);
      expect(await b!.acquire(session)).toMatchObject({
        acquired: true,
        tookOver: true,
        lease: { owner: "b", token: 2 },
      });
      expect(b!.heldToken(session)).toBe(2);
    });

    it("a paused owner (no renewal) loses the lease; its renew is refused naming the new owner and token", async () => {
      start();
      const [a, b] = contenders("a", "b");
      const session = freshSession();
      const first = await a!.acquire(session);
      const lease = first.acquired ? first.lease : undefined;
      clock.advance(LEASE_MS + 1_000);
      await b!.acquire(session);
      const refused = await a!.renew(lease!).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(LeaseLostError);
      const lost = refused as LeaseLostError;
      expect(lost.code).toBe("SESSION.LEASE_LOST");
      expect(lost).toMatchObject({ session, instance: "a", heldToken: 1, current: { owner: "b", token: 2 } });
      expect(lost.message).toContain("held by b with token 2");
      expect(a!.heldToken(session)).toBeNull();
      // Its release changes nothing either: the lease is b's.
      expect(await a!.release(lease!)).toBe(false);
      expect(await b!.holder(session)).toMatchObject({ owner: "b", token: 2, released: false });
    });

    it("renewal extends from now with the token kept, also past expiry when nobody took the lease", async () => {
      start();
      const [a] = contenders("a");
      const session = freshSession();
      const first = await a!.acquire(session);
      clock.advance(10_000);
      const renewed = await a!.renew(first.acquired ? first.lease : (undefined as never));
      expect(renewed).toMatchObject({ owner: "a", token: 1, expiresAt: new Date(clock.now().getTime() + LEASE_MS) });
      clock.advance(LEASE_MS * 3);
      expect(await a!.renew(renewed)).toMatchObject({ token: 1 });
    });

    it("release hands over at once: another instance takes it without waiting, token + 1", async () => {
      start();
      const [a, b] = contenders("a", "b");
      const session = freshSession();
      const first = await a!.acquire(session);
      const lease = first.acquired ? first.lease : (undefined as never);
      expect(await b!.acquire(session)).toMatchObject({ acquired: false });
      expect(await a!.release(lease)).toBe(true);
      expect(a!.heldToken(session)).toBeNull();
      expect(await a!.holder(session)).toMatchObject({ owner: "a", token: 1, released: true });
      expect(await b!.acquire(session)).toMatchObject({
        acquired: true,
        tookOver: true,
        lease: { owner: "b", token: 2 },
      });
      await expect(a!.renew(lease)).rejects.toMatchObject({ code: "SESSION.LEASE_LOST" });
    });

    it("a renewal after its own release is refused, and taking the lease again starts a new tenure", async () => {
      start();
      const [a] = contenders("a");
      const session = freshSession();
      const first = await a!.acquire(session);
      const lease = first.acquired ? first.lease : (undefined as never);
      await a!.release(lease);
      const refused = await a!.renew(lease).catch((error: unknown) => error as LeaseLostError);
      expect(refused).toBeInstanceOf(LeaseLostError);
      expect((refused as LeaseLostError).message).toContain("released by a at token 1");
      expect(await a!.acquire(session)).toMatchObject({ acquired: true, tookOver: true, lease: { token: 2 } });
    });

    it("lists every lease, released and expired ones included", async () => {
      start();
      const [a, b] = contenders("a", "b");
      const [s1, s2, s3] = [freshSession(), freshSession(), freshSession()];
      await a!.acquire(s1);
      const second = await b!.acquire(s2);
      await b!.release(second.acquired ? second.lease : (undefined as never));
      await a!.acquire(s3);
      clock.advance(LEASE_MS);
      const listed = await b!.leases();
      expect(listed.map((l) => [l.session, l.owner, l.token, l.released])).toEqual(
        [
          [s1, "a", 1, false],
          [s2, "b", 1, true],
          [s3, "a", 1, false],
        ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
      );
    });

    it("under any sequence of acquire, renew, release and time, at most one instance holds a live lease and tokens never go back", async () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant("acquire" as const), who: fc.nat(2) }),
        fc.record({ kind: fc.constant("renew" as const), who: fc.nat(2) }),
        fc.record({ kind: fc.constant("release" as const), who: fc.nat(2) }),
        fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: LEASE_MS * 1.5 }) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          start();
          const all = contenders("a", "b", "c");
          const session = freshSession();
          // What each instance believes it holds (its latest lease), as a caller would keep it.
          const believed: Array<Lease | null> = [null, null, null];
          let highest = 0;
          for (const step of ops) {
            if (step.kind === "wait") clock.advance(step.ms);
            else if (step.kind === "acquire") {
              const outcome = await all[step.who]!.acquire(session);
              if (outcome.acquired) {
                expect(outcome.lease.token).toBe(outcome.tookOver ? highest + 1 : highest);
                believed[step.who] = outcome.lease;
              }
            } else if (believed[step.who] !== null) {
              const lease = believed[step.who]!;
              if (step.kind === "release") {
                await all[step.who]!.release(lease);
                believed[step.who] = null;
              } else {
                believed[step.who] = await all[step.who]!.renew(lease).catch((error: unknown) => {
                  expect(error).toBeInstanceOf(LeaseLostError);
                  return null;
                });
              }
            }
            const stored = await all[0]!.holder(session);
            expect(stored?.token ?? 0).toBeGreaterThanOrEqual(highest);
            highest = stored?.token ?? 0;
            const live = believed.filter((l) => l !== null && l.expiresAt.getTime() > clock.now().getTime());
            expect(live.length).toBeLessThanOrEqual(1);
            if (live.length === 1) expect(live[0]!.token).toBe(highest);
          }
          await Promise.all(opened.splice(0).map((instance) => instance.close()));
        }),
        { numRuns: 15 },
      );
    });

    it("registry: heartbeats keep instances live, expiry drops a silent one, leave drops one at once", async () => {
      start();
      const made = subject.registries(["i-3", "i-1", "i-2"], LEASE_MS, clock);
      opened.push(...made);
      const [r3, r1, r2] = made;
      expect(await r1!.live()).toEqual([]);
      await Promise.all(made.map((r) => r.heartbeat()));
      expect(await r1!.live()).toEqual(["i-1", "i-2", "i-3"]);
      clock.advance(LEASE_MS - 1);
      await r1!.heartbeat();
      await r2!.heartbeat();
      clock.advance(1);
      expect(await r3!.live()).toEqual(["i-1", "i-2"]);
      await r2!.leave();
      expect(await r3!.live()).toEqual(["i-1"]);
      await r3!.heartbeat();
      expect(await r1!.live()).toEqual(["i-1", "i-3"]);
    });
  });
}
