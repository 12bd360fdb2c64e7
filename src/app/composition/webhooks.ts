import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SqliteWebhookOutbox } from "../../adapters/webhook-outbox/sqlite/sqlite.webhook-outbox.ts";
import { HttpWebhookSender } from "../../adapters/webhook-sender/http/http.webhook-sender.ts";
import { injectionToken, type InjectionToken } from "../../domain/injection-token.ts";
import { Clock } from "../../domain/ports/clock.port.ts";
import { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { MessageStore } from "../../domain/ports/message-store.port.ts";
import { WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import { WebhookSender } from "../../domain/ports/webhook-sender.port.ts";
import type { Config } from "../config/config.schema.ts";
import { catchUpWebhooks } from "../webhooks/webhook-catch-up.ts";
import { WebhookDeliveries } from "../webhooks/webhook-deliveries.ts";
import { WebhookWorker } from "../webhooks/webhook-worker.ts";
import { logAvailability } from "../store-outage.ts";
import { singleton } from "./di.ts";

/** Outbound webhooks as the gateway starts and stops them. */
export interface Webhooks {
  /**
   * Queues the message events a crash lost (see catchUpWebhooks), then starts
   * delivering (events are queued from construction on, so none published
   * during start is missed). Call before anything changes messages.
   */
  start(): Promise<void>;
  /** Stops delivering (bounded wait for attempts in flight), then closes the outbox. */
  stop(timeoutMs: number): Promise<void>;
}

export const Webhooks: InjectionToken<Webhooks> = injectionToken("Webhooks");

/**
 * Outbound webhooks when WEBHOOK_URL is set: the SQLite outbox in
 * DATA_DIR/webhooks.db, the Standard Webhooks sender, the worker, the
 * deliveries the API shows, and `Webhooks` (which subscribes the worker to
 * the domain events when it is built, and starts and stops it). Registers nothing when no URL is configured.
 */
export function registerWebhooks(container: DependencyContainer, config: Config, baseLogger: Logger): void {
  const url = config.WEBHOOK_URL;
  if (!url) return;
  // The schema requires the secret with the URL; this guards a hand-built Config.
  const secret = config.WEBHOOK_SECRET;
  if (!secret) throw new Error("WEBHOOK_URL is set without WEBHOOK_SECRET");
  const logger = baseLogger.child({ component: "webhooks" });

  container.register(
    WebhookOutbox,
    singleton(
      () =>
        new SqliteWebhookOutbox({
          path: join(config.DATA_DIR, "webhooks.db"),
          synchronous: config.SQLITE_SYNCHRONOUS,
          onAvailability: logAvailability(logger, "webhook outbox"),
        }),
    ),
  );
  container.register(
    WebhookSender,
    singleton(() => new HttpWebhookSender({ url, secret, timeoutMs: config.WEBHOOK_TIMEOUT_MS })),
  );
  container.register(
    WebhookWorker,
    singleton(
      (get) =>
        new WebhookWorker(get(WebhookOutbox), get(WebhookSender), get(Clock), logger, {
          concurrency: config.WEBHOOK_CONCURRENCY,
          maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
          baseMs: config.WEBHOOK_BACKOFF_BASE_MS,
          maxMs: config.WEBHOOK_BACKOFF_MAX_MS,
          // Long enough that a live attempt (bounded by its timeout) never loses its lease.
          leaseMs: config.WEBHOOK_TIMEOUT_MS + 30_000,
        }),
    ),
  );
  container.register(
    WebhookDeliveries,
    singleton((get) => {
      const worker = get(WebhookWorker);
      return new WebhookDeliveries(get(WebhookOutbox), get(Clock), () => worker.wake());
    }),
  );
  container.register(
    Webhooks,
    singleton((get): Webhooks => {
      const [worker, outbox, messages, clock] = [get(WebhookWorker), get(WebhookOutbox), get(MessageStore), get(Clock)];
      // Queued from the build on, so the first session events of the providers are not missed.
      const detach = worker.attach(get(DomainEvents));
      return {
        async start() {
          const caughtUp = await catchUpWebhooks(messages, outbox, clock.now());
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
    }),
  );
}
