import type { CollectionReference, Firestore, Transaction } from "firebase-admin/firestore";
import type { SessionLease } from "../../../domain/ports/session-lease.port.ts";
import { fenceAdmits, LeaseLostError } from "../../../domain/session-lease.ts";
import { DEFAULT_LEASES_COLLECTION, leaseFromSnapshot } from "../../shared/firestore/lease-document.ts";

/** Cluster mode: whose writes the store makes, and where the leases are. */
export interface FirestoreFencingOptions {
  /** The instance's leases: its id and the token it holds per session (the SessionLease port). */
  readonly holder: Pick<SessionLease, "instanceId" | "heldToken">;
  /** Collection of the lease documents; default `leases`, the Firestore SessionLease's. */
  readonly leasesCollection?: string;
}

/**
 * The check of one write, with the writer's token taken when the write was
 * asked for: it reads the session's lease document inside the write's own
 * transaction (before any of its writes) and throws LeaseLostError unless
 * the lease still holds that token. Firestore then commits the write only if
 * the lease document is unchanged at commit, so a takeover either happens
 * before the write (refused) or after it (the write was the old owner's to
 * make).
 */
export type FenceCheck = (tx: Transaction) => Promise<void>;

/** Fencing of a Firestore session store's writes by session leases. */
export class FirestoreFence {
  private readonly leases: CollectionReference;

  constructor(
    db: Firestore,
    private readonly options: FirestoreFencingOptions,
  ) {
    this.leases = db.collection(options.leasesCollection ?? DEFAULT_LEASES_COLLECTION);
  }

  /** The check for a write for `session` made now, under the token held now. */
  checkFor(session: string): FenceCheck {
    const token = this.options.holder.heldToken(session);
    const ref = this.leases.doc(session);
    return async (tx) => {
      const current = leaseFromSnapshot(await tx.get(ref));
      if (!fenceAdmits(current, token)) {
        throw new LeaseLostError(session, this.options.holder.instanceId, token, current);
      }
    };
  }
}
