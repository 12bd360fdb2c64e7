import type { Logger } from "../../../domain/ports/logger.port.ts";
import { CorruptEntryError, type SessionStore, type StoredValue } from "../../../domain/ports/session-store.port.ts";
import { initAuthCreds, proto } from "@whiskeysockets/baileys";
import type { AuthenticationCreds, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from "@whiskeysockets/baileys";
import { CREDS_KEY, type SessionWrites } from "./session-writes.ts";
import { reviveBuffers, toStoredValue } from "./stored-values.ts";

/**
 * Store key of one Signal key: `<type>-<id>` (`pre-key-12`, `session-123.0`,
 * `lid-mapping-123_reverse`), the names `useMultiFileAuthState` uses before
 * it escapes them into file names. The store takes any characters.
 */
export function signalKeyName(type: keyof SignalDataTypeMap, id: string): string {
  return `${type}-${id}`;
}

/** A session's login as Baileys wants it, backed by a SessionStore. */
export interface StoreAuthState {
  readonly creds: AuthenticationCreds;
  readonly keys: SignalKeyStore;
  /** Whether the creds were made just now because the store had none (a new login: QR or pairing code). */
  readonly isNew: boolean;
  /** Saves the whole creds object (call after Baileys merged a creds.update into it). */
  saveCreds(): void;
  /**
   * Drops every later write of this auth state: the login is gone (logged
   * out) and about to be wiped, and a late write must not bring it back.
   */
  seal(): void;
  /** Whether `seal()` was called: writes of the login's other state (see ChatAddressing) stop too. */
  isSealed(): boolean;
}

/**
 * Loads a session's login from the store. No `creds` key means a new login:
 * fresh creds from `initAuthCreds()`, written on the first creds.update.
 * @throws CorruptEntryError when the creds entry is unreadable or is not a
 * creds object: a corrupt login is never replaced by a fresh one.
 */
export async function loadAuthState(
  store: SessionStore,
  writes: SessionWrites,
  logger: Logger,
): Promise<StoreAuthState> {
  const { session } = writes;
  const stored = (await store.getMany(session, [CREDS_KEY])).get(CREDS_KEY);
  const creds = stored === undefined ? initAuthCreds() : reviveCreds(store, session, stored);
  if (creds.me && !creds.account) {
    // A pairing-code request stores `me` before the phone confirms; logging in
    // with such half-made creds fails, so the next connection registers again.
    logger.info({ session }, "baileys: stored login never finished linking; starting a new registration");
    delete creds.me;
  }
  let sealed = false;
  const keys: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const names = ids.map((id) => signalKeyName(type, id));
      const found = await store.getMany(session, names);
      const result: { [id: string]: SignalDataTypeMap[T] } = {};
      ids.forEach((id, i) => {
        const value = found.get(names[i]!);
        if (value === undefined || value === null) return;
        const revived = reviveBuffers(value);
        result[id] = (
          type === "app-state-sync-key"
            ? proto.Message.AppStateSyncKeyData.fromObject(revived as Record<string, unknown>)
            : revived
        ) as SignalDataTypeMap[T];
      });
      return result;
    },
    async set(data: SignalDataSet) {
      const entries = new Map<string, StoredValue | null>();
      for (const [type, values] of Object.entries(data)) {
        for (const [id, value] of Object.entries(values ?? {})) {
          entries.set(
            signalKeyName(type as keyof SignalDataTypeMap, id),
            value === null || value === undefined ? null : toStoredValue(value),
          );
        }
      }
      if (entries.size === 0) return;
      if (sealed) {
        logger.debug({ session, keys: entries.size }, "baileys: key write after logout dropped");
        return;
      }
      // One call for the whole set: Baileys commits a transaction with one
      // keys.set, and the store makes each call atomic.
      await writes.track(store.setMany(session, entries));
    },
  };
  return {
    creds,
    keys,
    isNew: stored === undefined,
    saveCreds: () => {
      if (!sealed) writes.saveCreds(creds);
    },
    seal: () => {
      sealed = true;
      writes.dropPendingCreds();
    },
    isSealed: () => sealed,
  };
}

function reviveCreds(store: SessionStore, session: string, stored: StoredValue): AuthenticationCreds {
  const creds = reviveBuffers(stored) as Partial<AuthenticationCreds> | null;
  const keyPairOk = (pair: unknown): boolean =>
    typeof pair === "object" &&
    pair !== null &&
    Buffer.isBuffer((pair as { private?: unknown }).private) &&
    Buffer.isBuffer((pair as { public?: unknown }).public);
  if (
    typeof creds !== "object" ||
    creds === null ||
    Array.isArray(creds) ||
    !keyPairOk(creds.noiseKey) ||
    !keyPairOk(creds.signedIdentityKey) ||
    typeof creds.registrationId !== "number" ||
    typeof creds.advSecretKey !== "string"
  ) {
    throw new CorruptEntryError(
      session,
      CREDS_KEY,
      `${store.kind} session store (left in place)`,
      "the creds entry is not a Baileys creds object",
    );
  }
  return creds as AuthenticationCreds;
}
