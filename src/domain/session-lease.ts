import { DomainError } from "./errors.ts";

/**
 * The right of one gateway instance to run one session (cluster mode). Only
 * the owner opens the session's socket and writes its login; every such
 * write carries `token`, the fencing token, which a store compares with the
 * lease it holds and refuses when they differ.
 */
export interface Lease {
  readonly session: string;
  /** The instance id (`INSTANCE_ID`) of the owner. */
  readonly owner: string;
  /**
   * The fencing token: 1 for the first tenure of the session, one more on
   * every later one (each time a free lease is taken, by whoever), never
   * lower. A renewal keeps it.
   */
  readonly token: number;
  /** The lease is the owner's until then, unless it renews. */
  readonly expiresAt: Date;
}

/**
 * A lease as stored. A released or expired lease keeps its last owner and
 * token: deleting it would start the tokens over at 1, and a fencing token
 * must never go back.
 */
export interface LeaseRecord extends Lease {
  /** The owner let go (graceful stop, hand-over): anyone may take it at once. */
  readonly released: boolean;
}

/**
 * Whether a lease may be taken by any instance: there is none yet, its owner
 * released it, or it expired (`expiresAt` is not after `now`).
 */
export function isLeaseFree(record: LeaseRecord | null, now: Date): boolean {
  return record === null || record.released || record.expiresAt.getTime() <= now.getTime();
}

export type AcquireDecision =
  /** `instance` holds the lease now; `tookOver`: a new tenure (new token), else a renewal of its own. */
  | { readonly kind: "acquired"; readonly record: LeaseRecord; readonly tookOver: boolean }
  /** Another instance holds a lease that has not expired. */
  | { readonly kind: "held"; readonly record: LeaseRecord };

/**
 * What an attempt by `instance` to take the lease of `session` does. A free
 * lease is taken with the next token; a lease `instance` still holds is
 * extended with its token unchanged; one another instance still holds is
 * left alone.
 */
export function decideAcquire(
  record: LeaseRecord | null,
  session: string,
  instance: string,
  now: Date,
  leaseMs: number,
): AcquireDecision {
  const expiresAt = new Date(now.getTime() + leaseMs);
  if (record !== null && !isLeaseFree(record, now)) {
    if (record.owner !== instance) return { kind: "held", record };
    return { kind: "acquired", record: { ...record, expiresAt }, tookOver: false };
  }
  const token = (record?.token ?? 0) + 1;
  return { kind: "acquired", record: { session, owner: instance, token, expiresAt, released: false }, tookOver: true };
}

export type RenewDecision =
  | { readonly kind: "renewed"; readonly record: LeaseRecord }
  /** The lease is no longer `lease`'s tenure: `current` is what is stored (null: nothing). */
  | { readonly kind: "lost"; readonly current: LeaseRecord | null };

/**
 * Renewal: only the owner, in the tenure of its token, and only while it has
 * not released it. A lease that expired but that nobody took since is
 * renewed: its token is still the newest, so nothing was written by anyone
 * else in between.
 */
export function decideRenew(record: LeaseRecord | null, lease: Lease, now: Date, leaseMs: number): RenewDecision {
  if (!isTenureOf(record, lease)) return { kind: "lost", current: record };
  return { kind: "renewed", record: { ...record, expiresAt: new Date(now.getTime() + leaseMs) } };
}

/**
 * Release: marks the lease released (token kept) so any instance may take it
 * at once. `null` when `lease` no longer holds it: there is nothing to hand
 * over, and someone else's lease is never touched.
 */
export function decideRelease(record: LeaseRecord | null, lease: Lease, now: Date): LeaseRecord | null {
  if (!isTenureOf(record, lease)) return null;
  return { ...record, released: true, expiresAt: now };
}

/**
 * The fencing rule: a write made under `heldToken` may land only while the
 * stored lease is still that tenure and not released. A lease that expired
 * without anyone taking it still admits the write: its token is the newest.
 */
export function fenceAdmits(record: LeaseRecord | null, heldToken: number | null): boolean {
  return record !== null && heldToken !== null && !record.released && record.token === heldToken;
}

function isTenureOf(record: LeaseRecord | null, lease: Lease): record is LeaseRecord {
  return record !== null && !record.released && record.owner === lease.owner && record.token === lease.token;
}

/**
 * This instance no longer holds the lease it acted under: another instance
 * took the session over (a newer token), or the lease was released. Nothing
 * was written; the instance must close the session's socket and stop serving
 * it.
 */
export class LeaseLostError extends DomainError {
  constructor(
    readonly session: string,
    /** The instance that acted. */
    readonly instance: string,
    /** The token it acted under; null when it held no lease for the session. */
    readonly heldToken: number | null,
    /** The lease as stored now (null: there is none). */
    readonly current: LeaseRecord | null,
  ) {
    super("SESSION.LEASE_LOST", describeLoss(session, instance, heldToken, current));
  }
}

function describeLoss(session: string, instance: string, heldToken: number | null, current: LeaseRecord | null) {
  const held = heldToken === null ? "holds no lease" : `held token ${heldToken}`;
  let now: string;
  if (current === null) now = "there is no lease";
  else if (current.released) now = `the lease was released by ${current.owner} at token ${current.token}`;
  else now = `the lease is now held by ${current.owner} with token ${current.token}`;
  return `lease of session ${session} lost: instance ${instance} ${held}, ${now}`;
}
