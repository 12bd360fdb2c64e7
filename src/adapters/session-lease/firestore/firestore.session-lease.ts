import type { CollectionReference, DocumentReference } from "firebase-admin/firestore";
import { systemClock, type Clock } from "../../../domain/ports/clock.port.ts";
import type { AcquireOutcome, SessionLease } from "../../../domain/ports/session-lease.port.ts";
import {
  decideAcquire,
  decideRelease,
  decideRenew,
  LeaseLostError,
  type AcquireDecision,
  type Lease,
  type LeaseRecord,
  type RenewDecision,
} from "../../../domain/session-lease.ts";
import { isValidSessionId } from "../../../domain/session.ts";
import { openFirestoreClient, type FirestoreClient } from "../../shared/firestore/firestore-client.ts";
import {
  DEFAULT_LEASES_COLLECTION,
  leaseFromSnapshot,
  leaseToDocument,
} from "../../shared/firestore/lease-document.ts";
import { HeldTokens, leaseOf } from "../shared/held-tokens.ts";

export interface FirestoreSessionLeaseOptions {
  readonly projectId: string;
  readonly emulatorHost?: string;
  readonly instanceId: string;
  readonly leaseMs: number;
  /** Collection of the lease documents; default `leases`. */
  readonly collection?: string;
  /**
   * Decides expiry. Instances compare their own clocks with the expiry another
   * instance wrote, so clocks must agree to well within `leaseMs` (NTP).
   */
  readonly clock?: Clock;
}

/**
 * Session leases in Firestore: one document per session,
 * `leases/{session}` (see `lease-document.ts`), changed only inside a
 * transaction that reads it first, so two instances racing for one lease
 * are serialised by Firestore and exactly one wins. The rules are the
 * domain's; this class reads, decides and writes.
 */
export class FirestoreSessionLease implements SessionLease {
  readonly instanceId: string;
  readonly leaseMs: number;
  private readonly client: FirestoreClient;
  private readonly leasesRef: CollectionReference;
  private readonly clock: Clock;
  private readonly held = new HeldTokens();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: FirestoreSessionLeaseOptions) {
    this.instanceId = options.instanceId;
    this.leaseMs = options.leaseMs;
    this.client = openFirestoreClient({
      projectId: options.projectId,
      purpose: "session-lease",
      ...(options.emulatorHost !== undefined ? { emulatorHost: options.emulatorHost } : {}),
    });
    this.leasesRef = this.client.db.collection(options.collection ?? DEFAULT_LEASES_COLLECTION);
    this.clock = options.clock ?? systemClock;
  }

  heldToken(session: string): number | null {
    return this.held.token(session);
  }

  acquire(session: string): Promise<AcquireOutcome> {
    return this.track(async () => {
      const ref = this.leaseRef(session);
      const decision = await this.client.db.runTransaction<AcquireDecision>(async (tx) => {
        const decided = decideAcquire(
          leaseFromSnapshot(await tx.get(ref)),
          session,
          this.instanceId,
          this.clock.now(),
          this.leaseMs,
        );
        if (decided.kind === "acquired") tx.set(ref, leaseToDocument(decided.record));
        return decided;
      });
      if (decision.kind === "held") return { acquired: false, holder: decision.record };
      this.held.set(decision.record);
      return { acquired: true, lease: leaseOf(decision.record), tookOver: decision.tookOver };
    });
  }

  renew(lease: Lease): Promise<Lease> {
    return this.track(async () => {
      const ref = this.leaseRef(lease.session);
      const decision = await this.client.db.runTransaction<RenewDecision>(async (tx) => {
        const decided = decideRenew(leaseFromSnapshot(await tx.get(ref)), lease, this.clock.now(), this.leaseMs);
        if (decided.kind === "renewed") tx.set(ref, leaseToDocument(decided.record));
        return decided;
      });
      if (decision.kind === "lost") {
        this.held.drop(lease);
        throw new LeaseLostError(lease.session, this.instanceId, lease.token, decision.current);
      }
      this.held.set(decision.record);
      return leaseOf(decision.record);
    });
  }

  release(lease: Lease): Promise<boolean> {
    return this.track(async () => {
      // Dropped first: from here on this instance's fenced writes for the session are refused.
      this.held.drop(lease);
      const ref = this.leaseRef(lease.session);
      return this.client.db.runTransaction(async (tx) => {
        const released = decideRelease(leaseFromSnapshot(await tx.get(ref)), lease, this.clock.now());
        if (released === null) return false;
        tx.set(ref, leaseToDocument(released));
        return true;
      });
    });
  }

  holder(session: string): Promise<LeaseRecord | null> {
    return this.track(async () => leaseFromSnapshot(await this.leaseRef(session).get()));
  }

  leases(): Promise<LeaseRecord[]> {
    return this.track(async () => {
      const snaps = (await this.leasesRef.get()).docs;
      return snaps.map((snap) => leaseFromSnapshot(snap)!).sort((a, b) => (a.session < b.session ? -1 : 1));
    });
  }

  /** Waits for the calls in flight (closing the client under one makes the SDK reject unhandled). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.client.close();
  }

  /** The lease document of a session; its id is the session id, which is checked (a `/` would address another document). */
  private leaseRef(session: string): DocumentReference {
    if (!isValidSessionId(session)) throw new Error(`invalid session id ${JSON.stringify(session.slice(0, 80))}`);
    return this.leasesRef.doc(session);
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const run = work();
    this.inFlight.add(run);
    const forget = () => this.inFlight.delete(run);
    run.then(forget, forget);
    return run;
  }
}
