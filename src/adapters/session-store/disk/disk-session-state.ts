import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import { isNotFound } from "../shared/durable-files.ts";
import { recoverDir } from "./disk-files.ts";
import { META, parseMeta, readMetaText, type MetaFile } from "./disk-index.ts";
import { baileysFileName, fileNameToKey, isKeyFileName, keyToFileName } from "./disk-key-names.ts";
import { PendingFiles } from "./disk-pending-files.ts";

export interface Entry {
  readonly file: string;
  readonly version: number;
  /** Not in `.meta`: a file this store did not write (a Baileys folder dropped in). */
  readonly foreign: boolean;
}

export interface SessionState {
  readonly dir: string;
  seq: number;
  readonly entries: Map<string, Entry>;
  readonly names: Map<string, string>;
  /** Keys whose file was found corrupt and kept aside: reads keep failing until the key is rewritten. */
  readonly corrupt: Map<string, string>;
  metaCorrupt: string | null;
  /** Committed file writes not in the files yet (until a checkpoint): reads take them first. */
  readonly pending: PendingFiles;
}

/**
 * Reads a session directory into memory (before any batch of this store
 * touched it, so its files are up to date): recovers it first (see
 * `recoverDir`), then indexes its files against `.meta`. A file without a
 * version is foreign (a Baileys folder dropped in); a versioned key without a
 * file is reported corrupt, never absent.
 */
export async function loadSessionState(session: string, dir: string, logger: Logger): Promise<SessionState> {
  const state: SessionState = {
    dir,
    seq: 0,
    entries: new Map(),
    names: new Map(),
    corrupt: new Map(),
    metaCorrupt: null,
    pending: new PendingFiles(),
  };
  let files: string[];
  try {
    await recoverDir(dir);
    files = await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return state;
    throw error;
  }
  const meta = await readMeta(session, dir, state, logger);
  for (const [file, key] of Object.entries(meta?.names ?? {})) state.names.set(file, key);
  state.seq = meta?.seq ?? 0;
  const present = new Set(files);
  for (const file of files) {
    if (!isKeyFileName(file)) continue;
    const key = fileNameToKey(file) ?? state.names.get(file);
    if (key === undefined) {
      logger.warn(
        { session, path: join(dir, file) },
        "session store file has a hashed name missing from the index; ignored",
      );
      continue;
    }
    const version = meta?.versions[key];
    state.entries.set(key, { file, version: version ?? 0, foreign: version === undefined });
  }
  for (const key of Object.keys(meta?.versions ?? {})) {
    if (state.entries.has(key)) continue;
    const file = keyToFileName(key);
    const aside = files.find((name) => name.startsWith(`${file}.corrupt-`));
    state.corrupt.set(key, join(dir, aside ?? file));
    if (!present.has(file)) {
      logger.error(
        { session, key, path: join(dir, aside ?? file) },
        "session store entry is missing or was kept aside as corrupt; session needs attention",
      );
    }
  }
  return state;
}

async function readMeta(
  session: string,
  dir: string,
  state: SessionState,
  logger: Logger,
): Promise<MetaFile | undefined> {
  const text = await readMetaText(dir);
  if (text === null) return undefined;
  const meta = parseMeta(text);
  if (meta !== null) return meta;
  const aside = join(dir, `${META}.corrupt-${Date.now()}`);
  await rename(join(dir, META), aside);
  state.metaCorrupt = aside;
  logger.error({ session, path: aside }, "session store index is corrupt; kept aside, session needs attention");
  return undefined;
}

/** The version the index records for a key kept aside as corrupt. */
export const CORRUPT_VERSION = 0;

/**
 * Finds the file of a key: ours, or else the one Baileys would have named
 * for it, if that file is foreign (we never claimed its name for a key).
 */
export function locateKey(state: SessionState, key: string): [indexKey: string, entry: Entry] | undefined {
  const own = state.entries.get(key);
  if (own !== undefined) return [key, own];
  const legacyName = baileysFileName(key);
  if (legacyName === keyToFileName(key)) return undefined;
  const legacyKey = fileNameToKey(legacyName);
  const legacy = legacyKey === null ? undefined : state.entries.get(legacyKey);
  if (legacyKey === null || legacy === undefined || !legacy.foreign || legacy.file !== legacyName) return undefined;
  return [legacyKey, legacy];
}

/** The session's index as `.meta` holds it: what a checkpoint writes. Costs O(keys in the session), once per checkpoint. */
export function metaOfState(state: SessionState): MetaFile {
  const versions = new Map<string, number>();
  for (const [key, entry] of state.entries) if (!entry.foreign) versions.set(key, entry.version);
  // A key kept aside stays in the index (reported corrupt, not absent); its version no longer matters.
  for (const key of state.corrupt.keys()) versions.set(key, CORRUPT_VERSION);
  return { format: 1, seq: state.seq, versions: Object.fromEntries(versions), names: Object.fromEntries(state.names) };
}
