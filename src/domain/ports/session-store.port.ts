import { injectionToken, type InjectionToken } from "../injection-token.ts";

/**
 * Values a session store keeps: JSON-like data in which any leaf may be
 * binary. Binary leaves come back as `Uint8Array` (a `Buffer` is one).
 */
export type StoredValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly StoredValue[]
  | { readonly [key: string]: StoredValue };

/**
 * A per-session, binary-safe key-value store for provider logins. It knows
 * nothing of any provider: keys are opaque strings (at most 512 characters,
 * any characters).
 */
export interface SessionStore {
  /** The storage technology, for logs, metrics and health (`disk`, `firestore`). */
  readonly kind: string;

  /** Reads the given keys of one session; a missing key is absent from the result. */
  getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>>;

  /**
   * Writes several keys of one session at once; `null` deletes a key. The call
   * is atomic: after a crash either every entry is written or none is.
   */
  setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void>;

  /** Every key of one session with its value (a restore or a migration reads this). */
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

export const SessionStore: InjectionToken<SessionStore> = injectionToken("SessionStore");
