import type { Message, Route } from "../../../domain/message.ts";
import type { ListFilter, Page, QueueDepth } from "../../../domain/ports/message-store.port.ts";
import { readPage, readTimePage } from "../../shared/sqlite/cursor.ts";
import type { Param, PreparedStatements } from "../../shared/sqlite/statements.ts";
import { rowToMessage, type MessageRow } from "./row-mapping.ts";

const MAX_LIST_LIMIT = 1000;

/** The message store's reads: they run at once and see only committed writes. */
export class MessageReads {
  constructor(private readonly sql: PreparedStatements) {}

  async findByProviderMessageId(provider: string, providerMessageId: string): Promise<Message | undefined> {
    const row = this.#one(
      "SELECT * FROM messages WHERE provider = ? AND provider_message_id = ? ORDER BY seq DESC LIMIT 1",
      [provider, providerMessageId],
    );
    return row && rowToMessage(row);
  }

  async mediaInUse(mediaId: string, since: Date): Promise<boolean> {
    const found = this.#read<{ one: number }>(
      `SELECT 1 AS one FROM message_media JOIN messages ON messages.seq = message_media.message_seq
       WHERE message_media.media_id = ? AND (messages.status IN ('queued', 'sending') OR messages.updated_at >= ?)
       LIMIT 1`,
      [mediaId, since.getTime()],
    );
    return found.length > 0;
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
    // The domain's nextDueAt over the route's heads, as one aggregate: a
    // route may have thousands of recipients waiting.
    const [row] = this.#read<{ due: number | null }>(
      `SELECT min(CASE status WHEN 'queued' THEN next_attempt_at ELSE lease_until END) AS due
       FROM messages WHERE provider = ? AND session = ? AND head = 1`,
      [route.provider, route.session],
    );
    return row?.due == null ? undefined : new Date(row.due);
  }

  #one(sql: string, params: readonly Param[]): MessageRow | undefined {
    return this.#read<MessageRow>(sql, params)[0];
  }

  #all(sql: string, params: readonly Param[]): MessageRow[] {
    return this.#read<MessageRow>(sql, params);
  }

  #read<T>(sql: string, params: readonly Param[]): T[] {
    return this.sql.all<T>(sql, params);
  }
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}
