import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isValidSessionId } from "../../../domain/session.ts";
import type { StoredValue } from "../../../domain/ports/session-store.port.ts";
import { decodeBufferJson, encodeBufferJson } from "../shared/buffer-json.ts";
import { ensureDir, fsyncDir, isNotFound, unlinkIfPresent, writeFileAtomic } from "../shared/durable-files.ts";
import type { VersionedWrite } from "../shared/versioned-tier.ts";

/** One batch on its way to the remote tier. */
export interface OutboxEntry {
  readonly seq: number;
  /** The whole batch, so a crash between outbox and disk can be redone on the disk as a whole. */
  readonly writes: readonly VersionedWrite[];
  /** The keys of `writes` that go to the remote tier (all of them in `full` mode, creds in `creds_only`). */
  readonly remoteKeys: readonly string[];
  readonly clear: boolean;
  /** Set the remote "complete" mark with this batch (a session born in `full` mode). */
  readonly complete: boolean | null;
}

/**
 * The durable per-session queue of batches not yet acknowledged by the remote
 * tier: `<dir>/<session>/<seq, 16 digits>.json`, each written atomically
 * before the batch touches the disk store. Entries are read back in sequence
 * order, so the remote tier receives a session's batches in the order they
 * were made.
 */
export class Outbox {
  private readonly index = new Map<string, number[]>();

  constructor(private readonly dir: string) {}

  /** Loads the index of entries left by an earlier run. */
  async load(): Promise<void> {
    let sessions: string[];
    try {
      sessions = await readdir(this.dir);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const session of sessions) {
      if (!isValidSessionId(session)) continue;
      const seqs = (await readdir(join(this.dir, session)))
        .filter((name) => /^\d{16}\.json$/.test(name))
        .map((name) => Number(name.slice(0, 16)))
        .sort((a, b) => a - b);
      if (seqs.length > 0) this.index.set(session, seqs);
    }
  }

  sessions(): string[] {
    return [...this.index.keys()];
  }

  size(): number {
    let total = 0;
    for (const seqs of this.index.values()) total += seqs.length;
    return total;
  }

  seqs(session: string): readonly number[] {
    return this.index.get(session) ?? [];
  }

  async append(session: string, entry: OutboxEntry): Promise<void> {
    const dir = join(this.dir, session);
    await ensureDir(this.dir);
    await ensureDir(dir);
    const record: StoredValue = {
      seq: entry.seq,
      clear: entry.clear,
      complete: entry.complete,
      remoteKeys: [...entry.remoteKeys],
      writes: entry.writes.map((w) => [w.key, w.value, w.version]),
    };
    await writeFileAtomic(dir, fileName(entry.seq), encodeBufferJson(record));
    const seqs = this.index.get(session) ?? [];
    seqs.push(entry.seq);
    seqs.sort((a, b) => a - b);
    this.index.set(session, [...new Set(seqs)]);
  }

  async read(session: string, seq: number): Promise<OutboxEntry> {
    const text = await readFile(join(this.dir, session, fileName(seq)), "utf8");
    const record = decodeBufferJson(text) as {
      seq: number;
      clear: boolean;
      complete: boolean | null;
      remoteKeys: string[];
      writes: Array<[string, StoredValue | null, number]>;
    };
    return {
      seq: record.seq,
      clear: record.clear,
      complete: record.complete,
      remoteKeys: record.remoteKeys,
      writes: record.writes.map(([key, value, version]) => ({ key, value, version })),
    };
  }

  async remove(session: string, seq: number): Promise<void> {
    await unlinkIfPresent(join(this.dir, session, fileName(seq)));
    await fsyncDir(join(this.dir, session)).catch(() => undefined);
    const seqs = (this.index.get(session) ?? []).filter((s) => s !== seq);
    if (seqs.length === 0) this.index.delete(session);
    else this.index.set(session, seqs);
  }
}

function fileName(seq: number): string {
  return `${String(seq).padStart(16, "0")}.json`;
}

/** The part of an entry the remote tier receives. */
export function remoteWrites(entry: OutboxEntry): VersionedWrite[] {
  const keys = new Set(entry.remoteKeys);
  return entry.writes.filter((w) => keys.has(w.key));
}
