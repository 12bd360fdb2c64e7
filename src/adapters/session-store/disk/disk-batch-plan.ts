import { encodeBufferJson } from "../shared/buffer-json.ts";
import { assertKey } from "../shared/validation.ts";
import type { ApplyOptions, VersionedWrite } from "../shared/versioned-tier.ts";
import type { DeltaRecord } from "./disk-files.ts";
import { fileNameToKey, keyToFileName } from "./disk-key-names.ts";
import { CORRUPT_VERSION, locateKey, type Entry, type SessionState } from "./disk-session-state.ts";

/**
 * A batch planned against a session's in-memory index: the log record to
 * commit, and the same change for the in-memory state (the index, and the
 * files it writes as pending files), applied in place only once the record
 * is committed, so a failed commit leaves the state as it was. Both cost
 * O(keys written), whatever the size of the session.
 */
export interface PlannedBatch {
  readonly record: DeltaRecord;
  applyTo(state: SessionState): void;
}

/**
 * Plans a versioned batch (`applyVersioned`; `setMany` and `clear` are
 * special cases): a write lands only over an older version, `clear` deletes
 * every key older than the batch. `null` when nothing changes, not even the
 * sequence.
 */
export function planApply(
  session: string,
  state: SessionState,
  writes: readonly VersionedWrite[],
  options: ApplyOptions,
): PlannedBatch | null {
  const plan = new Map<string, VersionedWrite>();
  if (options.clear === true) {
    for (const [key, entry] of state.entries) {
      if (entry.version < options.seq) plan.set(key, { key, value: null, version: options.seq });
    }
    for (const key of state.corrupt.keys()) plan.set(key, { key, value: null, version: options.seq });
  }
  for (const write of writes) {
    assertKey(write.key);
    const current = state.corrupt.has(write.key) ? undefined : locateKey(state, write.key);
    if (current !== undefined && current[1].version >= write.version) continue;
    if (current === undefined && write.value === null && !state.corrupt.has(write.key)) {
      plan.delete(write.key);
      continue;
    }
    plan.set(write.key, write);
  }
  const seq = Math.max(state.seq, options.seq, ...writes.map((w) => w.version));
  if (plan.size === 0 && seq === state.seq) return null;
  return planWrites(session, state, [...plan.values()], seq);
}

/** Plans writes (a `null` value deletes) that end at sequence `seq`; no writes: only the sequence moves. */
export function planWrites(
  session: string,
  state: SessionState,
  writes: readonly VersionedWrite[],
  seq: number,
): PlannedBatch {
  const put: Array<[file: string, text: string]> = [];
  const removed = new Map<string, string>(); // index key -> its file
  const versions = new Map<string, number | null>();
  const names = new Map<string, string | null>();
  const added = new Map<string, Entry>();
  for (const write of writes) {
    const located = locateKey(state, write.key);
    if (located !== undefined) {
      const [indexKey, entry] = located;
      removed.set(indexKey, entry.file);
      if (state.names.has(entry.file)) names.set(entry.file, null);
    }
    versions.set(write.key, null);
    if (write.value === null) continue;
    const file = keyToFileName(write.key);
    put.push([file, encodeBufferJson(write.value)]);
    if (fileNameToKey(file) === null) names.set(file, write.key);
    versions.set(write.key, write.version);
    added.set(write.key, { file, version: write.version, foreign: false });
  }
  // A file written by this batch is never also removed by it (a key taking over a foreign file's name).
  const written = new Set(put.map(([file]) => file));
  const del = [...new Set(removed.values())].filter((file) => !written.has(file));
  return {
    record: { format: 2, session, put, del, delta: { seq, versions: [...versions], names: [...names] } },
    applyTo(target) {
      target.seq = seq;
      for (const indexKey of removed.keys()) target.entries.delete(indexKey);
      for (const [file, key] of names) {
        if (key === null) target.names.delete(file);
        else target.names.set(file, key);
      }
      for (const key of versions.keys()) target.corrupt.delete(key);
      for (const [key, entry] of added) target.entries.set(key, entry);
      target.pending.add({ put, del });
    },
  };
}

/**
 * Plans recording a key whose file was found corrupt and moved to `location`:
 * the key stays in the index, so it is reported corrupt (not absent) after a
 * restart too.
 */
export function planKeptAside(
  session: string,
  state: SessionState,
  key: string,
  indexKey: string,
  location: string,
): PlannedBatch {
  return {
    record: {
      format: 2,
      session,
      put: [],
      del: [],
      delta: { seq: state.seq, versions: [[key, CORRUPT_VERSION]], names: [] },
    },
    applyTo(target) {
      target.entries.delete(indexKey);
      target.corrupt.set(key, location);
    },
  };
}
