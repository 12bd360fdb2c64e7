import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SqliteWebhookOutbox } from "../../adapters/webhook-outbox/sqlite/sqlite.webhook-outbox.ts";
import { HttpWebhookSender } from "../../adapters/webhook-sender/http/http.webhook-sender.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import { WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import { WebhookSender } from "../../domain/ports/webhook-sender.port.ts";
import type { Config } from "../config/config.schema.ts";
import type { Logger } from "../logger.ts";
import { catchUpWebhooks } from "../webhooks/webhook-catch-up.ts";
import { WebhookDeliveries } from "../webhooks/webhook-deliveries.ts";
import { WebhookWorker } from "../webhooks/webhook-worker.ts";

export interface Webhooks {
  readonly deliveries: WebhookDeliveries;
  /**
   * Queues the message events a crash lost (see catchUpWebhooks), then starts
   * delivering (events are queued from construction on, so none published
   * during start is missed). Call before anything changes messages.
   */
  start(): Promise<void>;
  /** Stops delivering (bounded wait for attempts in flight), then closes the outbox. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Outbound webhooks when WEBHOOK_URL is set: the SQLite outbox in
 * DATA_DIR/webhooks.db, the Standard Webhooks sender, and the worker, already
 * subscribed to the domain events. Undefined when no URL is configured.
 */
export function createWebhooks(
  config: Config,
  deps: {
    container: DependencyContainer;
    messages: MessageStore;
    events: DomainEvents;
    clock: Clock;
    logger: Logger;
    random?: () => number;
  },
): Webhooks | undefined {
  if (!config.WEBHOOK_URL) return undefined;
  // The schema requires the secret with the URL; this guards a hand-built Config.
  if (!config.WEBHOOK_SECRET) throw new Error("WEBHOOK_URL is set without WEBHOOK_SECRET");
  const outbox = new SqliteWebhookOutbox({
    path: join(config.DATA_DIR, "webhooks.db"),
    synchronous: config.SQLITE_SYNCHRONOUS,
  });
  const sender = new HttpWebhookSender({
    url: config.WEBHOOK_URL,
    secret: config.WEBHOOK_SECRET,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  });
  deps.container.register(WebhookOutbox, { useValue: outbox });
  deps.container.register(WebhookSender, { useValue: sender });
  const logger = deps.logger.child({ component: "webhooks" });
  const worker = new WebhookWorker(outbox, sender, deps.clock, logger, {
    concurrency: config.WEBHOOK_CONCURRENCY,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    baseMs: config.WEBHOOK_BACKOFF_BASE_MS,
    maxMs: config.WEBHOOK_BACKOFF_MAX_MS,
    // Long enough that a live attempt (bounded by its timeout) never loses its lease.
    leaseMs: config.WEBHOOK_TIMEOUT_MS + 30_000,
    ...(deps.random ? { random: deps.random } : {}),
  });
  const detach = worker.attach(deps.events);
  return {
    deliveries: new WebhookDeliveries(outbox, deps.clock, () => worker.wake()),
    async start() {
      const caughtUp = await catchUpWebhooks(deps.messages, outbox, deps.clock.now());
      if (caughtUp > 0)
        logger.warn(
          { events: caughtUp },
          "webhooks: queued message events the last process did not (it stopped between a change and its event)",
        );
      await worker.start();
    },
    async stop(timeoutMs) {
      detach();
      await worker.stop(timeoutMs);
      await outbox.close();
    },
  };
}
