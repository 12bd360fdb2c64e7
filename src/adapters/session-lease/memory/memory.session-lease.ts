import { systemClock, type Clock } from "../../../domain/ports/clock.port.ts";
import type { AcquireOutcome, SessionLease } from "../../../domain/ports/session-lease.port.ts";
import {
  decideAcquire,
  decideRelease,
  decideRenew,
  LeaseLostError,
  type Lease,
  type LeaseRecord,
} from "../../../domain/session-lease.ts";
import { HeldTokens, leaseOf } from "../shared/held-tokens.ts";

/**
 * The leases themselves, shared by every {@link MemorySessionLease} of one
 * process: what Firestore is to the Firestore adapter. One process has one
 * instance; tests give several instances one table to make them contend.
 */
export class MemoryLeaseTable {
  readonly records = new Map<string, LeaseRecord>();
}

export interface MemorySessionLeaseOptions {
  readonly instanceId: string;
  readonly leaseMs: number;
  /** Default: a fresh table (a single process). */
  readonly table?: MemoryLeaseTable;
  readonly clock?: Clock;
}

/**
 * Session leases in memory: for one process (which then owns every session)
 * and for tests. Each call is atomic because it runs to completion without
 * awaiting anything.
 */
export class MemorySessionLease implements SessionLease {
  readonly instanceId: string;
  readonly leaseMs: number;
  private readonly table: MemoryLeaseTable;
  private readonly clock: Clock;
  private readonly held = new HeldTokens();

  constructor(options: MemorySessionLeaseOptions) {
    this.instanceId = options.instanceId;
    this.leaseMs = options.leaseMs;
    this.table = options.table ?? new MemoryLeaseTable();
    this.clock = options.clock ?? systemClock;
  }

  heldToken(session: string): number | null {
    return this.held.token(session);
  }

  async acquire(session: string): Promise<AcquireOutcome> {
    await Promise.resolve();
    const decision = decideAcquire(
      this.table.records.get(session) ?? null,
      session,
      this.instanceId,
      this.clock.now(),
      this.leaseMs,
    );
    if (decision.kind === "held") return { acquired: false, holder: decision.record };
    this.table.records.set(session, decision.record);
    this.held.set(decision.record);
    return { acquired: true, lease: leaseOf(decision.record), tookOver: decision.tookOver };
  }

  async renew(lease: Lease): Promise<Lease> {
    await Promise.resolve();
    const decision = decideRenew(this.table.records.get(lease.session) ?? null, lease, this.clock.now(), this.leaseMs);
    if (decision.kind === "lost") {
      this.held.drop(lease);
      throw new LeaseLostError(lease.session, this.instanceId, lease.token, decision.current);
    }
    this.table.records.set(lease.session, decision.record);
    this.held.set(decision.record);
    return leaseOf(decision.record);
  }

  async release(lease: Lease): Promise<boolean> {
    await Promise.resolve();
    this.held.drop(lease);
    const released = decideRelease(this.table.records.get(lease.session) ?? null, lease, this.clock.now());
    if (released === null) return false;
    this.table.records.set(lease.session, released);
    return true;
  }

  async holder(session: string): Promise<LeaseRecord | null> {
    await Promise.resolve();
    return this.table.records.get(session) ?? null;
  }

  async leases(): Promise<LeaseRecord[]> {
    await Promise.resolve();
    return [...this.table.records.values()].sort((a, b) => (a.session < b.session ? -1 : 1));
  }

  async close(): Promise<void> {}
}
