import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  CorruptEntryError,
  type StoreHealth,
  type StoredValue,
} from "../../../domain/ports/session-store.port.ts";
import { isValidSessionId } from "../../../domain/session.ts";
import { decodeBufferJson, encodeBufferJson } from "../shared/buffer-json.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertKey, assertSessionId } from "../shared/validation.ts";
import {
  silentLogger,
  type ApplyOptions,
  type StoreLogger,
  type TierSessionMeta,
  type Versioned,
  type VersionedSessionTier,
  type VersionedWrite,
} from "../shared/versioned-tier.ts";
import { isNotFound } from "../shared/durable-files.ts";
import { applyBatch, decodeBatch, encodeBatch, type BatchRecord, type MetaFile } from "./disk-files.ts";
import { loadSessionState, type Entry, type SessionState } from "./disk-session-state.ts";
import { baileysFileName, fileNameToKey, keyToFileName } from "./disk-key-names.ts";
import { defaultSync, recoverLogs, WriteAheadLog, type SyncFn } from "./write-ahead-log.ts";

export interface DiskSessionStoreOptions {
  /** Sessions live in `<dataDir>/sessions/<session>/`. */
  readonly dataDir: string;
  readonly logger?: StoreLogger;
  /**
   * Test-only: called at the two points where a crash matters in a batch
   * (before its log record is appended; after the record is durable but
   * before any file is written). Throwing from it simulates a crash at that
   * point: the store stops as a killed process would, leaving its log to be
   * replayed by the next store opened on the data dir.
   */
  readonly crashPoints?: { beforeCommit?(): void; afterCommit?(): void };
  /** How files are made durable (tests count the calls). Default: fdatasync for the log, fsync otherwise. */
  readonly sync?: SyncFn;
  /**
   * When the log is checkpointed (its files fsynced, the log removed): after
   * `records` records or `bytes` bytes, or `intervalMs` after the first
   * record since the last checkpoint, and at close.
   */
  readonly checkpoint?: { readonly records?: number; readonly bytes?: number; readonly intervalMs?: number };
}

/**
 * The default session store: one file per key under
 * `<dataDir>/sessions/<session>/`, in Baileys' BufferJSON encoding and file
 * naming (see `disk-key-names.ts`), so a `useMultiFileAuthState` folder can be
 * dropped in. Each `setMany` is atomic and durable through a write-ahead
 * log shared by all sessions (see `write-ahead-log.ts`): one fdatasync per
 * batch, shared by the batches that arrive meanwhile; the files themselves
 * are fsynced at checkpoints. Calls on one session are serialized. One
 * instance owns a data dir (it caches each session's index), which the
 * composition root guarantees.
 */
export class DiskSessionStore implements VersionedSessionTier {
  readonly kind = "disk";
  private readonly root: string;
  private readonly logger: StoreLogger;
  private readonly lock = new KeyedLock();
  private readonly states = new Map<string, SessionState>();
  private readonly crashPoints: NonNullable<DiskSessionStoreOptions["crashPoints"]>;
  private readonly sync: SyncFn;
  private readonly log: WriteAheadLog;
  private readonly checkpointIntervalMs: number;
  private opening: Promise<void> | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  /** Set once a write failed after its commit point (or a crash was simulated): the store refuses work, a restart replays the log. */
  private failure: Error | null = null;

  constructor(options: DiskSessionStoreOptions) {
    this.crashPoints = options.crashPoints ?? {};
    this.root = join(options.dataDir, "sessions");
    this.logger = options.logger ?? silentLogger;
    this.sync = options.sync ?? defaultSync;
    this.checkpointIntervalMs = options.checkpoint?.intervalMs ?? 1000;
    this.log = new WriteAheadLog({
      root: this.root,
      sync: this.sync,
      maxRecords: options.checkpoint?.records ?? 1000,
      maxBytes: options.checkpoint?.bytes ?? 16 * 1024 * 1024,
      onFull: () => this.checkpointSoon(0),
    });
  }

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    return this.read(session, (state) => this.readKeys(session, state, keys)).then(stripVersions);
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    return this.entriesVersioned(session).then(stripVersions);
  }

  async getVersioned(session: string, keys: readonly string[]): Promise<Map<string, Versioned>> {
    return this.read(session, (state) => this.readKeys(session, state, keys));
  }

  async entriesVersioned(session: string): Promise<Map<string, Versioned>> {
    return this.read(session, (state) => this.readKeys(session, state, [...state.corrupt.keys(), ...state.entries.keys()]));
  }

  async sessionMeta(session: string): Promise<TierSessionMeta> {
    return this.read(session, async (state) => ({ seq: state.seq, complete: true }));
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    assertSessionId(session);
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      const seq = state.seq + 1;
      const writes = [...entries].map(([key, value]) => ({ key, value, version: seq }));
      await this.apply(session, state, writes, { seq });
    });
  }

  async clear(session: string): Promise<void> {
    assertSessionId(session);
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      await this.apply(session, state, [], { seq: state.seq + 1, clear: true });
    });
  }

  async applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean> {
    assertSessionId(session);
    return this.lock.run(session, async () => this.apply(session, await this.load(session), writes, options));
  }

  async listSessions(): Promise<string[]> {
    await this.opened();
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const sessions: string[] = [];
    for (const name of names.sort()) {
      if (!isValidSessionId(name)) continue;
      const state = await this.lock.run(name, () => this.load(name));
      if (state.entries.size > 0 || state.corrupt.size > 0 || state.metaCorrupt !== null) sessions.push(name);
    }
    return sessions;
  }

  health(): StoreHealth {
    if (this.failure !== null) return { status: "degraded", detail: `disk session store stopped after a failed write: ${this.failure.message}` };
    return { status: "ok" };
  }

  /** Makes every committed batch durable in its own files and removes the log records describing them. */
  async checkpoint(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    await this.log.checkpoint();
  }

  /** Checkpoints the log (every committed batch fsynced in its files) and drops the cached indexes. */
  async close(): Promise<void> {
    await this.lock.idle();
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    if (this.failure === null) await this.log.checkpoint(true);
    this.states.clear();
  }

  /**
   * Replays, once per instance and before anything is read, the logs that
   * dead instances left (a crash or power loss after a commit point).
   */
  private opened(): Promise<void> {
    this.opening ??= recoverLogs(this.root, this.sync, async (payload) => {
      const record = decodeBatch(payload);
      if (!isValidSessionId(record.session)) return null;
      return applyBatch(join(this.root, record.session), record);
    }).then((replayed) => {
      if (replayed > 0) this.logger.info({ records: replayed }, "session store replayed its write-ahead log after an unclean stop");
    });
    return this.opening;
  }

  private checkpointSoon(delayMs: number): void {
    if (this.failure !== null) return;
    if (this.checkpointTimer !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.checkpointTimer);
    }
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null;
      this.log.checkpoint().catch((error: unknown) => {
        this.logger.error({ err: error }, "session store checkpoint failed; store stopped, the log is replayed at the next start");
        this.fail(error);
      });
    }, delayMs);
    this.checkpointTimer.unref();
  }

  private fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.log.abandon(this.failure);
  }

  private crashPoint(point: "beforeCommit" | "afterCommit"): void {
    try {
      this.crashPoints[point]?.();
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Commits a batch: the log append is the commit point (durable once it
   * resolves); the files are then written without fsync, which the log's next
   * checkpoint provides. A failure after the commit point stops the store:
   * the files may be half written, and the log replays them at the next start.
   */
  private async commit(state: SessionState, record: BatchRecord): Promise<void> {
    this.crashPoint("beforeCommit");
    const generation = await this.log.append(encodeBatch(record));
    try {
      this.crashPoint("afterCommit");
      generation.release(await applyBatch(state.dir, record));
    } catch (error) {
      generation.release();
      this.fail(error);
      throw error;
    }
    this.checkpointSoon(this.checkpointIntervalMs);
  }

  private async read<T>(session: string, work: (state: SessionState) => Promise<T>): Promise<T> {
    assertSessionId(session);
    // Reads take the lock too: a batch being applied is never seen half done.
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      if (state.metaCorrupt !== null) {
        throw new CorruptEntryError(session, null, state.metaCorrupt, "unreadable index file");
      }
      return work(state);
    });
  }

  private async readKeys(session: string, state: SessionState, keys: readonly string[]): Promise<Map<string, Versioned>> {
    const found = new Map<string, Versioned>();
    for (const key of new Set(keys)) {
      assertKey(key);
      const location = state.corrupt.get(key);
      if (location !== undefined) throw new CorruptEntryError(session, key, location, "kept aside earlier");
      const entry = this.locate(state, key);
      if (entry === undefined) continue;
      const [, file] = entry;
      let text: string;
      try {
        text = await readFile(join(state.dir, file.file), "utf8");
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      try {
        found.set(key, { value: decodeBufferJson(text), version: file.version });
      } catch (error) {
        await this.quarantine(session, state, key, entry, error);
      }
    }
    return found;
  }

  /**
   * Finds the file of a key: ours, or else the one Baileys would have named
   * for it, if that file is foreign (we never claimed its name for a key).
   */
  private locate(state: SessionState, key: string): [indexKey: string, entry: Entry] | undefined {
    const own = state.entries.get(key);
    if (own !== undefined) return [key, own];
    const legacyName = baileysFileName(key);
    if (legacyName === keyToFileName(key)) return undefined;
    const legacyKey = fileNameToKey(legacyName);
    const legacy = legacyKey === null ? undefined : state.entries.get(legacyKey);
    if (legacyKey === null || legacy === undefined || !legacy.foreign || legacy.file !== legacyName) return undefined;
    return [legacyKey, legacy];
  }

  private async quarantine(
    session: string,
    state: SessionState,
    key: string,
    [indexKey, entry]: [string, Entry],
    cause: unknown,
  ): Promise<never> {
    const aside = `${entry.file}.corrupt-${Date.now()}`;
    await rename(join(state.dir, entry.file), join(state.dir, aside));
    state.entries.delete(indexKey);
    state.corrupt.set(key, join(state.dir, aside));
    // Recording the key in the index keeps it reported as corrupt (not absent) after a restart.
    await this.commitMeta(session, state, (meta) => ({ ...meta, versions: { ...meta.versions, [key]: entry.version } }));
    const detail = cause instanceof Error ? cause.name : "undecodable";
    this.logger.error({ session, key, path: join(state.dir, aside) }, "session store entry is corrupt; kept aside, session needs attention");
    throw new CorruptEntryError(session, key, join(state.dir, aside), `${detail} while decoding`);
  }

  private async apply(
    session: string,
    state: SessionState,
    writes: readonly VersionedWrite[],
    options: ApplyOptions,
  ): Promise<boolean> {
    if (state.metaCorrupt !== null) {
      throw new CorruptEntryError(session, null, state.metaCorrupt, "unreadable index file");
    }
    if (options.onlyIfNewer === true && state.seq >= options.seq) return false;
    const plan = new Map<string, VersionedWrite>();
    if (options.clear === true) {
      for (const [key, entry] of state.entries) {
        if (entry.version < options.seq) plan.set(key, { key, value: null, version: options.seq });
      }
      for (const key of state.corrupt.keys()) plan.set(key, { key, value: null, version: options.seq });
    }
    for (const write of writes) {
      assertKey(write.key);
      const current = state.corrupt.has(write.key) ? undefined : this.locate(state, write.key);
      if (current !== undefined && current[1].version >= write.version) continue;
      if (current === undefined && write.value === null && !state.corrupt.has(write.key)) {
        plan.delete(write.key);
        continue;
      }
      plan.set(write.key, write);
    }
    const seq = Math.max(state.seq, options.seq, ...writes.map((w) => w.version));
    if (plan.size === 0) {
      if (seq !== state.seq) await this.commitMeta(session, state, (meta) => ({ ...meta, seq }));
      state.seq = seq;
      return true;
    }
    await this.commitPlan(session, state, [...plan.values()], seq);
    return true;
  }

  private async commitPlan(session: string, state: SessionState, plan: readonly VersionedWrite[], seq: number): Promise<void> {
    const put: Array<[file: string, text: string]> = [];
    const unlinks = new Set<string>();
    const versions = { ...this.metaOf(state).versions };
    const names = new Map(state.names);
    const next = new Map(state.entries);
    const corrupt = new Map(state.corrupt);
    for (const write of plan) {
      const located = this.locate(state, write.key);
      if (located !== undefined) {
        const [indexKey, entry] = located;
        unlinks.add(entry.file);
        next.delete(indexKey);
        names.delete(entry.file);
      }
      corrupt.delete(write.key);
      delete versions[write.key];
      if (write.value === null) continue;
      const file = keyToFileName(write.key);
      unlinks.delete(file);
      put.push([file, encodeBufferJson(write.value)]);
      if (fileNameToKey(file) === null) names.set(file, write.key);
      versions[write.key] = write.version;
      next.set(write.key, { file, version: write.version, foreign: false });
    }
    const meta: MetaFile = { format: 1, seq, versions, names: Object.fromEntries(names) };
    await this.commit(state, { format: 1, session, put, del: [...unlinks], meta });
    state.seq = seq;
    state.entries.clear();
    for (const [key, entry] of next) state.entries.set(key, entry);
    state.names.clear();
    for (const [file, key] of names) state.names.set(file, key);
    state.corrupt.clear();
    for (const [key, location] of corrupt) state.corrupt.set(key, location);
  }

  private metaOf(state: SessionState): MetaFile {
    const versions: Record<string, number> = {};
    for (const [key, entry] of state.entries) if (!entry.foreign) versions[key] = entry.version;
    for (const key of state.corrupt.keys()) versions[key] = 0;
    return { format: 1, seq: state.seq, versions, names: Object.fromEntries(state.names) };
  }

  /** A batch that only changes the index (a new sequence, a key kept aside), committed like any other. */
  private async commitMeta(session: string, state: SessionState, change: (meta: MetaFile) => MetaFile): Promise<void> {
    await this.commit(state, { format: 1, session, put: [], del: [], meta: change(this.metaOf(state)) });
  }

  private async load(session: string): Promise<SessionState> {
    if (this.failure !== null) throw this.failure;
    await this.opened();
    const cached = this.states.get(session);
    if (cached !== undefined) return cached;
    const state = await loadSessionState(session, join(this.root, session), this.logger);
    this.states.set(session, state);
    return state;
  }

}

function stripVersions(found: Map<string, Versioned>): Map<string, StoredValue> {
  return new Map([...found].map(([key, { value }]) => [key, value]));
}

