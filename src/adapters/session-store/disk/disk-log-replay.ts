import { join } from "node:path";
import { isValidSessionId } from "../../../domain/session.ts";
import { applyBatch, decodeBatch } from "./disk-files.ts";
import { indexOfMeta, mergeDelta, metaOfIndex, parseMeta, readMetaText, writeMeta, type SessionIndex } from "./disk-index.ts";
import type { LogReplay, SyncFn, Touched } from "./write-ahead-log.ts";

/**
 * Replays the records of dead logs into the session directories under
 * `root` (see `recoverLogs`): each record's files as it comes; its index
 * change merged into the session's index, read once from `.meta` and
 * written back once, at the end, before the logs are deleted. A delta
 * record sets values in the index; a record of an earlier version of this
 * store carries the whole index, which replaces it.
 */
export class DiskLogReplay implements LogReplay {
  /** `null`: the session's `.meta` is unreadable; it is left as is, for loading to keep aside and report. */
  private readonly indexes = new Map<string, SessionIndex | null>();

  constructor(
    private readonly root: string,
    private readonly sync: SyncFn,
  ) {}

  async apply(payload: Buffer): Promise<Touched | null> {
    const record = decodeBatch(payload);
    if (!isValidSessionId(record.session)) return null;
    const dir = join(this.root, record.session);
    const touched = await applyBatch(dir, record);
    if (record.format === 1) {
      this.indexes.set(record.session, indexOfMeta(record.meta));
    } else {
      const index = await this.index(record.session, dir);
      if (index !== null) mergeDelta(index, record.delta);
    }
    return touched;
  }

  async finish(): Promise<Touched> {
    const dirs = new Set<string>();
    for (const [session, index] of this.indexes) {
      if (index === null) continue;
      for (const dir of (await writeMeta(join(this.root, session), metaOfIndex(index), this.sync)).dirs) dirs.add(dir);
    }
    return { files: [], dirs };
  }

  private async index(session: string, dir: string): Promise<SessionIndex | null> {
    const known = this.indexes.get(session);
    if (known !== undefined) return known;
    const text = await readMetaText(dir);
    const meta = text === null ? undefined : parseMeta(text);
    const index = meta === null ? null : indexOfMeta(meta);
    this.indexes.set(session, index);
    return index;
  }
}
