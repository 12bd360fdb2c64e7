import type { Tracer } from "@opentelemetry/api";
import type { SessionStore, StoredValue, StoreHealth } from "../../domain/ports/session-store.port.ts";
import { tracer as defaultTracer, withinSpan } from "./tracing.ts";

/**
 * A SessionStore that traces every read and write (`session_store.*` spans
 * with the store kind), and counts failures. Decorates any store; with
 * tracing off the spans cost next to nothing.
 */
export class TracedSessionStore implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    private readonly onError: (store: string) => void,
    private readonly t: Tracer = defaultTracer,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    return this.span("session_store.get_many", session, { "store.keys": keys.length }, () =>
      this.inner.getMany(session, keys),
    );
  }

  setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    return this.span("session_store.set_many", session, { "store.keys": entries.size }, () =>
      this.inner.setMany(session, entries),
    );
  }

  entries(session: string): Promise<Map<string, StoredValue>> {
    return this.span("session_store.entries", session, {}, () => this.inner.entries(session));
  }

  clear(session: string): Promise<void> {
    return this.span("session_store.clear", session, {}, () => this.inner.clear(session));
  }

  listSessions(): Promise<string[]> {
    return this.span("session_store.list_sessions", undefined, {}, () => this.inner.listSessions());
  }

  health(): StoreHealth {
    return this.inner.health();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async span<T>(
    name: string,
    session: string | undefined,
    attributes: Record<string, number>,
    run: () => Promise<T>,
  ): Promise<T> {
    return this.t.startActiveSpan(
      name,
      { attributes: { "store.kind": this.inner.kind, ...(session ? { "session.id": session } : {}), ...attributes } },
      (span) =>
        withinSpan(span, () =>
          run().catch((error: unknown) => {
            this.onError(`session:${this.inner.kind}`);
            throw error;
          }),
        ),
    );
  }
}
