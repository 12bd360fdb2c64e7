import type { Message, Route } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { RouteWorker, type RouteWorkerOptions } from "./route-worker.ts";

export interface DispatcherHooks {
  /** Wraps each send attempt (tracing). */
  readonly instrumentSend?: <T>(message: Message, send: () => Promise<T>) => Promise<T>;
  /** Makes a message ready before it is sent (its files, the message it points at). */
  readonly prepare?: (message: Message, signal: AbortSignal) => Promise<Message>;
  /** Called once a message's `sent` is recorded. */
  readonly afterSent?: (message: Message) => Promise<void>;
}

export interface DispatcherOptions extends RouteWorkerOptions {
  /** Safety net: how often every route with waiting messages is woken anyway. */
  readonly sweepIntervalMs: number;
}

/**
 * Owns one RouteWorker per (provider, session) that has messages, and wakes
 * them when something changes: a message was committed (`message.accepted`),
 * a session became ready (`session.ready`), a retry fell due. It listens to
 * the domain events from construction on, so nothing announced before
 * `start` is missed.
 */
export class Dispatcher {
  private readonly workers = new Map<string, RouteWorker>();
  private readonly providers: ReadonlyMap<string, MessagingProvider>;
  private readonly unsubscribe: () => void;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(
    private readonly store: MessageStore,
    providers: readonly MessagingProvider[],
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
    private readonly hooks: DispatcherHooks = {},
  ) {
    this.providers = new Map(providers.map((p) => [p.id, p]));
    this.unsubscribe = events.subscribe((event) => {
      if (event.type === "message.accepted") this.wake(event.message);
      else if (event.type === "session.ready") this.wake({ provider: event.provider, session: event.session });
    });
  }

  /** Puts messages left in flight by a previous run back in the queue, then starts draining. */
  async start(): Promise<void> {
    const requeued = await this.store.requeueInFlight(this.clock.now());
    if (requeued > 0)
      this.logger.info({ requeued }, "dispatch: messages left in flight by the last run are queued again");
    await this.sweep();
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs);
    this.sweepTimer.unref?.();
  }

  /** Lets the route's worker claim what is due now (the events and the sweep call it). */
  wake(route: Route): void {
    if (this.stopped) return;
    this.worker(route)?.wake();
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    clearInterval(this.sweepTimer);
    await Promise.all([...this.workers.values()].map((w) => w.stop(timeoutMs)));
  }

  private async sweep(): Promise<void> {
    try {
      for (const depth of await this.store.queueDepths(this.clock.now())) this.wake(depth);
    } catch (error) {
      this.logger.error({ err: error }, "dispatch: reading queue depths failed");
    }
  }

  private worker(route: Route): RouteWorker | undefined {
    const key = `${route.provider}\u0000${route.session}`;
    let worker = this.workers.get(key);
    if (worker) return worker;
    const provider = this.providers.get(route.provider);
    if (!provider) {
      // Messages of a provider this process does not run stay queued for the
      // process that does (see GATEWAY_PROVIDERS).
      return undefined;
    }
    worker = new RouteWorker(
      { provider: route.provider, session: route.session },
      {
        store: this.store,
        provider,
        events: this.events,
        clock: this.clock,
        logger: this.logger,
        ...(this.hooks.instrumentSend ? { instrumentSend: this.hooks.instrumentSend } : {}),
        ...(this.hooks.prepare ? { prepare: this.hooks.prepare } : {}),
        ...(this.hooks.afterSent ? { afterSent: this.hooks.afterSent } : {}),
      },
      this.options,
    );
    this.workers.set(key, worker);
    return worker;
  }
}
