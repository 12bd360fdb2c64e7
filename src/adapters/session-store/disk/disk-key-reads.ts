import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptEntryError, type StoredValue } from "../../../domain/ports/session-store.port.ts";
import { decodeBufferJson } from "../shared/buffer-json.ts";
import { isNotFound } from "../shared/durable-files.ts";
import { assertKey } from "../shared/validation.ts";
import type { Versioned } from "../shared/versioned-tier.ts";
import { locateKey, type Entry, type SessionState } from "./disk-session-state.ts";

/** Keeps a file that does not decode aside, records it in the index, and throws the `CorruptEntryError` to report. */
export type KeepAside = (key: string, located: [indexKey: string, entry: Entry], cause: unknown) => Promise<never>;

/**
 * Reads keys: a file's pending content (committed, not written yet) first,
 * else the file itself. A key kept aside earlier throws
 * `CorruptEntryError`; a file that does not decode goes to `keepAside`. A
 * missing key, or a file gone meanwhile, is absent from the result.
 */
export async function readKeys(
  session: string,
  state: SessionState,
  keys: readonly string[],
  keepAside: KeepAside,
): Promise<Map<string, Versioned>> {
  const found = new Map<string, Versioned>();
  for (const key of new Set(keys)) {
    assertKey(key);
    const location = state.corrupt.get(key);
    if (location !== undefined) throw new CorruptEntryError(session, key, location, "kept aside earlier");
    const located = locateKey(state, key);
    if (located === undefined) continue;
    const [, entry] = located;
    const pending = state.pending.get(entry.file);
    if (pending !== undefined) {
      // Encoded by this store from a value it was given: it decodes.
      if (pending !== null) found.set(key, { value: decodeBufferJson(pending), version: entry.version });
      continue;
    }
    let text: string;
    try {
      text = await readFile(join(state.dir, entry.file), "utf8");
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    try {
      found.set(key, { value: decodeBufferJson(text), version: entry.version });
    } catch (error) {
      await keepAside(key, located, error);
    }
  }
  return found;
}

export function stripVersions(found: Map<string, Versioned>): Map<string, StoredValue> {
  return new Map([...found].map(([key, { value }]) => [key, value]));
}
