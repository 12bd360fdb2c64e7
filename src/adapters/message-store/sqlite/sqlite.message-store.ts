import type Database from "libsql";
import {
  earlyStatusLimits,
  earlyStatusToKeep,
  type EarlyStatusLimits,
  type EarlyStatusOptions,
} from "../../../domain/early-statuses.ts";
import { DomainError, StoreUnavailableError } from "../../../domain/errors.ts";
import type { MessageMedia } from "../../../domain/media.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../../domain/message.ts";
import {
  acceptedOutbound,
  afterAttempt,
  afterClaim,
  afterRequeue,
  afterStatusReport,
  amended,
  earlyStatusesAppliedBy,
  heldMediaIds,
  isUnfinished,
  receivedInbound,
  withMedia,
  type StoredMessage,
} from "../../../domain/message-lifecycle.ts";
import type {
  Amendment,
  AttemptOutcome,
  EnqueueResult,
  ListFilter,
  MessageStore,
  Page,
  QueueDepth,
  StatusApplied,
  StatusUpdate,
} from "../../../domain/ports/message-store.port.ts";
import { followersToRead, selectRuns } from "../../../domain/recipient-runs.ts";
import { DurableDatabase } from "../../shared/sqlite/durable-database.ts";
import type { Param, PreparedStatements } from "../../shared/sqlite/statements.ts";
import type { SyncFile } from "../../shared/sqlite/wal-sync.ts";
import { EarlyStatuses } from "./early-statuses.ts";
import { changedColumns, conversationJson, newRow, rowToMessage, rowToStored, type MessageRow } from "./row-mapping.ts";
import { MessageReads } from "./message-reads.ts";
import { candidate, COLUMNS, COLUMN_SLOTS, HEAD, HEAD_OF_LINE, insertParams } from "./row-columns.ts";
import { migrate } from "./schema.ts";

export interface SqliteMessageStoreOptions extends EarlyStatusOptions {
  /** Database file; its directory is created (0700) and the file created 0600 if missing. */
  readonly path: string;
  /**
   * `full` (default): a commit is on disk before it is acknowledged, surviving
   * power loss. `normal`: in WAL mode a commit survives a crash of the process
   * (kill -9) but the last commits may be lost on power loss or an OS crash.
   */
  readonly synchronous?: "full" | "normal";
  /** Most writes per group transaction (default 1000); 1 means one transaction per write. */
  readonly maxBatchSize?: number;
  /** How long a write waits for another connection's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Test hook: how the write-ahead log is synced (`synchronous: "full"`). */
  readonly syncFile?: SyncFile; /** Called when the store stops being able to write (with why) and when it can again (undefined). */
  readonly onAvailability?: (failure: StoreUnavailableError | undefined) => void;
}

/**
 * The MessageStore on an embedded SQLite database (see {@link DurableDatabase}).
 * The rules of a message's life are the domain's (message-lifecycle.ts,
 * recipient-runs.ts, early-statuses.ts); this store queries, persists, and
 * keeps the `head` flag that lets claim find each recipient's oldest
 * unfinished message without reading the backlog. Every write goes through
 * the group commit: writes of one event-loop turn share one transaction,
 * and each promise resolves after that transaction committed and, with
 * `synchronous: "full"`, after the commit is on disk. A claim, which needs no
 * durability of its own (a lease a power cut may undo: the message is
 * claimed again), waits only for the durable commits made before it, so a
 * message is never sent before its acceptance is on disk. Reads run at once;
 * they see only committed writes.
 */
export class SqliteMessageStore implements MessageStore {
  readonly #database: DurableDatabase;
  readonly #sql: PreparedStatements;
  readonly #reads: MessageReads;
  readonly #path: string;
  readonly #early: EarlyStatuses;
  readonly #earlyLimits: EarlyStatusLimits;
  /** Leases of claims whose caller got an error though they may have committed (their log sync failed). */
  #orphanLeases: Array<{ readonly id: string; readonly leaseUntil: number }> = [];

  constructor(options: SqliteMessageStoreOptions) {
    this.#path = options.path;
    this.#database = new DurableDatabase({
      path: options.path,
      synchronous: options.synchronous ?? "full",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      store: "message store",
      onAvailability: options.onAvailability,
      migrate: (db) => migrate(db),
      closedError: unavailable,
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
      ...(options.syncFile === undefined ? {} : { syncFile: options.syncFile }),
    });
    this.#sql = this.#database.statements;
    this.#reads = new MessageReads(this.#sql);
    this.#earlyLimits = earlyStatusLimits(options);
    this.#early = new EarlyStatuses((sql) => this.#statement(sql), this.#earlyLimits);
  }

  /** The database file this store writes. */
  get path(): string {
    return this.#path;
  }

  enqueue(message: NewOutboundMessage): Promise<EnqueueResult> {
    return this.#database.run(() => this.#enqueue(message));
  }

  claim(route: Route, limit: number, leaseMs: number, now: Date, window = 1): Promise<Message[]> {
    let claimed: readonly Message[] = [];
    const orphans = this.#orphanLeases;
    return this.#database
      .run(
        () => {
          this.#releaseOrphans(orphans, now);
          return (claimed = this.#claim(route, limit, leaseMs, now, window));
        },
        { durable: false },
      )
      .then(
        (messages) => {
          if (orphans.length > 0) this.#orphanLeases = this.#orphanLeases.filter((lease) => !orphans.includes(lease));
          return messages;
        },
        (error: unknown) => {
          // A claim can commit and still fail (the sync of the log before it
          // failed): nobody sends what it leased, so the next claim hands it back.
          const leaseUntil = now.getTime() + Math.max(0, leaseMs);
          if (error instanceof StoreUnavailableError)
            this.#orphanLeases.push(...claimed.map((message) => ({ id: message.id, leaseUntil })));
          throw error;
        },
      );
  }

  recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    return this.#database.run(() => this.#recordAttempt(id, outcome, now));
  }

  applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined> {
    return this.#database.run(() => this.#applyStatus(update, now));
  }

  recordInbound(message: NewInboundMessage): Promise<{ readonly message: Message; readonly created: boolean }> {
    return this.#database.run(() => this.#recordInbound(message));
  }

  updateMedia(id: string, media: readonly MessageMedia[], now: Date): Promise<Message | undefined> {
    return this.#database.run(() => {
      const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
      if (!row) return undefined;
      const next = withMedia(rowToStored(row), media, now);
      this.#statement("UPDATE messages SET media = ?, updated_at = ? WHERE seq = ?").run([
        JSON.stringify(next.message.media),
        now.getTime(),
        row.seq,
      ]);
      this.#rereferMedia(row.seq, next.message);
      return next.message;
    });
  }

  amend(
    id: string,
    amendment: Amendment,
    now: Date,
  ): Promise<{ readonly message: Message; readonly changed: boolean } | undefined> {
    return this.#database.run(() => {
      const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
      if (!row) return undefined;
      const next = amended(rowToStored(row), amendment, now);
      if (!next) return { message: rowToMessage(row), changed: false };
      this.#statement("UPDATE messages SET body = ?, media = ?, conversation = ? WHERE seq = ?").run([
        next.message.text,
        JSON.stringify(next.message.media),
        conversationJson(next.message),
        row.seq,
      ]);
      this.#rereferMedia(row.seq, next.message);
      return { message: this.#write(row, next).message, changed: true };
    });
  }

  findByProviderMessageId(provider: string, providerMessageId: string): Promise<Message | undefined> {
    return this.#reads.findByProviderMessageId(provider, providerMessageId);
  }

  mediaInUse(mediaId: string, since: Date): Promise<boolean> {
    return this.#reads.mediaInUse(mediaId, since);
  }

  requeueInFlight(now: Date): Promise<number> {
    return this.#database.run(() => {
      const rows = this.#all("SELECT * FROM messages WHERE status = 'sending' ORDER BY seq", []);
      for (const row of rows) this.#write(row, afterRequeue(rowToStored(row), now));
      return rows.length;
    });
  }

  get(id: string): Promise<Message | undefined> {
    return this.#reads.get(id);
  }

  list(filter: ListFilter): Promise<Page<Message>> {
    return this.#reads.list(filter);
  }

  changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>> {
    return this.#reads.changedSince(since, limit, cursor);
  }

  queueDepths(now: Date): Promise<QueueDepth[]> {
    return this.#reads.queueDepths(now);
  }

  nextDueAt(route: Route): Promise<Date | undefined> {
    return this.#reads.nextDueAt(route);
  }

  async ping(): Promise<void> {
    const health = await this.#database.health();
    if (health.status !== "ok")
      throw new DomainError("STORE.UNAVAILABLE", health.detail ?? "the message store is down");
  }

  close(): Promise<void> {
    return this.#database.close();
  }

  #enqueue(message: NewOutboundMessage): EnqueueResult {
    if (message.idempotency) {
      const existing = this.#one("SELECT * FROM messages WHERE idempotency_key = ?", [message.idempotency.key]);
      if (existing) {
        const same = existing.idempotency_fingerprint === message.idempotency.fingerprint;
        return { kind: same ? "existing" : "conflict", message: rowToMessage(existing) };
      }
    }
    // One statement, which also decides the head-of-line flag: the row is head
    // unless an earlier message to this recipient is unfinished.
    const stored = acceptedOutbound(message);
    const row = newRow(stored, message.idempotency, false);
    const params = insertParams(row);
    this.#statement(`INSERT INTO messages (${COLUMNS}) VALUES (${COLUMN_SLOTS.replace("@head", HEAD_OF_LINE)})`).run([
      ...params.slice(0, HEAD),
      row.provider,
      row.session,
      row.to_address,
      ...params.slice(HEAD + 1),
    ]);
    this.#referMedia(stored.message);
    return { kind: "created", message: stored.message };
  }

  #claim(route: Route, limit: number, leaseMs: number, now: Date, window: number): Message[] {
    const count = Math.floor(limit);
    if (!(count >= 1)) return [];
    // The candidates: the oldest due heads (the due test repeats the domain's
    // isDue so the index of heads is read only as far as the limit), and
    // after each, as many of its recipient's next messages as a run may take.
    const at = now.getTime();
    const heads = this.#all(
      `SELECT * FROM messages WHERE provider = ? AND session = ? AND head = 1
       AND ((status = 'queued' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?))
       ORDER BY seq LIMIT ?`,
      [route.provider, route.session, at, at, count],
    );
    const followers = followersToRead(count, heads.length, window);
    const queues = heads.map((head) => [head, ...(followers > 0 ? this.#unfinishedAfter(head, followers) : [])]);
    return selectRuns(
      queues.map((queue) => queue.map(candidate)),
      count,
      window,
      now,
    ).map(({ row }) => this.#write(row, afterClaim(rowToStored(row), leaseMs, now)).message);
  }

  /** Puts back in the queue what a failed claim leased, if it did commit (still `sending` under that lease). */
  #releaseOrphans(orphans: ReadonlyArray<{ readonly id: string; readonly leaseUntil: number }>, now: Date): void {
    for (const { id, leaseUntil } of orphans) {
      const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
      if (row?.status === "sending" && row.lease_until === leaseUntil)
        this.#write(row, afterRequeue(rowToStored(row), now));
    }
  }

  /** The recipient's unfinished messages right after `head`, at most `max`, in acceptance order. */
  #unfinishedAfter(head: MessageRow, max: number): MessageRow[] {
    return this.#all(
      `SELECT * FROM messages WHERE provider = ? AND session = ? AND to_address = ? AND status IN ('queued', 'sending')
       AND seq > ? ORDER BY seq LIMIT ?`,
      [head.provider, head.session, head.to_address, head.seq, max],
    );
  }

  #recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Message {
    const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
    if (!row) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    const stored = rowToStored(row);
    const key = earlyStatusesAppliedBy(stored, outcome);
    const early = key === undefined ? [] : this.#early.take(key);
    const next = afterAttempt(stored, outcome, now, early, this.#earlyLimits);
    return next === stored ? stored.message : this.#write(row, next).message;
  }

  #applyStatus(update: StatusUpdate, now: Date): StatusApplied | undefined {
    let row: MessageRow | undefined;
    if (update.providerMessageId !== undefined) {
      row = this.#one(
        `SELECT * FROM messages WHERE provider = ? AND provider_message_id = ? AND direction = 'outbound'
         ORDER BY seq DESC LIMIT 1`,
        [update.provider, update.providerMessageId],
      );
    }
    if (!row && update.messageId !== undefined) {
      row = this.#one("SELECT * FROM messages WHERE id = ?", [update.messageId]);
    }
    if (!row) {
      const early = earlyStatusToKeep(update, now);
      if (early) this.#early.keep(early, now);
      return undefined;
    }
    const { stored, reached } = afterStatusReport(rowToStored(row), update, now);
    return { message: reached.length === 0 ? stored.message : this.#write(row, stored).message, reached };
  }

  #recordInbound(message: NewInboundMessage): { message: Message; created: boolean } {
    const existing = this.#one(
      "SELECT * FROM messages WHERE provider = ? AND provider_message_id = ? AND direction = 'inbound'",
      [message.provider, message.providerMessageId],
    );
    if (existing) return { message: rowToMessage(existing), created: false };
    const stored = receivedInbound(message);
    this.#statement(`INSERT INTO messages (${COLUMNS}) VALUES (${COLUMN_SLOTS.replace("@head", "?")})`).run(
      insertParams(newRow(stored, null, false)),
    );
    this.#referMedia(stored.message);
    return { message: stored.message, created: true };
  }

  /** Replaces the record of which held files a message refers to, after its media changed. */
  #rereferMedia(seq: number, message: Message): void {
    this.#statement("DELETE FROM message_media WHERE message_seq = ?").run([seq]);
    this.#referMedia(message);
  }

  /** Records which held files the message (already written) refers to. */
  #referMedia(message: Message): void {
    for (const mediaId of heldMediaIds(message)) {
      this.#statement(
        "INSERT OR IGNORE INTO message_media (media_id, message_seq) SELECT ?, seq FROM messages WHERE id = ?",
      ).run([mediaId, message.id]);
    }
  }

  /**
   * Persists the message `row` became. When it stops being unfinished, hands
   * its recipient's head-of-line flag to the next unfinished message (the
   * FIFO invariant that claim's query of heads relies on).
   */
  #write(row: MessageRow, next: StoredMessage): StoredMessage {
    const columns = changedColumns(next);
    const head = isUnfinished(next.message.status) ? row.head : 0;
    this.#statement(
      `UPDATE messages SET status = ?, history = ?, error = ?, attempts = ?, provider_message_id = ?,
         next_attempt_at = ?, lease_until = ?, head = ?, updated_at = ? WHERE seq = ?`,
    ).run([
      columns.status,
      columns.history,
      columns.error,
      columns.attempts,
      columns.provider_message_id,
      columns.next_attempt_at,
      columns.lease_until,
      head,
      columns.updated_at,
      row.seq,
    ]);
    if (row.head === 1 && head === 0) this.#promoteHead(row);
    return next;
  }

  #promoteHead(route: Pick<MessageRow, "provider" | "session" | "to_address">): void {
    this.#statement(
      `UPDATE messages SET head = 1 WHERE seq = (
         SELECT seq FROM messages WHERE provider = ? AND session = ? AND to_address = ?
         AND status IN ('queued', 'sending') ORDER BY seq LIMIT 1)`,
    ).run([route.provider, route.session, route.to_address]);
  }

  #one(sql: string, params: readonly Param[]): MessageRow | undefined {
    return this.#read<MessageRow>(sql, params)[0];
  }

  #all(sql: string, params: readonly Param[]): MessageRow[] {
    return this.#read<MessageRow>(sql, params);
  }

  #read<T>(sql: string, params: readonly Param[]): T[] {
    return this.#sql.all<T>(sql, params);
  }

  #statement(sql: string): Database.Statement {
    return this.#sql.get(sql);
  }
}

function unavailable(): DomainError {
  return new DomainError("STORE.UNAVAILABLE", "the message store is closed");
}
