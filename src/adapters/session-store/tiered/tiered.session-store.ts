import { DomainError } from "../../../domain/errors.ts";
import { withTimeout } from "../../../domain/timeout.ts";
import { silentLogger, type Logger } from "../../../domain/ports/logger.port.ts";
import type {
  FirestoreAuthStateMode,
  SessionStore,
  StoreHealth,
  StoredValue,
} from "../../../domain/ports/session-store.port.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertKey, assertSessionId } from "../shared/validation.ts";
import type { VersionedSessionTier } from "../shared/versioned-tier.ts";
import { Outbox, remoteWrites } from "./outbox.ts";
import { syncSession } from "./tiered-sync.ts";

export interface TieredSessionStoreOptions {
  readonly mode: FirestoreAuthStateMode;
  /** The embedded store (SQLite): always written first, always serves reads. */
  readonly local: VersionedSessionTier;
  /** Creates the Firestore store; never called in mode `off`, so Firestore is not even initialized. */
  readonly remote: () => VersionedSessionTier;
  /** Directory of the durable outbox, e.g. `<dataDir>/session-outbox`. */
  readonly outboxDir: string;
  /** Which keys are the login credentials (`creds_only` sends only those). Default: `key === "creds"`. */
  readonly isCredsKey?: (key: string) => boolean;
  readonly logger?: Logger;
  /** Called for every failed remote operation (metrics hook). */
  readonly onError?: (store: string, error: unknown) => void;
  /** A remote call slower than this counts as failed (it may still land: every remote write is conditional). */
  readonly remoteTimeoutMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

/**
 * The rollout composite behind FIRESTORE_AUTH_STATE_MODE (see
 * docs/session-stores.md): the disk serves every read and takes every write
 * first; Firestore receives the creds (`creds_only`) or everything (`full`)
 * through a durable per-session outbox, in order, retried until it answers.
 * Firestore failures never fail a write that reached the disk: they degrade
 * `health()` and go to `onError`.
 *
 * Ordering: every batch gets the session's next sequence number, which is
 * stored with each key in both tiers; a remote batch applies only if the
 * remote session has not passed it, and every copy between tiers (backfill,
 * restore) writes a key only over an older version of it.
 */
export class TieredSessionStore implements SessionStore {
  readonly kind: string;
  private readonly isCredsKey: (key: string) => boolean;
  private readonly logger: Logger;
  private readonly outbox: Outbox;
  private readonly lock = new KeyedLock();
  private readonly seqs = new Map<string, number>();
  private readonly draining = new Map<string, Promise<void>>();
  private retrying: Promise<void> | null = null;
  private remoteTier: VersionedSessionTier | null = null;
  private started: Promise<void> | null = null;
  private synced: boolean;
  private lastError: { message: string; since: string } | null = null;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Failed remote operations since start. */
  remoteErrorCount = 0;

  constructor(private readonly options: TieredSessionStoreOptions) {
    this.kind = options.mode === "off" ? options.local.kind : `${options.local.kind}+firestore(${options.mode})`;
    this.isCredsKey = options.isCredsKey ?? ((key) => key === "creds");
    this.logger = options.logger ?? silentLogger;
    this.outbox = new Outbox(options.outboxDir);
    this.synced = options.mode === "off";
    this.retryDelay = options.retryInitialMs ?? 1000;
  }

  /**
   * Recovers the outbox and reconciles with Firestore (restore on an empty
   * disk, backfill after a mode change). Resolves even when Firestore is
   * unreachable; the reconciliation is then retried in the background.
   */
  open(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    await this.readyFor(session);
    return this.options.local.getMany(session, keys);
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    await this.readyFor(session);
    return this.options.local.entries(session);
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    assertSessionId(session);
    for (const key of entries.keys()) assertKey(key);
    await this.readyFor(session);
    await this.lock.run(session, () => this.write(session, [...entries], false));
  }

  async clear(session: string): Promise<void> {
    assertSessionId(session);
    await this.readyFor(session);
    await this.lock.run(session, () => this.write(session, [], true));
  }

  async listSessions(): Promise<string[]> {
    await this.open();
    return this.options.local.listSessions();
  }

  health(): StoreHealth {
    if (this.options.mode === "off") return this.options.local.health();
    const queued = this.outbox.size();
    if (this.lastError !== null) {
      return {
        status: "degraded",
        detail: `firestore failing since ${this.lastError.since} (${this.lastError.message}); ${queued} batch(es) queued on disk`,
      };
    }
    if (!this.synced) return { status: "degraded", detail: "firestore not reconciled yet" };
    return queued > 0 ? { status: "ok", detail: `${queued} batch(es) on their way to firestore` } : { status: "ok" };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.started?.catch(() => undefined);
    await this.retrying;
    await this.lock.idle();
    await Promise.all([...this.draining.values()]);
    await this.options.local.close();
    if (this.remoteTier !== null) await this.withTimeout(this.remoteTier.close()).catch(() => undefined);
  }

  private async start(): Promise<void> {
    await this.outbox.load();
    await this.redoOutbox();
    if (this.options.mode === "off") return;
    await this.sync();
  }

  /** Batches queued but not on disk (a crash between the two): apply them to the disk first, in order. */
  private async redoOutbox(): Promise<void> {
    for (const session of this.outbox.sessions()) {
      for (const seq of this.outbox.seqs(session)) {
        const entry = await this.outbox.read(session, seq);
        await this.options.local.applyVersioned(session, entry.writes, {
          seq: entry.seq,
          onlyIfNewer: true,
          clear: entry.clear,
        });
      }
    }
  }

  private async readyFor(session: string): Promise<void> {
    assertSessionId(session);
    await this.open();
    if (this.synced) return;
    // Before Firestore answered once, a session with nothing on disk may exist only in Firestore:
    // answering "empty" would start a fresh login over it.
    if ((await this.localSeq(session)) === 0 && !(await this.options.local.listSessions()).includes(session)) {
      throw new DomainError(
        "STORE.UNAVAILABLE",
        `session ${session} has no local copy and Firestore has not answered yet; retry later`,
      );
    }
  }

  private async localSeq(session: string): Promise<number> {
    const cached = this.seqs.get(session);
    if (cached !== undefined) return cached;
    const seq = (await this.options.local.sessionMeta(session)).seq;
    this.seqs.set(session, seq);
    return seq;
  }

  private async write(session: string, entries: Array<[string, StoredValue | null]>, clear: boolean): Promise<void> {
    const previous = await this.localSeq(session);
    const seq = previous + 1;
    const writes = entries.map(([key, value]) => ({ key, value, version: seq }));
    const mode = this.options.mode;
    const remoteKeys =
      mode === "full"
        ? entries.map(([key]) => key)
        : mode === "creds_only"
          ? entries.map(([key]) => key).filter(this.isCredsKey)
          : [];
    const queued = mode !== "off" && (remoteKeys.length > 0 || clear);
    if (queued) {
      const bornHere = mode === "full" && previous === 0 ? true : null;
      await this.outbox.append(session, { seq, writes, remoteKeys, clear, complete: bornHere });
    }
    try {
      await this.options.local.applyVersioned(session, writes, { seq, clear });
    } catch (error) {
      if (queued) await this.outbox.remove(session, seq);
      throw error;
    }
    this.seqs.set(session, seq);
    if (queued) void this.drain(session);
  }

  private remote(): VersionedSessionTier {
    this.remoteTier ??= this.options.remote();
    return this.remoteTier;
  }

  private async sync(): Promise<void> {
    if (this.closed || this.synced || this.options.mode === "off") return;
    const mode = this.options.mode;
    try {
      const remote = this.remote();
      const sessions = new Set([
        ...(await this.withTimeout(remote.listSessions())),
        ...(await this.options.local.listSessions()),
      ]);
      for (const session of [...sessions].sort()) {
        const outcome = await this.lock.run(session, () =>
          this.withTimeout(syncSession(session, mode, this.options.local, remote, this.isCredsKey)),
        );
        this.seqs.delete(session);
        if (outcome.action !== "none")
          this.logger.info(
            { session, keys: outcome.keys, seq: outcome.seq },
            `session store ${outcome.action} session ${outcome.action === "restored" ? "from" : "to"} firestore`,
          );
      }
      this.synced = true;
      this.recovered();
      for (const session of this.outbox.sessions()) void this.drain(session);
    } catch (error) {
      this.failed("sync", undefined, error);
    }
  }

  /** Sends a session's queued batches, oldest first, one at a time; stops at the first failure. */
  private drain(session: string): Promise<void> {
    if (!this.synced || this.closed) return Promise.resolve();
    const running = this.draining.get(session);
    if (running !== undefined) return running;
    const run = this.drainOnce(session).finally(() => {
      this.draining.delete(session);
      // A batch queued while the last pass was finishing would otherwise wait for the next write.
      if (this.lastError === null && this.outbox.seqs(session).length > 0) void this.drain(session);
    });
    this.draining.set(session, run);
    return run;
  }

  private async drainOnce(session: string): Promise<void> {
    {
      for (;;) {
        const seq = this.outbox.seqs(session)[0];
        if (seq === undefined || this.closed) return;
        const entry = await this.outbox.read(session, seq);
        try {
          await this.withTimeout(
            this.remote().applyVersioned(session, remoteWrites(entry), {
              seq: entry.seq,
              onlyIfNewer: true,
              clear: entry.clear,
              ...(entry.complete === null ? {} : { complete: entry.complete }),
            }),
          );
        } catch (error) {
          this.failed("write", session, error);
          return;
        }
        await this.outbox.remove(session, seq);
        this.recovered();
      }
    }
  }

  /** Resolves when every batch queued so far has reached Firestore or failed once (tests, shutdown). */
  async flush(): Promise<void> {
    await this.open();
    await Promise.all(this.outbox.sessions().map((session) => this.drain(session)));
  }

  private failed(operation: string, session: string | undefined, error: unknown): void {
    this.remoteErrorCount += 1;
    const message = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error);
    this.lastError ??= { message, since: new Date().toISOString() };
    this.lastError = { message, since: this.lastError.since };
    this.logger.warn(
      { session, operation, queued: this.outbox.size(), err: message },
      "firestore session store call failed; the disk keeps serving, will retry",
    );
    try {
      this.options.onError?.("firestore", error);
    } catch {
      // a metrics hook must not break the store
    }
    this.scheduleRetry();
  }

  private recovered(): void {
    if (this.lastError === null) return;
    this.logger.info({ queued: this.outbox.size() }, "firestore session store answers again");
    this.lastError = null;
    this.retryDelay = this.options.retryInitialMs ?? 1000;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== null) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.retryMaxMs ?? 60_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retrying = this.retry().finally(() => (this.retrying = null));
    }, delay);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    if (!this.synced) await this.sync();
    for (const session of this.outbox.sessions()) void this.drain(session);
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.options.remoteTimeoutMs ?? 10_000;
    return withTimeout(work, ms, () => new Error(`firestore did not answer within ${ms} ms`));
  }
}
