import type { Logger } from "../../../domain/ports/logger.port.ts";
import { encodeBatch } from "./disk-files.ts";
import { DiskLogReplay } from "./disk-log-replay.ts";
import type { PlannedBatch } from "./disk-batch-plan.ts";
import { writeSessionDir } from "./disk-pending-files.ts";
import { metaOfState, type SessionState } from "./disk-session-state.ts";
import { syncDirs, type SyncFn } from "./durable-sync.ts";
import { recoverLogs } from "./log-recovery.ts";
import { WriteAheadLog } from "./write-ahead-log.ts";

export interface CrashPoints {
  beforeCommit?(): void;
  afterCommit?(): void;
}

export interface DiskCommitLogOptions {
  readonly root: string;
  readonly sync: SyncFn;
  readonly logger: Logger;
  readonly crashPoints: CrashPoints;
  readonly checkpoint: { readonly records: number; readonly bytes: number; readonly intervalMs: number };
  /** The in-memory state of a session this log holds records of (the store keeps it until `close`). */
  readonly stateOf: (session: string) => SessionState | undefined;
}

/**
 * The disk store's durability machinery: commits batches to the write-ahead
 * log and into the sessions' in-memory state, checkpoints the log (on its
 * thresholds, on a timer, at close) by writing the sessions' pending files
 * and `.meta`, and replays the logs of dead instances once, before anything
 * is read. A failed checkpoint (or a simulated crash) stops it: `failure`
 * is then set, and the log is left for the replay at the next start.
 */
export class DiskCommitLog {
  private readonly log: WriteAheadLog;
  private opening: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped: Error | null = null;

  constructor(private readonly options: DiskCommitLogOptions) {
    this.log = new WriteAheadLog({
      root: options.root,
      sync: options.sync,
      maxRecords: options.checkpoint.records,
      maxBytes: options.checkpoint.bytes,
      onFull: () => this.checkpointSoon(0),
      writeSessions: (sessions) => this.writeSessions(sessions),
    });
  }

  /** Why the store cannot write any more (a checkpoint or a log write failed), or `null`. */
  get failure(): Error | null {
    return this.stopped ?? (this.log.failure as Error | null);
  }

  /** Set once a checkpoint failed or a crash was simulated: the store refuses every call, reads included. */
  get stoppedBy(): Error | null {
    return this.stopped;
  }

  /** Replays, once, the logs that dead instances left (a crash or power loss after a commit point). */
  recovered(): Promise<void> {
    this.opening ??= recoverLogs(
      this.options.root,
      this.options.sync,
      new DiskLogReplay(this.options.root, this.options.sync),
    ).then((replayed) => {
      if (replayed > 0)
        this.options.logger.info(
          { records: replayed },
          "session store replayed its write-ahead log after an unclean stop",
        );
    });
    return this.opening;
  }

  /**
   * Commits a batch: the log append is the commit point (durable once it
   * resolves); the in-memory state then takes the batch (its index, and its
   * files as pending files, which reads take first), and the call resolves.
   * No file is written here: the checkpoint of the batch's generation does
   * it (see `write-ahead-log.ts`).
   */
  async commit(session: string, state: SessionState, batch: PlannedBatch): Promise<void> {
    this.crashPoint("beforeCommit");
    const generation = await this.log.append(encodeBatch(batch.record));
    try {
      this.crashPoint("afterCommit");
      // Before `release`: a checkpoint writes its generation's sessions only once it drained.
      batch.applyTo(state);
      generation.sessions.add(session);
    } finally {
      generation.release();
    }
    this.checkpointSoon(this.options.checkpoint.intervalMs);
  }

  async checkpoint(): Promise<void> {
    if (this.stopped !== null) throw this.stopped;
    try {
      await this.log.checkpoint();
    } catch (error) {
      this.stop(error, "session store checkpoint failed; store stopped, the log is replayed at the next start");
      throw error;
    }
  }

  /** The final checkpoint: every committed batch in its files, the log removed. Call once no commit can start any more. */
  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped !== null) return;
    try {
      await this.log.checkpoint(true);
    } catch (error) {
      this.stop(error, "session store final checkpoint failed; the log is replayed at the next start");
      throw error;
    }
  }

  private checkpointSoon(delayMs: number): void {
    if (this.stopped !== null) return;
    if (this.timer !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      // `checkpoint` logs a failure and stops the store: nothing more to do here.
      this.checkpoint().catch(() => undefined);
    }, delayMs);
    this.timer.unref();
  }

  private stop(error: unknown, message?: string): void {
    if (message !== undefined) this.options.logger.error({ err: error }, message);
    this.stopped ??= error instanceof Error ? error : new Error(String(error));
    this.log.abandon(this.stopped);
  }

  private crashPoint(point: keyof CrashPoints): void {
    try {
      this.options.crashPoints[point]?.();
    } catch (error) {
      this.stop(error);
      throw error;
    }
  }

  /** The checkpoint's hook: each session's pending files, then its `.meta` from its in-memory index of this moment, then the directories. */
  private async writeSessions(sessions: ReadonlySet<string>): Promise<void> {
    const dirs = new Set<string>();
    // One after the other, like the fsyncs: a checkpoint runs in the background.
    for (const session of sessions) {
      const state = this.options.stateOf(session);
      if (state === undefined || state.metaCorrupt !== null)
        throw new Error(`session store bug: no index to checkpoint for session ${session}`);
      for (const dir of await writeSessionDir(state.dir, state.pending, metaOfState(state), this.options.sync))
        dirs.add(dir);
    }
    await syncDirs(dirs, this.options.sync);
  }
}
