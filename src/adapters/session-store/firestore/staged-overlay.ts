import type { Versioned } from "../shared/versioned-tier.ts";
import { decodeValue } from "./firestore-codec.ts";
import type { EncodedWrite } from "./firestore-batches.ts";

/**
 * Lays a committed staged batch that is not rolled forward yet over the key
 * documents read for a session, the way rolling it forward would: a write
 * wins only over an older version (or a missing key), a removal drops the
 * key. `only`: the keys asked for (all of the batch's keys when absent).
 */
export function overlayStaged(found: Map<string, Versioned>, writes: readonly EncodedWrite[], only?: ReadonlySet<string>): void {
  for (const write of writes) {
    if (only !== undefined && !only.has(write.key)) continue;
    const current = found.get(write.key);
    if (current !== undefined && current.version >= write.version) continue;
    if (write.parts === null) found.delete(write.key);
    else found.set(write.key, { value: decodeValue(Buffer.concat(write.parts)), version: write.version });
  }
}
