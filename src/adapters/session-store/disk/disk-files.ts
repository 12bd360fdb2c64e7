import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir, isNotFound, unlinkIfPresent } from "../shared/durable-files.ts";
import type { IndexDelta, MetaFile } from "./disk-index.ts";

/**
 * One committed batch as the write-ahead log records it: the whole new
 * content of every file it writes, the files it removes, and what it changed
 * in the session's index. Applying it rewrites whole files and sets index
 * values, so applying it again (a replay after a crash) gives the same
 * directory and index.
 */
export interface DeltaRecord {
  readonly format: 2;
  readonly session: string;
  readonly put: ReadonlyArray<readonly [file: string, text: string]>;
  readonly del: readonly string[];
  readonly delta: IndexDelta;
}

/** A record of earlier versions of this store: it carries the session's whole new index, which replaces the old one. */
export interface WholeIndexRecord {
  readonly format: 1;
  readonly session: string;
  readonly put: ReadonlyArray<readonly [file: string, text: string]>;
  readonly del: readonly string[];
  readonly meta: MetaFile;
}

export type BatchRecord = DeltaRecord | WholeIndexRecord;

export function encodeBatch(record: BatchRecord): Buffer {
  return Buffer.from(JSON.stringify(record), "utf8");
}

/** @throws when the payload is not a batch record (its checksum matched, so this is a bug, not a torn write). */
export function decodeBatch(payload: Buffer): BatchRecord {
  const record = JSON.parse(payload.toString("utf8")) as BatchRecord;
  const index = record.format === 1 ? record.meta : record.format === 2 ? record.delta : undefined;
  if (
    typeof index !== "object" ||
    index === null ||
    typeof record.session !== "string" ||
    !Array.isArray(record.put) ||
    !Array.isArray(record.del)
  ) {
    throw new TypeError("not a session store log record");
  }
  return record;
}

/** The per-session journal of earlier versions of this store (a list of renames of fsynced temp files). */
const LEGACY_JOURNAL = ".journal";

interface LegacyJournal {
  readonly renames: ReadonlyArray<readonly [tmp: string, target: string]>;
  readonly unlinks: readonly string[];
}

/**
 * Brings a session directory to a clean state when it is first loaded:
 * replays a `.journal` left by an earlier version of this store (idempotent:
 * a temp file that is gone was renamed already), then removes it durably, so
 * that it can never be replayed over later writes, and removes temp files of
 * batches that were never committed or whose log record is replayed anyway.
 */
export async function recoverDir(dir: string): Promise<void> {
  let text: string | null = null;
  try {
    text = await readFile(join(dir, LEGACY_JOURNAL), "utf8");
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (text !== null) {
    // The old store wrote its journal atomically (fsynced temp + rename), so it always parses.
    const journal = JSON.parse(text) as LegacyJournal;
    for (const [tmp, target] of journal.renames) {
      try {
        await rename(join(dir, tmp), join(dir, target));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    for (const name of journal.unlinks) await unlinkIfPresent(join(dir, name));
    await fsyncDir(dir);
    await unlinkIfPresent(join(dir, LEGACY_JOURNAL));
    await fsyncDir(dir);
  }
  for (const name of await readdir(dir)) {
    if (name.startsWith(".tmp-")) await unlinkIfPresent(join(dir, name));
  }
}
