import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { Lease, LeaseRecord } from "../session-lease.ts";

/**
 * The tokens an instance holds, as its own stores need them: a fenced store
 * stamps every write for a session with this token and refuses the write
 * when the stored lease has moved on. Answers from memory, without I/O.
 */
export interface FencingTokens {
  /** The fencing token this instance acts under for `session`; null when it holds no lease for it. */
  heldToken(session: string): number | null;
}

export type AcquireOutcome =
  | { readonly acquired: true; readonly lease: Lease; readonly tookOver: boolean }
  | { readonly acquired: false; readonly holder: LeaseRecord };

/**
 * Session leases (cluster mode): which instance runs each session, with a
 * fencing token that every write for that session carries. One instance of
 * this port per gateway instance, bound to its `instanceId`; the rules (when
 * a lease is free, who may renew, how tokens grow) are the domain's
 * (`src/domain/session-lease.ts`), the adapter stores the leases and applies
 * the rules atomically.
 */
export interface SessionLease extends FencingTokens {
  /** This instance's id (`INSTANCE_ID`): the `owner` of the leases it takes. */
  readonly instanceId: string;
  /** How long a lease lasts without renewal (`SESSION_LEASE_MS`). */
  readonly leaseMs: number;

  /**
   * Takes the lease of `session` when it is free (none yet, released or
   * expired): a new tenure with the next token (`tookOver`). When this
   * instance holds it already, extends it with the same token. When another
   * instance holds a lease that has not expired, answers who (`acquired: false`).
   */
  acquire(session: string): Promise<AcquireOutcome>;

  /**
   * Extends a lease this instance holds by `leaseMs` from now; call it well
   * within `leaseMs` (a third of it is usual).
   * @throws LeaseLostError (`SESSION.LEASE_LOST`) when the lease is no longer
   * this tenure: taken over (the error names the new owner and token) or
   * released. The instance must then close the session and stop serving it.
   */
  renew(lease: Lease): Promise<Lease>;

  /**
   * Lets go of a lease (graceful stop, hand-over): it is marked released with
   * its token kept, so another instance may take it at once. Call it after
   * the session's socket is closed and its last write landed.
   * @returns false when `lease` was no longer held (nothing was changed).
   */
  release(lease: Lease): Promise<boolean>;

  /** The stored lease of one session (null: never leased). */
  holder(session: string): Promise<LeaseRecord | null>;

  /** Every stored lease (released and expired ones included), by session. */
  leases(): Promise<LeaseRecord[]>;

  close(): Promise<void>;
}

export const SessionLease: InjectionToken<SessionLease> = injectionToken("SessionLease");
