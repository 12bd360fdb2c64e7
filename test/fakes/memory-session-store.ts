import type { SessionStore, StoreHealth, StoredValue } from "../../src/domain/ports/session-store.port.ts";
import { isValidSessionId } from "../../src/domain/session.ts";

/**
 * A SessionStore in memory, for tests that need a provider with sessions but
 * no disk (the HTTP fuzz, supervisor-level tests). Values are kept as given:
 * callers here never mutate what they stored.
 */
export class MemorySessionStore implements SessionStore {
  readonly kind = "memory";
  private readonly sessions = new Map<string, Map<string, StoredValue>>();

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    checkSession(session);
    const stored = this.sessions.get(session);
    const found = new Map<string, StoredValue>();
    for (const key of keys) {
      if (stored?.has(key)) found.set(key, stored.get(key)!);
    }
    return found;
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    checkSession(session);
    const stored = this.sessions.get(session) ?? new Map<string, StoredValue>();
    for (const [key, value] of entries) {
      if (value === null) stored.delete(key);
      else stored.set(key, value);
    }
    if (stored.size > 0) this.sessions.set(session, stored);
    else this.sessions.delete(session);
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    checkSession(session);
    return new Map(this.sessions.get(session));
  }

  async clear(session: string): Promise<void> {
    checkSession(session);
    this.sessions.delete(session);
  }

  async listSessions(): Promise<string[]> {
    return [...this.sessions.keys()];
  }

  health(): StoreHealth {
    return { status: "ok" };
  }

  async close(): Promise<void> {}
}

// As the real stores do: a session id becomes a file or document name there.
function checkSession(session: string): void {
  if (!isValidSessionId(session)) throw new Error(`invalid session id ${JSON.stringify(session)}`);
}
