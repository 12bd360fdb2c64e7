import type { SessionStore, StoredValue } from "../../../domain/ports/session-store.port.ts";

/** A stored value with the session sequence number of the write that produced it. */
export interface Versioned {
  readonly value: StoredValue;
  readonly version: number;
}

/** One conditional write: `value: null` deletes. */
export interface VersionedWrite {
  readonly key: string;
  readonly value: StoredValue | null;
  readonly version: number;
}

/** What a tier knows about one session as a whole. */
export interface TierSessionMeta {
  /** The highest write sequence applied to the session (0 when none). */
  readonly seq: number;
  /**
   * Whether the tier holds every key of the session (a mirror), rather than a
   * subset (only the credentials). An embedded tier (SQLite, disk) is always complete.
   */
  readonly complete: boolean;
}

export interface ApplyOptions {
  /** The session's sequence after this call: `max(current, seq)`. */
  readonly seq: number;
  /**
   * An ordered batch: skip the whole call (return `false`) when the tier has
   * already applied `seq` or anything later. A replayed or delayed batch can
   * then never roll keys back, even a key that a later batch deleted.
   */
  readonly onlyIfNewer?: boolean;
  /** Delete every key whose version is below `seq` before writing (a clear). */
  readonly clear?: boolean;
  /** Sets the tier's "complete" mark for the session. Unset leaves it as is. */
  readonly complete?: boolean;
}

/**
 * A session store that versions its entries, so that two copies can be
 * reconciled without a stale one overwriting a newer one. Every write is
 * conditional per key: it lands only when the stored version of that key is
 * lower than the write's version (an absent key has no version). Each call is
 * atomic like {@link SessionStore.setMany}.
 *
 * The SQLite, disk and Firestore stores implement it; the tiered store composes
 * two of them through this interface only.
 */
export interface VersionedSessionTier extends SessionStore {
  sessionMeta(session: string): Promise<TierSessionMeta>;
  getVersioned(session: string, keys: readonly string[]): Promise<Map<string, Versioned>>;
  entriesVersioned(session: string): Promise<Map<string, Versioned>>;
  /** Returns `false` when `onlyIfNewer` made it skip the whole call. */
  applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean>;
}
