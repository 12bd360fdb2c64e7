import { join } from "node:path";
import { isValidSessionId } from "../../../domain/session.ts";
import { decodeBatch } from "./disk-files.ts";
import { indexOfMeta, mergeDelta, metaOfIndex, parseMeta, readMetaText, type SessionIndex } from "./disk-index.ts";
import { PendingFiles, writeSessionDir } from "./disk-pending-files.ts";
import { syncDirs, type SyncFn } from "./durable-sync.ts";
import type { LogReplay } from "./log-recovery.ts";

interface ReplayedSession {
  readonly pending: PendingFiles;
  /** `null`: the session's `.meta` is unreadable; it is left as is, for loading to keep aside and report. */
  index: SessionIndex | null;
}

/**
 * Replays the records of dead logs into the session directories under
 * `root` (see `recoverLogs`), like a checkpoint: each record's files are
 * collected in memory (the last record to write a file wins, as it would
 * on disk), its index change merged into the session's index, read once
 * from `.meta`; `finish` writes each file once, then `.meta`, and fsyncs
 * them and their directories before the logs are deleted. A delta record
 * sets values in the index; a record of an earlier version of this store
 * carries the whole index, which replaces it.
 */
export class DiskLogReplay implements LogReplay {
  private readonly sessions = new Map<string, ReplayedSession>();

  constructor(
    private readonly root: string,
    private readonly sync: SyncFn,
  ) {}

  async apply(payload: Buffer): Promise<void> {
    const record = decodeBatch(payload);
    if (!isValidSessionId(record.session)) return;
    const session = await this.session(record.session);
    session.pending.add(record);
    if (record.format === 1) session.index = indexOfMeta(record.meta);
    else if (session.index !== null) mergeDelta(session.index, record.delta);
  }

  async finish(): Promise<void> {
    const dirs = new Set<string>();
    for (const [name, { pending, index }] of this.sessions) {
      const meta = index === null ? null : metaOfIndex(index);
      for (const dir of await writeSessionDir(join(this.root, name), pending, meta, this.sync)) dirs.add(dir);
    }
    await syncDirs(dirs, this.sync);
  }

  private async session(name: string): Promise<ReplayedSession> {
    const known = this.sessions.get(name);
    if (known !== undefined) return known;
    const text = await readMetaText(join(this.root, name));
    const meta = text === null ? undefined : parseMeta(text);
    const session = { pending: new PendingFiles(), index: meta === null ? null : indexOfMeta(meta) };
    this.sessions.set(name, session);
    return session;
  }
}
