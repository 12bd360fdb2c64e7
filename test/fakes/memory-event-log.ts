import type { EventLog, LoggedEvent, NewLoggedEvent } from "../../src/domain/ports/event-log.port.ts";

/** EventLog in memory, for tests: same contract as the SQLite one. */
export class MemoryEventLog implements EventLog {
  #events: LoggedEvent[] = [];
  #next = 1;

  async append(event: NewLoggedEvent): Promise<LoggedEvent> {
    const logged = { ...event, id: String(this.#next++) };
    this.#events.push(logged);
    return logged;
  }

  async since(afterId: string, limit: number): Promise<LoggedEvent[]> {
    const after = /^\d{1,15}$/.test(afterId) ? Number(afterId) : 0;
    const count = Math.min(1000, Math.max(1, Math.floor(limit)));
    return this.#events.filter((e) => Number(e.id) > after).slice(0, count);
  }

  async oldestId(): Promise<string | undefined> {
    return this.#events[0]?.id;
  }

  async newestId(): Promise<string> {
    return String(this.#next - 1);
  }

  async prune(olderThan: Date): Promise<number> {
    const before = this.#events.length;
    this.#events = this.#events.filter((e) => e.at.getTime() >= olderThan.getTime());
    return before - this.#events.length;
  }

  async close(): Promise<void> {}
}
