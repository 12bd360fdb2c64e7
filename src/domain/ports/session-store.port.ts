import { injectionToken, type InjectionToken } from "../injection-token.ts";

/**
 * How much of the logins the gateway keeps in Firestore besides its embedded store
 * (FIRESTORE_AUTH_STATE_MODE): nothing, the credentials only, or every key.
 */
export const FirestoreAuthStateModes = ["off", "creds_only", "full"] as const;
export type FirestoreAuthStateMode = (typeof FirestoreAuthStateModes)[number];

/**
 * Values a session store keeps: JSON-like data in which any leaf may be
 * binary. Binary leaves come back as `Uint8Array` (a `Buffer` is one).
 */
export type StoredValue =
  null | boolean | number | string | Uint8Array | readonly StoredValue[] | { readonly [key: string]: StoredValue };

/**
 * A per-session, binary-safe key-value store for provider logins. It knows
 * nothing of any provider: keys are opaque strings (at most 512 characters,
 * any characters).
 */
export interface SessionStore {
  /** The storage technology, for logs, metrics and health (`sqlite`, `firestore`). */
  readonly kind: string;

  /**
   * Reads the given keys of one session; a missing key is absent from the result.
   * @throws CorruptEntryError when a stored entry exists but cannot be decoded:
   * an unreadable login is never reported as an absent one.
   */
  getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>>;

  /**
   * Writes several keys of one session at once; `null` deletes a key. The call
   * is atomic: after a crash either every entry is written or none is.
   */
  setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void>;

  /**
   * Every key of one session with its value (a restore or a migration reads this).
   * @throws CorruptEntryError like {@link SessionStore.getMany}.
   */
  entries(session: string): Promise<Map<string, StoredValue>>;

  /** Deletes every key of one session. */
  clear(session: string): Promise<void>;

  /** The sessions that hold at least one key. */
  listSessions(): Promise<string[]>;

  /** Health of the backing storage: `ok`, or `degraded` with a reason. */
  health(): StoreHealth;

  close(): Promise<void>;
}

export interface StoreHealth {
  readonly status: "ok" | "degraded";
  readonly detail?: string;
}

/**
 * A stored entry exists but cannot be decoded (truncated or corrupt file,
 * undecodable document). The store has kept the bad copy aside at `location`
 * (never deleted it) and logged it; the caller must not treat the key as
 * absent: a provider login whose credentials are unreadable goes to
 * `needs_attention`, it does not start over with fresh credentials.
 */
export class CorruptEntryError extends Error {
  override readonly name = "CorruptEntryError";
  readonly code = "SESSION_STORE.CORRUPT_ENTRY";
  constructor(
    readonly session: string,
    /** The key, or `null` when the store's own bookkeeping for the session is unreadable. */
    readonly key: string | null,
    /** Where the bad copy was kept (a file path, a document path). */
    readonly location: string,
    readonly detail: string,
  ) {
    super(
      `session store entry ${key === null ? "(index)" : JSON.stringify(key)} of session ${session} is corrupt (${detail}); kept at ${location}`,
    );
  }
}

export const SessionStore: InjectionToken<SessionStore> = injectionToken("SessionStore");
