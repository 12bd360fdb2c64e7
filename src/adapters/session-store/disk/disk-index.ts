import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureDir, isNotFound } from "../shared/durable-files.ts";
import { writeSyncedFile, type SyncFn } from "./durable-sync.ts";

/** The session's index file. */
export const META = ".meta";

/** `.meta`: the session's sequence, the version of each key we wrote, and the keys behind hashed file names. */
export interface MetaFile {
  readonly format: 1;
  readonly seq: number;
  readonly versions: Record<string, number>;
  readonly names: Record<string, string>;
}

/**
 * What one batch changed in a session's index, as new values, never as
 * steps: a key's new version (`null`: gone from the index), a hashed file
 * name's new key (`null`: the name is free again), and the sequence the
 * batch reached. Merging a delta sets those values and leaves every other
 * key alone, so merging it twice, or over an index that already includes
 * it, gives the same index (the argument is in `write-ahead-log.ts`).
 */
export interface IndexDelta {
  readonly seq: number;
  readonly versions: ReadonlyArray<readonly [key: string, version: number | null]>;
  readonly names: ReadonlyArray<readonly [file: string, key: string | null]>;
}

/** A session's index as the log replay merges deltas into it. Maps, not records: a key may be any string (`__proto__`). */
export interface SessionIndex {
  seq: number;
  readonly versions: Map<string, number>;
  readonly names: Map<string, string>;
}

export function indexOfMeta(meta: MetaFile | undefined): SessionIndex {
  return {
    seq: meta?.seq ?? 0,
    versions: new Map(Object.entries(meta?.versions ?? {})),
    names: new Map(Object.entries(meta?.names ?? {})),
  };
}

export function metaOfIndex(index: SessionIndex): MetaFile {
  return {
    format: 1,
    seq: index.seq,
    versions: Object.fromEntries(index.versions),
    names: Object.fromEntries(index.names),
  };
}

/** Sets what the delta sets. The sequence never goes back: merging an older delta over a newer index keeps the newer one. */
export function mergeDelta(index: SessionIndex, delta: IndexDelta): void {
  index.seq = Math.max(index.seq, delta.seq);
  for (const [key, version] of delta.versions) {
    if (version === null) index.versions.delete(key);
    else index.versions.set(key, version);
  }
  for (const [file, key] of delta.names) {
    if (key === null) index.names.delete(file);
    else index.names.set(file, key);
  }
}

/** `.meta`'s text, or `null` if the session has none yet. */
export async function readMetaText(dir: string): Promise<string | null> {
  try {
    return await readFile(join(dir, META), "utf8");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** The index in `.meta`'s text, or `null` if it is not one (the caller decides what an unreadable index means). */
export function parseMeta(text: string): MetaFile | null {
  try {
    const meta = JSON.parse(text) as MetaFile;
    const valid =
      meta.format === 1 && Number.isInteger(meta.seq) && typeof meta.versions === "object" && meta.versions !== null;
    return valid ? meta : null;
  } catch {
    return null;
  }
}

/**
 * Replaces `.meta` (fsynced temp file + rename), so that `.meta` is always
 * a whole index, the new or the previous, even after a power loss. The log
 * records it summarises may be deleted only after the session directory is
 * fsynced as well (the rename itself).
 */
export async function writeMeta(dir: string, meta: MetaFile, sync: SyncFn): Promise<void> {
  await ensureDir(dir);
  await writeSyncedFile(dir, META, JSON.stringify(meta), sync);
}
