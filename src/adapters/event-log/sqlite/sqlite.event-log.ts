import { DomainError, type StoreUnavailableError, type WriteHealth } from "../../../domain/errors.ts";
import type { EventLog, LoggedEvent, NewLoggedEvent } from "../../../domain/ports/event-log.port.ts";
import { DurableDatabase } from "../../shared/sqlite/durable-database.ts";
import { migrate } from "./schema.ts";

export interface SqliteEventLogOptions {
  /** Database file (`events.db` in DATA_DIR); created 0600, its directory 0700, if missing. */
  readonly path: string;
  /** As for the other stores: `full` survives power loss, `normal` a process crash. */
  readonly synchronous?: "full" | "normal";
  readonly busyTimeoutMs?: number; /** Called when the store stops being able to write (with why) and when it can again (undefined). */
  readonly onAvailability?: (failure: StoreUnavailableError | undefined) => void;
}

interface EventRow {
  id: number;
  type: string;
  at: number;
  body: string;
}

const MAX_READ = 1000;

/**
 * The EventLog on its own SQLite database (WAL, group commit), apart from
 * the message and webhook databases so the stream's writes never contend
 * with theirs.
 */
export class SqliteEventLog implements EventLog {
  readonly #database: DurableDatabase;

  constructor(options: SqliteEventLogOptions) {
    this.#database = new DurableDatabase({
      path: options.path,
      synchronous: options.synchronous ?? "full",
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      store: "event log",
      onAvailability: options.onAvailability,
      migrate,
      closedError: () => new DomainError("STORE.UNAVAILABLE", "the event log is closed"),
    });
  }

  append(event: NewLoggedEvent): Promise<LoggedEvent> {
    return this.#database.run(() => {
      const result = this.#database.statements
        .get("INSERT INTO events (type, at, body) VALUES (?, ?, ?)")
        .run([event.type, event.at.getTime(), event.body]);
      return { id: String(result.lastInsertRowid), type: event.type, body: event.body, at: event.at };
    });
  }

  async since(afterId: string, limit: number): Promise<LoggedEvent[]> {
    const count = Math.min(MAX_READ, Math.max(1, Math.floor(limit)));
    const rows = this.#database.statements.all<EventRow>(
      "SELECT id, type, at, body FROM events WHERE id > ? ORDER BY id LIMIT ?",
      [idNumber(afterId), count],
    );
    return rows.map((row) => ({ id: String(row.id), type: row.type, body: row.body, at: new Date(row.at) }));
  }

  async oldestId(): Promise<string | undefined> {
    const [row] = this.#database.statements.all<{ id: number }>("SELECT min(id) AS id FROM events", []);
    return row?.id == null ? undefined : String(row.id);
  }

  async newestId(): Promise<string> {
    const [row] = this.#database.statements.all<{ seq: number }>(
      "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
      [],
    );
    return String(row?.seq ?? 0);
  }

  prune(olderThan: Date): Promise<number> {
    return this.#database.run(() => {
      const result = this.#database.statements.get("DELETE FROM events WHERE at < ?").run([olderThan.getTime()]);
      return Number(result.changes);
    });
  }

  /** `ok`, or `down` with the reason while its storage fails (see DurableDatabase.health). */
  health(): Promise<WriteHealth> {
    return this.#database.health();
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}

/** An id as the query compares it; anything that is not a whole number counts as 0 (from the start). */
function idNumber(id: string): number {
  return /^\d{1,15}$/.test(id) ? Number(id) : 0;
}
