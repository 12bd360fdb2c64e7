import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  CorruptEntryError,
  type StoreHealth,
  type StoredValue,
} from "../../../domain/ports/session-store.port.ts";
import { isValidSessionId } from "../../../domain/session.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertSessionId } from "../shared/validation.ts";
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
import { planApply, planKeptAside, type PlannedBatch } from "./disk-batch-plan.ts";
import { applyBatch, encodeBatch } from "./disk-files.ts";
import { writeMeta } from "./disk-index.ts";
import { readKeys, stripVersions } from "./disk-key-reads.ts";
import { DiskLogReplay } from "./disk-log-replay.ts";
import { loadSessionState, metaOfState, type Entry, type SessionState } from "./disk-session-state.ts";
import { defaultSync, recoverLogs, WriteAheadLog, type SyncFn, type Touched } from "./write-ahead-log.ts";

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
 * are fsynced at checkpoints, where each touched session's index (`.meta`)
 * is written too. A batch costs O(keys written): its record holds only what
 * it changed, and the in-memory index is updated in place. Calls on one
 * session are serialized. One instance owns a data dir (it caches each
 * session's index, and `.meta` lags behind it until a checkpoint), which
 * the composition root guarantees.
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
      writeIndexes: (sessions) => this.writeIndexes(sessions),
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

  /** Makes every committed batch durable in its own files and `.meta`, and removes the log records describing them. */
  async checkpoint(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    await this.log.checkpoint();
  }

  /** Checkpoints the log (every committed batch fsynced in its files and `.meta`) and drops the cached indexes. */
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
    this.opening ??= recoverLogs(this.root, this.sync, new DiskLogReplay(this.root, this.sync)).then((replayed) => {
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
   * resolves); the in-memory index then takes the batch, and the files are
   * written without fsync, which the log's next checkpoint provides (with the
   * session's `.meta`). A failure after the commit point stops the store:
   * the files may be half written, and the log replays them at the next start.
   */
  private async commit(session: string, state: SessionState, batch: PlannedBatch): Promise<void> {
    this.crashPoint("beforeCommit");
    const generation = await this.log.append(encodeBatch(batch.record));
    // Before `release`: a checkpoint writes this session's `.meta` only once the generation drained.
    batch.applyTo(state);
    generation.sessions.add(session);
    try {
      this.crashPoint("afterCommit");
      generation.release(await applyBatch(state.dir, batch.record));
    } catch (error) {
      generation.release();
      this.fail(error);
      throw error;
    }
    this.checkpointSoon(this.checkpointIntervalMs);
  }

  /** The checkpoint's hook: each session's `.meta` from its in-memory index of this moment (see `write-ahead-log.ts`). */
  private async writeIndexes(sessions: ReadonlySet<string>): Promise<Touched> {
    const dirs = new Set<string>();
    // One after the other, like the checkpoint's fsyncs: a checkpoint runs in the background.
    for (const session of sessions) {
      const state = this.states.get(session);
      if (state === undefined || state.metaCorrupt !== null) throw new Error(`session store bug: no index to checkpoint for session ${session}`);
      for (const dir of (await writeMeta(state.dir, metaOfState(state), this.sync)).dirs) dirs.add(dir);
    }
    return { files: [], dirs };
  }

  private readKeys(session: string, state: SessionState, keys: readonly string[]): Promise<Map<string, Versioned>> {
    return readKeys(session, state, keys, (key, located, cause) => this.quarantine(session, state, key, located, cause));
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

  private async quarantine(
    session: string,
    state: SessionState,
    key: string,
    [indexKey, entry]: [string, Entry],
    cause: unknown,
  ): Promise<never> {
    const aside = `${entry.file}.corrupt-${Date.now()}`;
    await rename(join(state.dir, entry.file), join(state.dir, aside));
    await this.commit(session, state, planKeptAside(session, state, key, indexKey, join(state.dir, aside)));
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
    const batch = planApply(session, state, writes, options);
    if (batch !== null) await this.commit(session, state, batch);
    return true;
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
