import type { WriteHealth } from "../../domain/errors.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";
import type { SessionStore } from "../../domain/ports/session-store.port.ts";
import type { SessionState } from "../../domain/session.ts";

export interface HealthReport {
  readonly status: "ok" | "degraded";
  readonly version: string;
  readonly uptimeS: number;
  readonly providers: readonly string[];
  readonly sessions: Readonly<Record<string, SessionState>>;
  readonly stores: Readonly<Record<string, { status: "ok" | "degraded" | "down"; kind: string; detail?: string }>>;
}

/** A store besides the message and session stores that health reports on (the media store, the event log). */
export interface WatchedStore {
  /** Its key under `stores` in the report (`media`, `events`, `webhooks`). */
  readonly name: string;
  /** Its storage technology (`sqlite`, `disk`). */
  readonly kind: string;
  /** See the ports' `health()`: may try a tiny write when the last one failed. */
  health(): Promise<WriteHealth>;
}

export interface HealthSources {
  readonly version: string;
  /** Uptime counts from this clock's time when CheckHealth is built. */
  readonly clock: Clock;
  readonly messageStore: MessageStore;
  /** Storage technology of the message store, for the report (`sqlite`). */
  readonly messageStoreKind: string;
  readonly sessionStore?: SessionStore | undefined;
  /** The other stores, each reported under its name. */
  readonly stores?: readonly WatchedStore[];
  readonly providers: readonly MessagingProvider[];
  /** True once every provider has started (not necessarily connected). */
  readonly providersStarted: () => boolean;
}

/**
 * Health is informative (200 with `degraded` when a part limps), readiness
 * is a gate (may this instance take traffic: do the stores answer and have
 * the providers started?).
 */
export class CheckHealth {
  private readonly startedAt: number;

  constructor(private readonly sources: HealthSources) {
    this.startedAt = sources.clock.now().getTime();
  }

  async health(): Promise<HealthReport> {
    const { sources } = this;
    const stores: Record<string, { status: "ok" | "degraded" | "down"; kind: string; detail?: string }> = {};
    stores.messages = await this.pingMessages();
    if (sources.sessionStore) {
      const h = sources.sessionStore.health();
      stores.sessions = {
        status: h.status,
        kind: sources.sessionStore.kind,
        ...(h.detail ? { detail: h.detail } : {}),
      };
    }
    for (const store of sources.stores ?? []) stores[store.name] = await this.checkStore(store);
    const sessions: Record<string, SessionState> = {};
    for (const provider of sources.providers) {
      for (const s of provider.sessions?.list() ?? []) sessions[s.id] = s.state;
    }
    const degraded = Object.values(stores).some((s) => s.status !== "ok");
    return {
      status: degraded ? "degraded" : "ok",
      version: sources.version,
      uptimeS: Math.round((sources.clock.now().getTime() - this.startedAt) / 1000),
      providers: sources.providers.map((p) => p.id),
      sessions,
      stores,
    };
  }

  async ready(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    const messages = await this.pingMessages();
    if (messages.status !== "ok") reasons.push(`message store: ${messages.detail ?? messages.status}`);
    if (!this.sources.providersStarted()) reasons.push("providers are still starting");
    return { ready: reasons.length === 0, reasons };
  }

  private async checkStore(store: WatchedStore): Promise<{ status: "ok" | "down"; kind: string; detail?: string }> {
    const health = await store.health().catch((error: unknown): WriteHealth => ({
      status: "down",
      detail: error instanceof Error ? error.message : String(error),
    }));
    return { status: health.status, kind: store.kind, ...(health.detail ? { detail: health.detail } : {}) };
  }

  private async pingMessages(): Promise<{ status: "ok" | "down"; kind: string; detail?: string }> {
    try {
      await this.sources.messageStore.ping();
      return { status: "ok", kind: this.sources.messageStoreKind };
    } catch (error) {
      return {
        status: "down",
        kind: this.sources.messageStoreKind,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
