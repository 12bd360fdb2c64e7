import type { CollectionReference, Firestore, Transaction } from "firebase-admin/firestore";
import type { Route } from "../../../domain/message.ts";
import type { SessionLease } from "../../../domain/ports/session-lease.port.ts";
import { fenceAdmits, LeaseLostError } from "../../../domain/session-lease.ts";
import { DEFAULT_LEASES_COLLECTION, leaseFromSnapshot } from "../../shared/firestore/lease-document.ts";

/**
 * Fencing for the writes a session's owner makes to its queue (claims and
 * attempt outcomes): each such transaction also reads the session's lease
 * document (the one the Firestore SessionLease keeps, `{leases}/{session}`)
 * and commits only while it holds the token this instance holds. An owner
 * that was paused and wakes after another instance took the session over (a
 * larger token) can then neither hand out a message again nor record an
 * outcome over the new owner's.
 */
export interface SessionFencing {
  /** The instance's leases: its id and the token it holds per session (the SessionLease port). */
  readonly holder: Pick<SessionLease, "instanceId" | "heldToken">;
  /** Collection of the lease documents; default `leases`, the Firestore SessionLease's. */
  readonly leasesCollection?: string;
}

export class SessionFence {
  readonly #leases: CollectionReference;
  readonly #fencing: SessionFencing;

  constructor(db: Firestore, fencing: SessionFencing) {
    this.#leases = db.collection(fencing.leasesCollection ?? DEFAULT_LEASES_COLLECTION);
    this.#fencing = fencing;
  }

  /**
   * Reads the route's lease in `tx` (before any write of it) and throws
   * LeaseLostError unless it still holds the token this instance holds; the
   * transaction then writes nothing, and a token that changed after the read
   * aborts and retries it.
   */
  async check(tx: Transaction, route: Route): Promise<void> {
    const held = this.#fencing.holder.heldToken(route.session);
    const current = leaseFromSnapshot(await tx.get(this.#leases.doc(route.session)));
    if (!fenceAdmits(current, held))
      throw new LeaseLostError(route.session, this.#fencing.holder.instanceId, held, current);
  }
}
