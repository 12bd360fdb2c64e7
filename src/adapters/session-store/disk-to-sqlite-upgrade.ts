import { rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { silentLogger, type Logger } from "../../domain/ports/logger.port.ts";
import { CorruptEntryError } from "../../domain/ports/session-store.port.ts";
import { DiskSessionStore } from "./disk/disk.session-store.ts";
import { keyFromBaileysFileName } from "./shared/baileys-folder.ts";
import { encodeBufferJson } from "./shared/buffer-json.ts";
import type { Versioned, VersionedWrite } from "./shared/versioned-tier.ts";
import type { SqliteSessionStore } from "./sqlite/sqlite.session-store.ts";

export interface UpgradeReport {
  /** Where the old folder was moved. */
  readonly movedTo: string;
  readonly sessions: number;
  readonly keys: number;
  /** Sessions that were already in the database (an earlier run stopped before the move), left as they are. */
  readonly alreadyThere: readonly string[];
  /** Sessions whose old copy was unreadable: marked corrupt in the database (never taken for empty). */
  readonly corrupt: readonly string[];
}

/**
 * Upgrades a data dir written by the file-per-key disk store (before
 * sessions.db): every session in `<dataDir>/sessions/` is copied into the
 * SQLite store with its versions and sequence, in one transaction per
 * session, then read back and compared key by key; once all are verified the
 * old folder is renamed `sessions.migrated-<time>` (kept, never deleted).
 * The disk store reads the folder, so batches its log still held are
 * replayed first, and a folder dropped in from Baileys' `useMultiFileAuthState`
 * is adopted too. A crash midway is harmless: the folder is moved only at
 * the end, and a session found equal in the database is not copied twice.
 * Returns `null` when there is no old folder.
 * @throws when a copy does not read back equal (the folder then stays where it is).
 */
export async function upgradeDiskSessions(
  dataDir: string,
  target: SqliteSessionStore,
  logger: Logger = silentLogger,
): Promise<UpgradeReport | null> {
  const folder = join(dataDir, "sessions");
  if (!(await isDirectory(folder))) return null;
  const movedTo = join(dataDir, `sessions.migrated-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const disk = new DiskSessionStore({ dataDir, logger });
  const alreadyThere: string[] = [];
  const corrupt: string[] = [];
  const inTarget = new Set(await target.listSessions());
  let sessions = 0;
  let keys = 0;
  try {
    for (const session of await disk.listSessions()) {
      let entries: Map<string, Versioned>;
      let seq: number;
      try {
        entries = await disk.entriesVersioned(session);
        seq = (await disk.sessionMeta(session)).seq;
      } catch (error) {
        if (!(error instanceof CorruptEntryError)) throw error;
        if (!inTarget.has(session)) await target.markFaulty(session, error.location.replace(folder, movedTo));
        corrupt.push(session);
        logger.error({ session, location: error.location }, "session unreadable in the old disk store; marked corrupt");
        continue;
      }
      const writes = toWrites(entries);
      if (inTarget.has(session)) {
        if (!sameEntries(writes, await target.entriesVersioned(session))) alreadyThere.push(session);
        continue;
      }
      await target.applyVersioned(session, writes, { seq });
      if (!sameEntries(writes, await target.entriesVersioned(session)))
        throw new Error(`session ${session} did not read back equal from the SQLite store; ${folder} left in place`);
      sessions += 1;
      keys += writes.length;
    }
  } finally {
    await disk.close();
  }
  await rename(folder, movedTo);
  for (const session of alreadyThere) {
    logger.warn(
      { session, movedTo },
      "session differs between sessions.db and the old disk folder; kept the database's, the old copy is in the moved folder",
    );
  }
  logger.info({ sessions, keys, movedTo }, "session store upgraded from the disk folder to sessions.db");
  return { movedTo, sessions, keys, alreadyThere, corrupt };
}

/** Keys as the disk store names them; a file it did not write (version 0) is named by Baileys' rules. */
function toWrites(entries: ReadonlyMap<string, Versioned>): VersionedWrite[] {
  return [...entries].map(([key, { value, version }]) => ({
    key: version === 0 ? keyFromBaileysFileName(`${key}.json`) : key,
    value,
    version,
  }));
}

function sameEntries(writes: readonly VersionedWrite[], stored: ReadonlyMap<string, Versioned>): boolean {
  if (writes.length !== stored.size) return false;
  return writes.every((write) => {
    const there = stored.get(write.key);
    return (
      there !== undefined &&
      there.version === write.version &&
      encodeBufferJson(there.value) === encodeBufferJson(write.value!)
    );
  });
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
