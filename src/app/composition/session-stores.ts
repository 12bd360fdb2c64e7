import { join } from "node:path";
import { upgradeDiskSessions } from "../../adapters/session-store/disk-to-sqlite-upgrade.ts";
import { readBaileysFolder, writeBaileysFolder } from "../../adapters/session-store/shared/baileys-folder.ts";
import { SqliteSessionStore } from "../../adapters/session-store/sqlite/sqlite.session-store.ts";
import type { FirestoreSessionStore } from "../../adapters/session-store/firestore/firestore.session-store.ts";
import { TieredSessionStore } from "../../adapters/session-store/tiered/tiered.session-store.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import type { FirestoreAuthStateMode, StoredValue } from "../../domain/ports/session-store.port.ts";

export interface SessionStoreFactoryOptions {
  readonly dataDir: string;
  readonly mode: FirestoreAuthStateMode;
  /** Required unless `mode` is `off`. */
  readonly firestoreProjectId?: string;
  /** `host:port` of an emulator (tests); production leaves it unset. */
  readonly firestoreEmulatorHost?: string;
  readonly firestoreCollection?: string;
  readonly logger?: Logger;
  /** Metrics hook: one call per failed Firestore operation. */
  readonly onError?: (store: string, error: unknown) => void;
  /** Which keys are login credentials (sent to Firestore in `creds_only`). Default `key === "creds"`. */
  readonly isCredsKey?: (key: string) => boolean;
}

/** The embedded store's database file in DATA_DIR. */
export const SESSIONS_DB = "sessions.db";

/**
 * The embedded session store (`<dataDir>/sessions.db`). A data dir written by
 * the earlier file-per-key disk store (`<dataDir>/sessions/`) is upgraded into
 * it first: copied, verified, and the old folder moved aside, with no new QR.
 */
export async function openEmbeddedStore(options: { dataDir: string; logger?: Logger }): Promise<SqliteSessionStore> {
  const store = new SqliteSessionStore({
    path: join(options.dataDir, SESSIONS_DB),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    await upgradeDiskSessions(options.dataDir, store, options.logger);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Reads a folder written by Baileys' `useMultiFileAuthState` (the sessions CLI's import format). */
export function readBaileysAuthFolder(dir: string): Promise<Map<string, StoredValue>> {
  return readBaileysFolder(dir);
}

/** Writes a folder Baileys' `useMultiFileAuthState` opens (the sessions CLI's export format); returns the file count. */
export function writeBaileysAuthFolder(dir: string, entries: ReadonlyMap<string, StoredValue>): Promise<number> {
  return writeBaileysFolder(dir, entries);
}

export interface FirestoreStoreOptions {
  projectId: string;
  emulatorHost?: string;
  collection?: string;
  logger?: Logger;
}

/**
 * The Firestore store. Its module (firebase-admin, gRPC: a few hundred ms to
 * load) is imported only here, so a gateway in mode `off` never loads it.
 */
export async function createFirestoreStore(options: FirestoreStoreOptions): Promise<FirestoreSessionStore> {
  const { FirestoreSessionStore } = await import("../../adapters/session-store/firestore/firestore.session-store.ts");
  return new FirestoreSessionStore(options);
}

/**
 * The session store the gateway runs on, per FIRESTORE_AUTH_STATE_MODE. The
 * tiered store is used in every mode, `off` included: it never touches
 * Firestore there, but it still replays batches an earlier `full` run left
 * in its outbox. Resolves once the store is open (restored from Firestore on
 * an empty disk when Firestore answers; degraded otherwise, never failing).
 */
export async function createSessionStore(options: SessionStoreFactoryOptions): Promise<TieredSessionStore> {
  const { mode, firestoreProjectId } = options;
  if (mode !== "off" && (firestoreProjectId === undefined || firestoreProjectId === "")) {
    throw new Error(`FIRESTORE_AUTH_STATE_MODE=${mode} needs FIRESTORE_PROJECT_ID`);
  }
  const firestore =
    mode === "off"
      ? undefined
      : (await import("../../adapters/session-store/firestore/firestore.session-store.ts")).FirestoreSessionStore;
  const store = new TieredSessionStore({
    mode,
    local: await openEmbeddedStore({ dataDir: options.dataDir, ...(options.logger ? { logger: options.logger } : {}) }),
    remote: () => {
      if (!firestore) throw new Error("Firestore is not used in mode off");
      return new firestore({
        projectId: firestoreProjectId!,
        ...(options.firestoreEmulatorHost ? { emulatorHost: options.firestoreEmulatorHost } : {}),
        ...(options.firestoreCollection ? { collection: options.firestoreCollection } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
    },
    outboxDir: join(options.dataDir, "session-outbox"),
    ...(options.isCredsKey ? { isCredsKey: options.isCredsKey } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  await store.open();
  return store;
}
