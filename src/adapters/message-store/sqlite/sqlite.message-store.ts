import type Database from "libsql";
import { DomainError } from "../../../domain/errors.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../../domain/message.ts";
import { canTransition, statusesPassed } from "../../../domain/message-status.ts";
import type {
  AttemptOutcome,
  EnqueueResult,
  ListFilter,
  MessageStore,
  Page,
  QueueDepth,
  StatusApplied,
  StatusUpdate,
} from "../../../domain/ports/message-store.port.ts";
import { DEFAULT_EARLY_STATUS_RETENTION_MS, DEFAULT_MAX_EARLY_STATUSES, EarlyStatuses } from "./early-statuses.ts";
import { DurableDatabase } from "../../shared/sqlite/durable-database.ts";
import type { GroupCommit } from "../../shared/sqlite/group-commit.ts";
import type { SyncFile } from "../../shared/sqlite/wal-sync.ts";
import { queuedMessage, rowToMessage, type MessageRow } from "./row-mapping.ts";
import { applyChange, newInboundRow, newOutboundRow, UNFINISHED, type RowChange } from "./row-changes.ts";
import { migrate } from "./schema.ts";
import { readPage, readTimePage } from "../../shared/sqlite/cursor.ts";
import type { Param, PreparedStatements } from "../../shared/sqlite/statements.ts";

export interface SqliteMessageStoreOptions {
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
  /** How long a status report that matched no message is kept for `recordAttempt` (default 24 h). */
  readonly earlyStatusRetentionMs?: number;
  /** Most such reports kept, the oldest dropped first (default 10,000). */
  readonly maxEarlyStatuses?: number;
  /** Test hook: how the write-ahead log is synced (`synchronous: "full"`). */
  readonly syncFile?: SyncFile;
}

const MAX_LIST_LIMIT = 1000;

/** The columns an insert writes, in the order of {@link insertParams}. */
const INSERT_COLUMNS = [
  "id",
  "direction",
  "status",
  "channel",
  "provider",
  "session",
  "to_address",
  "from_address",
  "body",
  "media_urls",
  "metadata",
  "provider_message_id",
  "attempts",
  "error",
  "idempotency_key",
  "idempotency_fingerprint",
  "next_attempt_at",
  "lease_until",
  "head",
  "created_at",
  "updated_at",
  "history",
] as const;
const COLUMNS = INSERT_COLUMNS.join(", ");
const HEAD = INSERT_COLUMNS.indexOf("head");
const COLUMN_SLOTS = INSERT_COLUMNS.map((column) => (column === "head" ? "@head" : "?")).join(", ");
/** 1 unless an earlier message to the same recipient is unfinished (parameters: provider, session, to). */
const HEAD_OF_LINE = `NOT EXISTS (SELECT 1 FROM messages WHERE provider = ? AND session = ? AND to_address = ?
  AND status IN ('queued', 'sending'))`;

function insertParams(row: MessageRow): Param[] {
  return INSERT_COLUMNS.map((column) => row[column]);
}

/**
 * The MessageStore on an embedded SQLite database (see {@link DurableDatabase}).
 * Every write goes through the group commit: writes of one event-loop turn share one
 * transaction, and each promise resolves after that transaction committed
 * and, with `synchronous: "full"`, after the commit is on disk (synced off
 * the event loop by a {@link WalSync}). A claim, which needs no durability of
 * its own (a lease a power cut may undo: the message is claimed again), waits
 * only for the durable commits made before it, so a message is never sent
 * before its acceptance is on disk. Reads run at once; they see only
 * committed writes.
 */
export class SqliteMessageStore implements MessageStore {
  readonly #database: DurableDatabase;
  readonly #sql: PreparedStatements;
  readonly #path: string;
  readonly #group: GroupCommit;
  readonly #early: EarlyStatuses;

  constructor(options: SqliteMessageStoreOptions) {
    this.#path = options.path;
    this.#database = new DurableDatabase({
      path: options.path,
      synchronous: options.synchronous ?? "full",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      migrate: (db) => migrate(db),
      closedError: unavailable,
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
      ...(options.syncFile === undefined ? {} : { syncFile: options.syncFile }),
    });
    this.#sql = this.#database.statements;
    this.#group = this.#database.group;
    this.#early = new EarlyStatuses((sql) => this.#statement(sql), {
      retentionMs: options.earlyStatusRetentionMs ?? DEFAULT_EARLY_STATUS_RETENTION_MS,
      max: options.maxEarlyStatuses ?? DEFAULT_MAX_EARLY_STATUSES,
    });
  }

  /** The database file this store writes. */
  get path(): string {
    return this.#path;
  }

  enqueue(message: NewOutboundMessage): Promise<EnqueueResult> {
    return this.#group.run(() => this.#enqueue(message));
  }

  claim(route: Route, limit: number, leaseMs: number, now: Date, window = 1): Promise<Message[]> {
    return this.#group.run(() => this.#claim(route, limit, leaseMs, now.getTime(), window), { durable: false });
  }

  recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    return this.#group.run(() => this.#recordAttempt(id, outcome, now.getTime()));
  }

  applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined> {
    return this.#group.run(() => this.#applyStatus(update, now.getTime()));
  }

  recordInbound(message: NewInboundMessage): Promise<{ readonly message: Message; readonly created: boolean }> {
    return this.#group.run(() => this.#recordInbound(message));
  }

  requeueInFlight(now: Date): Promise<number> {
    return this.#group.run(() => {
      const rows = this.#all("SELECT * FROM messages WHERE status = 'sending' ORDER BY seq", []);
      for (const row of rows) {
        this.#change(row, { status: "queued", leaseUntil: null, nextAttemptAt: now.getTime() }, now.getTime());
      }
      return rows.length;
    });
  }

  async get(id: string): Promise<Message | undefined> {
    const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
    return row && rowToMessage(row);
  }

  async list(filter: ListFilter): Promise<Page<Message>> {
    const filters = { direction: filter.direction, status: filter.status, session: filter.session };
    return readPage(
      (sql, params) => this.#all(sql, params),
      "messages",
      filters,
      filter.cursor,
      clampLimit(filter.limit),
      rowToMessage,
    );
  }

  async changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>> {
    const read = (sql: string, params: readonly Param[]): MessageRow[] => this.#all(sql, params);
    return readTimePage(read, "messages", "updated_at", since.getTime(), cursor, clampLimit(limit), rowToMessage);
  }

  async queueDepths(now: Date): Promise<QueueDepth[]> {
    const rows = this.#read<{ provider: string; session: string; depth: number; oldest: number }>(
      `SELECT provider, session, count(*) AS depth, min(created_at) AS oldest FROM messages
       WHERE status IN ('queued', 'sending') GROUP BY provider, session ORDER BY provider, session`,
      [],
    );
    return rows.map((row) => ({
      provider: row.provider,
      session: row.session,
      depth: row.depth,
      oldestAgeMs: Math.max(0, now.getTime() - row.oldest),
    }));
  }

  async nextDueAt(route: Route): Promise<Date | undefined> {
    const [row] = this.#read<{ due: number | null }>(
      `SELECT min(CASE status WHEN 'queued' THEN next_attempt_at ELSE lease_until END) AS due
       FROM messages WHERE provider = ? AND session = ? AND head = 1`,
      [route.provider, route.session],
    );
    return row?.due == null ? undefined : new Date(row.due);
  }

  async ping(): Promise<void> {
    const failure = this.#database.durabilityFailure;
    if (failure)
      throw new DomainError(
        "STORE.UNAVAILABLE",
        `the message store cannot make writes durable any more (${failure.message}); restart it`,
      );
    this.#read("SELECT 1 AS ok", []);
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
    const row = newOutboundRow(message, false);
    const params = insertParams(row);
    this.#statement(`INSERT INTO messages (${COLUMNS}) VALUES (${COLUMN_SLOTS.replace("@head", HEAD_OF_LINE)})`).run([
      ...params.slice(0, HEAD),
      row.provider,
      row.session,
      row.to_address,
      ...params.slice(HEAD + 1),
    ]);
    return { kind: "created", message: queuedMessage(message) };
  }

  #claim(route: Route, limit: number, leaseMs: number, now: number, window: number): Message[] {
    const count = Math.floor(limit);
    if (!(count >= 1)) return [];
    const heads = this.#all(
      `SELECT * FROM messages WHERE provider = ? AND session = ? AND head = 1
       AND ((status = 'queued' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?))
       ORDER BY seq LIMIT ?`,
      [route.provider, route.session, now, now, count],
    );
    // Every due recipient gets its oldest message first; what room the limit
    // leaves goes to the messages right after them, oldest recipient first.
    const picked = [...heads];
    let room = count - picked.length;
    const runLength = Math.max(1, Math.floor(window));
    for (const head of heads) {
      if (room < 1 || runLength < 2) break;
      const run = this.#runAfter(head, Math.min(runLength - 1, room), now);
      picked.push(...run);
      room -= run.length;
    }
    picked.sort((a, b) => a.seq - b.seq);
    const leaseUntil = now + Math.max(0, leaseMs);
    return picked.map((row) => rowToMessage(this.#change(row, { status: "sending", leaseUntil }, now)));
  }

  /** The recipient's unfinished messages right after `head`, at most `max`, up to the first one not due. */
  #runAfter(head: MessageRow, max: number, now: number): MessageRow[] {
    const next = this.#all(
      `SELECT * FROM messages WHERE provider = ? AND session = ? AND to_address = ? AND status IN ('queued', 'sending')
       AND seq > ? ORDER BY seq LIMIT ?`,
      [head.provider, head.session, head.to_address, head.seq, max],
    );
    const due = next.findIndex(
      (row) => !(row.status === "queued" ? (row.next_attempt_at ?? 0) <= now : (row.lease_until ?? 0) <= now),
    );
    return due === -1 ? next : next.slice(0, due);
  }

  #recordAttempt(id: string, outcome: AttemptOutcome, now: number): Message {
    const row = this.#one("SELECT * FROM messages WHERE id = ?", [id]);
    if (!row) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    const attempts = row.attempts + 1;
    // An attempt decides the status only while the message is still in the
    // dispatcher's hands; a status a provider already reported is never undone.
    const inFlight = UNFINISHED.includes(row.status);
    const done = { leaseUntil: null, nextAttemptAt: null } as const;
    switch (outcome.kind) {
      case "sent": {
        const target = outcome.status ?? "sent";
        const status = inFlight || canTransition(row.status, target) ? target : row.status;
        const sent = this.#change(
          row,
          { ...done, status, attempts, providerMessageId: outcome.providerMessageId },
          now,
        );
        return rowToMessage(this.#applyEarlyStatuses(sent, outcome.providerMessageId, now));
      }
      case "retry":
        if (!inFlight) return rowToMessage(this.#change(row, { attempts }, now));
        return rowToMessage(
          this.#change(
            row,
            {
              status: "queued",
              attempts,
              error: outcome.error,
              leaseUntil: null,
              nextAttemptAt: outcome.nextAttemptAt.getTime(),
            },
            now,
          ),
        );
      case "failed":
        if (!inFlight) return rowToMessage(this.#change(row, { attempts }, now));
        return rowToMessage(this.#change(row, { ...done, status: "failed", attempts, error: outcome.error }, now));
      case "released":
        if (!inFlight) return rowToMessage(row);
        return rowToMessage(this.#change(row, { status: "queued", leaseUntil: null, nextAttemptAt: now }, now));
    }
  }

  #applyStatus(update: StatusUpdate, now: number): StatusApplied | undefined {
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
      // Our own id can never match later; a provider id can, once recordAttempt stores it.
      if (update.providerMessageId !== undefined) {
        this.#early.keep(update.provider, update.providerMessageId, update.status, update.error, now);
      }
      return undefined;
    }
    if (!canTransition(row.status, update.status)) return { message: rowToMessage(row), reached: [] };
    const providerMessageId = row.provider_message_id ?? update.providerMessageId ?? null;
    const change: RowChange = { status: update.status, providerMessageId, leaseUntil: null, nextAttemptAt: null };
    const message = rowToMessage(this.#change(row, update.error ? { ...change, error: update.error } : change, now));
    return { message, reached: statusesPassed(row.status, update.status) };
  }

  /** Applies, in report order, what the provider said about this id before we knew it. */
  #applyEarlyStatuses(row: MessageRow, providerMessageId: string, now: number): MessageRow {
    let current = row;
    for (const early of this.#early.take(row.provider, providerMessageId, now)) {
      if (!canTransition(current.status, early.status)) continue;
      current = this.#change(
        current,
        early.error ? { status: early.status, error: early.error } : { status: early.status },
        now,
      );
    }
    return current;
  }

  #recordInbound(message: NewInboundMessage): { message: Message; created: boolean } {
    const existing = this.#one(
      "SELECT * FROM messages WHERE provider = ? AND provider_message_id = ? AND direction = 'inbound'",
      [message.provider, message.providerMessageId],
    );
    if (existing) return { message: rowToMessage(existing), created: false };
    const row = this.#insert(newInboundRow(message));
    return { message: rowToMessage(row), created: true };
  }

  #insert(row: MessageRow): MessageRow {
    const result = this.#statement(
      `INSERT INTO messages (${COLUMNS}) VALUES (${COLUMN_SLOTS.replace("@head", "?")})`,
    ).run(insertParams(row));
    return { ...row, seq: Number(result.lastInsertRowid) };
  }

  /**
   * Writes a change to one row: appends to the history when the status moves,
   * and when the message stops being unfinished, hands its recipient's
   * head-of-line flag to the next unfinished message (the FIFO invariant).
   */
  #change(row: MessageRow, change: RowChange, now: number): MessageRow {
    const next = applyChange(row, change, now);
    this.#statement(
      `UPDATE messages SET status = ?, history = ?, error = ?, attempts = ?, provider_message_id = ?,
         next_attempt_at = ?, lease_until = ?, head = ?, updated_at = ? WHERE seq = ?`,
    ).run([
      next.status,
      next.history,
      next.error,
      next.attempts,
      next.provider_message_id,
      next.next_attempt_at,
      next.lease_until,
      next.head,
      next.updated_at,
      next.seq,
    ]);
    if (row.head === 1 && next.head === 0) this.#promoteHead(row);
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

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}

function unavailable(): DomainError {
  return new DomainError("STORE.UNAVAILABLE", "the message store is closed");
}
