import { CorruptEntryError, type SessionStore, type StoredValue } from "../domain/ports/session-store.port.ts";

export interface MigrationOptions {
  readonly from: SessionStore;
  readonly to: SessionStore;
  /** Only this session; every session of `from` otherwise. */
  readonly session?: string;
  /** Report what would be copied; write nothing. */
  readonly dryRun: boolean;
}

export interface SessionMigration {
  readonly session: string;
  readonly keys: number;
  readonly bytes: number;
  /** Keys whose value differs from (or is missing in) the target: what a run writes. */
  readonly changed: number;
}

export interface MigrationReport {
  readonly dryRun: boolean;
  readonly sessions: readonly SessionMigration[];
  readonly keys: number;
  readonly bytes: number;
  readonly changed: number;
}

/**
 * Copies every key of every session (or of one) from one store to another.
 * Idempotent: keys already equal in the target are not rewritten, so a
 * second run writes nothing. It copies, it never deletes: keys that exist
 * only in the target stay. Each session is written in one `setMany`, atomic
 * in the target. Run it with the gateway stopped, or it copies a moving
 * target.
 */
export async function migrateSessions(options: MigrationOptions): Promise<MigrationReport> {
  const { from, to, dryRun } = options;
  const sessions = options.session !== undefined ? [options.session] : await from.listSessions();
  const results: SessionMigration[] = [];
  for (const session of sessions) {
    const source = await from.entries(session);
    const target = await readTarget(to, session);
    const changes = new Map<string, StoredValue>();
    let bytes = 0;
    for (const [key, value] of source) {
      bytes += approximateBytes(value);
      const existing = target.get(key);
      if (existing === undefined || !sameValue(existing, value)) changes.set(key, value);
    }
    if (!dryRun && changes.size > 0) await to.setMany(session, changes);
    results.push({ session, keys: source.size, bytes, changed: changes.size });
  }
  return {
    dryRun,
    sessions: results,
    keys: results.reduce((sum, r) => sum + r.keys, 0),
    bytes: results.reduce((sum, r) => sum + r.bytes, 0),
    changed: results.reduce((sum, r) => sum + r.changed, 0),
  };
}

/** A corrupt target entry is what a migration is often run to repair: compare against nothing, write everything. */
async function readTarget(store: SessionStore, session: string): Promise<Map<string, StoredValue>> {
  try {
    return await store.entries(session);
  } catch (error) {
    if (error instanceof CorruptEntryError) return new Map();
    throw error;
  }
}

/** Size of a value as binary bytes plus the JSON text of everything else; close enough for a report. */
export function approximateBytes(value: StoredValue): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value))
    return 2 + value.reduce((sum: number, item: StoredValue) => sum + approximateBytes(item) + 1, 0);
  if (value !== null && typeof value === "object") {
    let sum = 2;
    for (const [k, v] of Object.entries(value)) sum += Buffer.byteLength(k) + 4 + approximateBytes(v as StoredValue);
    return sum;
  }
  return Buffer.byteLength(JSON.stringify(value));
}

/** Deep equality of stored values, bytes compared as bytes. */
export function sameValue(a: StoredValue, b: StoredValue): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return (
      a instanceof Uint8Array &&
      b instanceof Uint8Array &&
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
    );
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item: StoredValue, i: number) => sameValue(item, (b as StoredValue[])[i]!))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const rb = b as Record<string, StoredValue>;
    return (
      ka.length === kb.length && ka.every((k) => k in rb && sameValue((a as Record<string, StoredValue>)[k]!, rb[k]!))
    );
  }
  return a === b;
}
