import type { DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import { DomainError } from "../../../domain/errors.ts";
import type { Route } from "../../../domain/message.ts";

/** The token an instance holds for a session's lease, as the lease document's `token` field stores it. */
export type FenceToken = string | number;

/**
 * Fencing for the writes a session's owner makes to its queue (claims and
 * attempt outcomes): each such transaction also reads the session's lease
 * document and commits only while its `token` is the one this instance
 * holds. An owner that was paused and wakes after another instance took the
 * session over (a new lease, a larger token) can then neither hand out a
 * message again nor record an outcome over the new owner's.
 */
export interface SessionFencing {
  /** Collection of lease documents, one per route, named `{provider}:{session}` (default `leases`). */
  readonly leases?: string;
  /** The token this instance holds for the route's lease; undefined when it holds none. */
  tokenFor(route: Route): FenceToken | undefined;
}

export class SessionFence {
  readonly #db: Firestore;
  readonly #fencing: SessionFencing;

  constructor(db: Firestore, fencing: SessionFencing) {
    this.#db = db;
    this.#fencing = fencing;
  }

  leaseRef(route: Route): DocumentReference {
    return this.#db.collection(this.#fencing.leases ?? "leases").doc(`${route.provider}:${route.session}`);
  }

  /**
   * Reads the route's lease in `tx` (before any write of it) and throws
   * `SESSION.LEASE_LOST` unless the lease exists and its `token` equals the
   * one this instance holds; the transaction then writes nothing, and a
   * token that changed after the read aborts and retries it.
   */
  async check(tx: Transaction, route: Route): Promise<void> {
    const held = this.#fencing.tokenFor(route);
    const lease = await tx.get(this.leaseRef(route));
    const current: unknown = lease.exists ? lease.get("token") : undefined;
    if (held === undefined || current !== held) {
      throw new DomainError(
        "SESSION.LEASE_LOST",
        `session ${route.provider}:${route.session} is leased by another instance (token ${String(current)}, ours ${String(held)}): queue write refused`,
      );
    }
  }
}
