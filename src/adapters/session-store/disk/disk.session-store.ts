import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { CorruptEntryError, type StoreHealth, type StoredValue } from "../../../domain/ports/session-store.port.ts";
import { isValidSessionId } from "../../../domain/session.ts";
import { silentLogger, type Logger } from "../../../domain/ports/logger.port.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertSessionId } from "../shared/validation.ts";
import {
  type ApplyOptions,
  type TierSessionMeta,
  type Versioned,
  type VersionedSessionTier,
  type VersionedWrite,
} from "../shared/versioned-tier.ts";
import { isNotFound } from "../shared/durable-files.ts";
import { planApply, planKeptAside } from "./disk-batch-plan.ts";
import { DiskCommitLog, type CrashPoints } from "./disk-commit-log.ts";
import { readKeys, stripVersions } from "./disk-key-reads.ts";
import { loadSessionState, type Entry, type SessionState } from "./disk-session-state.ts";
import { DiskSessionStoreClosedError } from "./disk-store-closed-error.ts";
import { defaultSync, type SyncFn } from "./durable-sync.ts";

export interface DiskSessionStoreOptions {
  /** Sessions live in `<dataDir>/sessions/<session>/`. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /**
   * Test-only: called at the two points where a crash matters in a batch
   * (before its log record is appended; after the record is durable, before
   * the batch reaches memory: its files are only ever written by a later
   * checkpoint). Throwing from it simulates a crash at that point: the store
   * stops as a killed process would, leaving its log to be replayed by the
   * next store opened on the data dir.
   */
  readonly crashPoints?: CrashPoints;
  /** How files are made durable (tests count the calls). Default: fdatasync for the log, fsync otherwise. */
  readonly sync?: SyncFn;
  /**
   * When the log is checkpointed (the files its batches wrote written and
   * fsynced, with `.meta`; the log removed): after `records` records or
   * `bytes` bytes, or `intervalMs` after the first record since the last
   * checkpoint, and at close. Until then the batches' files are held in
   * memory (the newest content of each), so these bound that memory too.
   * Defaults: 1000 records, 16 MiB, 1 s.
   */
  readonly checkpoint?: { readonly records?: number; readonly bytes?: number; readonly intervalMs?: number };
}

/**
 * The default session store: one file per key under
 * `<dataDir>/sessions/<session>/`, in Baileys' BufferJSON encoding and file
 * naming (see `disk-key-names.ts`), so a `useMultiFileAuthState` folder can be
 * dropped in. Each `setMany` is atomic and durable through a write-ahead
 * log shared by all sessions (see `write-ahead-log.ts`): it resolves at its
 * commit point, one fdatasync shared by the batches that arrive meanwhile,
 * and writes no file. Its files wait in memory (the newest content per
 * file, which reads take first) until a checkpoint writes each of them
 * once, fsynced, with each touched session's index (`.meta`). A batch costs
 * O(keys written): its record holds only what it changed, and the
 * in-memory state is updated in place. Calls on one session are
 * serialized. One instance owns a data dir (it caches each session's index
 * and pending files, which the files on disk lag behind until a
 * checkpoint), which the composition root guarantees. After `close()`,
 * every call rejects with {@link DiskSessionStoreClosedError}.
 */
export class DiskSessionStore implements VersionedSessionTier {
  readonly kind = "disk";
  private readonly root: string;
  private readonly logger: Logger;
  private readonly lock = new KeyedLock();
  private readonly states = new Map<string, SessionState>();
  private readonly commits: DiskCommitLog;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: DiskSessionStoreOptions) {
    this.root = join(options.dataDir, "sessions");
    this.logger = options.logger ?? silentLogger;
    this.commits = new DiskCommitLog({
      root: this.root,
      sync: options.sync ?? defaultSync,
      logger: this.logger,
      crashPoints: options.crashPoints ?? {},
      checkpoint: {
        records: options.checkpoint?.records ?? 1000,
        bytes: options.checkpoint?.bytes ?? 16 * 1024 * 1024,
        intervalMs: options.checkpoint?.intervalMs ?? 1000,
      },
      stateOf: (session) => this.states.get(session),
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
    return this.read(session, (state) =>
      this.readKeys(session, state, [...state.corrupt.keys(), ...state.entries.keys()]),
    );
  }

  async sessionMeta(session: string): Promise<TierSessionMeta> {
    return this.read(session, async (state) => ({ seq: state.seq, complete: true }));
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    return this.withState(session, async (state) => {
      const seq = state.seq + 1;
      await this.apply(
        session,
        state,
        [...entries].map(([key, value]) => ({ key, value, version: seq })),
        { seq },
      );
    });
  }

  async clear(session: string): Promise<void> {
    return this.withState(session, async (state) => {
      await this.apply(session, state, [], { seq: state.seq + 1, clear: true });
    });
  }

  async applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean> {
    return this.withState(session, (state) => this.apply(session, state, writes, options));
  }

  async listSessions(): Promise<string[]> {
    this.assertOpen();
    await this.commits.recovered();
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    // A session whose first batches are not checkpointed yet has no directory.
    const sessions: string[] = [];
    for (const name of [...new Set([...names, ...this.states.keys()])].sort()) {
      if (!isValidSessionId(name)) continue;
      const state = await this.lock.run(name, () => this.load(name));
      if (state.entries.size > 0 || state.corrupt.size > 0 || state.metaCorrupt !== null) sessions.push(name);
    }
    return sessions;
  }

  health(): StoreHealth {
    const failure = this.commits.failure;
    if (failure !== null)
      return { status: "degraded", detail: `disk session store stopped after a failed write: ${failure.message}` };
    return { status: "ok" };
  }

  /** Writes every committed batch to its files and `.meta`, durably, and removes the log records describing them. */
  async checkpoint(): Promise<void> {
    this.assertOpen();
    await this.commits.checkpoint();
  }

  /**
   * Lets the calls made so far finish, then checkpoints the log (every
   * committed batch written and fsynced in its files and `.meta`, the log
   * removed) and drops the in-memory state. Later calls reject.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.lock.idle();
      await this.commits.close();
      this.states.clear();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new DiskSessionStoreClosedError(this.options.dataDir);
  }

  private readKeys(session: string, state: SessionState, keys: readonly string[]): Promise<Map<string, Versioned>> {
    return readKeys(session, state, keys, (key, located, cause) =>
      this.quarantine(session, state, key, located, cause),
    );
  }

  private async read<T>(session: string, work: (state: SessionState) => Promise<T>): Promise<T> {
    return this.withState(session, async (state) => {
      if (state.metaCorrupt !== null)
        throw new CorruptEntryError(session, null, state.metaCorrupt, "unreadable index file");
      return work(state);
    });
  }

  /** Runs `work` on the session's state under its lock; reads take it too, so a batch being applied is never seen half done. */
  private async withState<T>(session: string, work: (state: SessionState) => Promise<T>): Promise<T> {
    assertSessionId(session);
    this.assertOpen();
    return this.lock.run(session, async () => work(await this.load(session)));
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
    await this.commits.commit(session, state, planKeptAside(session, state, key, indexKey, join(state.dir, aside)));
    const detail = cause instanceof Error ? cause.name : "undecodable";
    this.logger.error(
      { session, key, path: join(state.dir, aside) },
      "session store entry is corrupt; kept aside, session needs attention",
    );
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
    if (batch !== null) await this.commits.commit(session, state, batch);
    return true;
  }

  private async load(session: string): Promise<SessionState> {
    const stopped = this.commits.stoppedBy;
    if (stopped !== null) throw stopped;
    await this.commits.recovered();
    const cached = this.states.get(session);
    if (cached !== undefined) return cached;
    const state = await loadSessionState(session, join(this.root, session), this.logger);
    this.states.set(session, state);
    return state;
  }
}
