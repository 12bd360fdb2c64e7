import type { Lease } from "../../../domain/session-lease.ts";

/**
 * The tokens one instance acts under, by session: set by every lease it
 * takes or renews, dropped when it releases or learns it lost one. A fenced
 * store reads it on every write, so it answers from memory.
 */
export class HeldTokens {
  private readonly tokens = new Map<string, number>();

  token(session: string): number | null {
    return this.tokens.get(session) ?? null;
  }

  set(lease: Lease): void {
    this.tokens.set(lease.session, lease.token);
  }

  /** Forgets `lease`'s token, unless a newer tenure of the session replaced it already. */
  drop(lease: Lease): void {
    if (this.tokens.get(lease.session) === lease.token) this.tokens.delete(lease.session);
  }
}

/** Just the lease of a stored record (without `released`). */
export function leaseOf(record: Lease): Lease {
  return { session: record.session, owner: record.owner, token: record.token, expiresAt: record.expiresAt };
}
