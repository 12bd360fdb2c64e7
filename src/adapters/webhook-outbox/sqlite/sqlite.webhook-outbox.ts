import type Database from "libsql";
import { DomainError, type StoreUnavailableError, type WriteHealth } from "../../../domain/errors.ts";
import type { Page } from "../../../domain/ports/message-store.port.ts";
import type {
  OutboxTimeline,
  WebhookDeliveryFilter,
  WebhookFailure,
  WebhookOutbox,
  WebhookRetryResult,
} from "../../../domain/ports/webhook-outbox.port.ts";
import type { NewWebhookDelivery, WebhookDelivery } from "../../../domain/webhook-delivery.ts";
import { DurableDatabase } from "../../shared/sqlite/durable-database.ts";
import { rowToDelivery, type DeliveryRow } from "./delivery-row.ts";
import { migrate } from "./schema.ts";
import { readPage } from "../../shared/sqlite/cursor.ts";
import type { PreparedStatements, Param } from "../../shared/sqlite/statements.ts";

export interface SqliteWebhookOutboxOptions {
  /** Database file (`webhooks.db` in DATA_DIR); created 0600, its directory 0700, if missing. */
  readonly path: string;
  /** As for the message store: `full` survives power loss, `normal` a process crash. */
  readonly synchronous?: "full" | "normal";
  /** How long a write waits for another connection's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number; /** Called when the store stops being able to write (with why) and when it can again (undefined). */
  readonly onAvailability?: (failure: StoreUnavailableError | undefined) => void;
}

const MAX_LIST_LIMIT = 1000;
// Error texts come from receivers; a bounded copy is enough to diagnose.
const MAX_ERROR_CHARS = 500;
// Bound parameters per read, well under SQLite's limit.
const KEYS_PER_READ = 500;

// A pending delivery is claimable when it is due, not leased, and the oldest
// pending one of its ordering key (the per-message order guarantee).
const HEAD = `NOT EXISTS (SELECT 1 FROM deliveries e
  WHERE e.status = 'pending' AND e.ordering_key = d.ordering_key AND e.seq < d.seq)`;

/**
 * The WebhookOutbox on its own embedded SQLite database (libsql, WAL), apart
 * from messages.db so webhook traffic never contends with the message
 * queue's write lock. Writes go through the group commit: the events of
 * one event-loop turn share a commit (one fsync, made off the event loop by
 * a {@link WalSync}), and each promise resolves once its commit is durable.
 */
export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly #database: DurableDatabase;
  readonly #sql: PreparedStatements;

  constructor(options: SqliteWebhookOutboxOptions) {
    this.#database = new DurableDatabase({
      path: options.path,
      synchronous: options.synchronous ?? "full",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      store: "webhook outbox",
      onAvailability: options.onAvailability,
      migrate: (db) => {
        migrate(db);
        db.prepare("INSERT OR IGNORE INTO timeline (name, at) VALUES ('created_at', ?)").run([Date.now()]);
      },
      closedError: unavailable,
    });
    this.#sql = this.#database.statements;
  }

  enqueue(delivery: NewWebhookDelivery): Promise<WebhookDelivery> {
    return this.#database.run(() => {
      const at = delivery.at.getTime();
      const result = this.#statement(
        `INSERT INTO deliveries (id, event_id, type, ordering_key, status, attempts, next_attempt_at, created_at, updated_at, body)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
      ).run([delivery.id, delivery.eventId, delivery.type, delivery.orderingKey, at, at, at, delivery.body]);
      return rowToDelivery(this.#bySeq(Number(result.lastInsertRowid)));
    });
  }

  claimDue(limit: number, leaseMs: number, now: Date): Promise<WebhookDelivery[]> {
    return this.#database.run(() => {
      const count = Math.floor(limit);
      if (!(count >= 1)) return [];
      const at = now.getTime();
      const rows = this.#read<DeliveryRow>(
        `SELECT * FROM deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= ?
         AND (d.lease_until IS NULL OR d.lease_until <= ?) AND ${HEAD} ORDER BY d.seq LIMIT ?`,
        [at, at, count],
      );
      const leaseUntil = at + Math.max(0, leaseMs);
      const lease = this.#statement("UPDATE deliveries SET lease_until = ? WHERE seq = ?");
      return rows.map((row) => {
        lease.run([leaseUntil, row.seq]);
        return rowToDelivery({ ...row, lease_until: leaseUntil });
      });
    });
  }

  recordSuccess(id: string, now: Date): Promise<WebhookDelivery> {
    return this.#database.run(() => {
      const row = this.#require(id);
      this.#statement(
        `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, next_attempt_at = NULL, lease_until = NULL,
         updated_at = ? WHERE seq = ?`,
      ).run([now.getTime(), row.seq]);
      return rowToDelivery(this.#bySeq(row.seq));
    });
  }

  recordFailure(id: string, failure: WebhookFailure, now: Date): Promise<WebhookDelivery> {
    return this.#database.run(() => {
      const row = this.#require(id);
      const parked = failure.kind === "park";
      this.#statement(
        `UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = NULL,
         updated_at = ? WHERE seq = ?`,
      ).run([
        parked ? "failed" : "pending",
        failure.error.slice(0, MAX_ERROR_CHARS),
        parked ? null : failure.nextAttemptAt.getTime(),
        now.getTime(),
        row.seq,
      ]);
      return rowToDelivery(this.#bySeq(row.seq));
    });
  }

  retry(id: string, now: Date): Promise<WebhookRetryResult> {
    return this.#database.run((): WebhookRetryResult => {
      const row = this.#one("SELECT * FROM deliveries WHERE id = ?", [id]);
      if (!row) return { kind: "not_found" };
      if (row.status !== "failed") return { kind: "not_parked", delivery: rowToDelivery(row) };
      this.#statement(
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL, updated_at = ?
         WHERE seq = ?`,
      ).run([now.getTime(), now.getTime(), row.seq]);
      return { kind: "requeued", delivery: rowToDelivery(this.#bySeq(row.seq)) };
    });
  }

  requeueInFlight(now: Date): Promise<number> {
    return this.#database.run(() => {
      const result = this.#statement(
        "UPDATE deliveries SET lease_until = NULL, updated_at = ? WHERE status = 'pending' AND lease_until IS NOT NULL",
      ).run([now.getTime()]);
      return Number(result.changes);
    });
  }

  async get(id: string): Promise<WebhookDelivery | undefined> {
    const row = this.#one("SELECT * FROM deliveries WHERE id = ?", [id]);
    return row && rowToDelivery(row);
  }

  async list(filter: WebhookDeliveryFilter): Promise<Page<WebhookDelivery>> {
    const limit = Number.isFinite(filter.limit)
      ? Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(filter.limit)))
      : MAX_LIST_LIMIT;
    return readPage(
      (sql, params) => this.#read<DeliveryRow>(sql, params),
      "deliveries",
      { status: filter.status },
      filter.cursor,
      limit,
      rowToDelivery,
    );
  }

  async latestBodies(orderingKeys: readonly string[]): Promise<Map<string, string>> {
    const bodies = new Map<string, string>();
    const keys = [...new Set(orderingKeys)];
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
      const chunk = keys.slice(i, i + KEYS_PER_READ);
      const rows = this.#read<{ ordering_key: string; body: string }>(
        `SELECT ordering_key, body FROM deliveries WHERE seq IN (
           SELECT max(seq) FROM deliveries WHERE ordering_key IN (${chunk.map(() => "?").join(", ")}) GROUP BY ordering_key)`,
        chunk,
      );
      for (const row of rows) bodies.set(row.ordering_key, row.body);
    }
    return bodies;
  }

  async timeline(): Promise<OutboxTimeline> {
    const marks = new Map(
      this.#read<{ name: string; at: number }>("SELECT name, at FROM timeline", []).map((r) => [r.name, r.at]),
    );
    const [newest] = this.#read<{ created_at: number }>(
      "SELECT created_at FROM deliveries ORDER BY seq DESC LIMIT 1",
      [],
    );
    const last = Math.max(newest?.created_at ?? -Infinity, marks.get("purged_through") ?? -Infinity);
    return {
      createdAt: new Date(marks.get("created_at") ?? 0),
      lastEnqueuedAt: Number.isFinite(last) ? new Date(last) : undefined,
    };
  }

  async nextDueAt(): Promise<Date | undefined> {
    const [row] = this.#read<{ due: number | null }>(
      `SELECT min(max(d.next_attempt_at, coalesce(d.lease_until, 0))) AS due FROM deliveries d
       WHERE d.status = 'pending' AND ${HEAD}`,
      [],
    );
    return row?.due == null ? undefined : new Date(row.due);
  }

  purgeDelivered(before: Date, limit: number): Promise<number> {
    return this.#database.run(() => {
      const rows = this.#read<{ seq: number; created_at: number }>(
        "SELECT seq, created_at FROM deliveries WHERE status = 'delivered' AND updated_at < ? ORDER BY updated_at LIMIT ?",
        [before.getTime(), Math.max(0, Math.floor(limit))],
      );
      if (rows.length === 0) return 0;
      // Keeps when the newest purged delivery was enqueued (timeline).
      this.#statement(
        `INSERT INTO timeline (name, at) VALUES ('purged_through', ?)
         ON CONFLICT (name) DO UPDATE SET at = max(at, excluded.at)`,
      ).run([Math.max(...rows.map((r) => r.created_at))]);
      const remove = this.#statement("DELETE FROM deliveries WHERE seq = ?");
      for (const row of rows) remove.run([row.seq]);
      return rows.length;
    });
  }

  /** `ok`, or `down` with the reason while its storage fails (see DurableDatabase.health). */
  health(): Promise<WriteHealth> {
    return this.#database.health();
  }

  close(): Promise<void> {
    return this.#database.close();
  }

  #require(id: string): DeliveryRow {
    const row = this.#one("SELECT * FROM deliveries WHERE id = ?", [id]);
    if (!row) throw new DomainError("WEBHOOK.DELIVERY_NOT_FOUND", `webhook delivery ${id} not found`);
    return row;
  }

  #bySeq(seq: number): DeliveryRow {
    return this.#one("SELECT * FROM deliveries WHERE seq = ?", [seq])!;
  }

  #one(sql: string, params: readonly Param[]): DeliveryRow | undefined {
    return this.#read<DeliveryRow>(sql, params)[0];
  }

  #read<T>(sql: string, params: readonly Param[]): T[] {
    return this.#sql.all<T>(sql, params);
  }

  #statement(sql: string): Database.Statement {
    return this.#sql.get(sql);
  }
}

function unavailable(): DomainError {
  return new DomainError("STORE.UNAVAILABLE", "the webhook outbox is closed");
}
