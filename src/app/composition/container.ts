import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { HttpMediaFetcher } from "../../adapters/media-fetch/http/http.media-fetcher.ts";
import { DiskMediaStore } from "../../adapters/media-store/disk/disk.media-store.ts";
import { SqliteMessageStore } from "../../adapters/message-store/sqlite/sqlite.message-store.ts";
import {
  createPrometheusMetrics,
  type PrometheusMetrics,
} from "../../adapters/telemetry/opentelemetry/prometheus-metrics.ts";
import type { WriteHealth } from "../../domain/errors.ts";
import { injectionToken, type InjectionToken } from "../../domain/injection-token.ts";
import { Clock, systemClock } from "../../domain/ports/clock.port.ts";
import { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import { EventLog } from "../../domain/ports/event-log.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { MediaFetcher } from "../../domain/ports/media-fetcher.port.ts";
import { MediaStore } from "../../domain/ports/media-store.port.ts";
import { MessageStore } from "../../domain/ports/message-store.port.ts";
import { MessagingProviders } from "../../domain/ports/messaging-provider.port.ts";
import { PublicMediaLinks } from "../../domain/ports/public-media-links.port.ts";
import { SessionStore } from "../../domain/ports/session-store.port.ts";
import { WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import type { ApiKeyVerifier } from "../api-keys.ts";
import { mediaLimits, type Config } from "../config/config.schema.ts";
import { Dispatcher } from "../dispatcher/dispatcher.ts";
import { createHttpApp } from "../http/app.ts";
import { openApiDocument } from "../http/openapi.ts";
import { InProcessDomainEvents } from "../in-process-domain-events.ts";
import { InboundMediaIntake } from "../media/inbound-media-intake.ts";
import { MediaRetention, retentionStart } from "../media/media-retention.ts";
import { OutboundMedia } from "../media/outbound-media.ts";
import { mediaLinkSecret, SignedMediaLinks } from "../media/signed-media-links.ts";
import { Router } from "../routing.ts";
import { logAvailability } from "../store-outage.ts";
import { GatewayMetrics } from "../telemetry/gateway-metrics.ts";
import { MessageTelemetry } from "../telemetry/message-telemetry.ts";
import { MessageSpans, tracingActive } from "../telemetry/tracing.ts";
import { CheckHealth, type WatchedStore } from "../use-cases/check-health.ts";
import { ConversationActions } from "../use-cases/conversation-actions.ts";
import { ConversationEffects } from "../use-cases/conversation-effects.ts";
import { GroupActions } from "../use-cases/group-actions.ts";
import { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import { SendMessage } from "../use-cases/send-message.ts";
import { StoreMedia } from "../use-cases/store-media.ts";
import { WebhookDeliveries } from "../webhooks/webhook-deliveries.ts";
import { singleton } from "./di.ts";
import { registerWebhooks } from "./webhooks.ts";
import { eventsRouteDeps, registerEventStream } from "./events.ts";

/** The Prometheus exporter behind GatewayMetrics and GET /metrics. */
export const MetricsExporter: InjectionToken<PrometheusMetrics> = injectionToken("MetricsExporter");

/** The API keys this instance accepts, and the one generated on a first start (shown once), if any. */
export interface ApiKeys {
  readonly verifier: ApiKeyVerifier;
  readonly generated: string | null;
}
export const ApiKeys: InjectionToken<ApiKeys> = injectionToken("ApiKeys");

export type HttpApp = ReturnType<typeof createHttpApp>;
export const HttpApp: InjectionToken<HttpApp> = injectionToken("HttpApp");

/** What the gateway's start and stop switch, and health and the HTTP app read. */
export class GatewayLifecycle {
  /** False once shutdown began: new requests get 503. */
  accepting = true;
  providersStarted = false;
}

export interface ContainerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
}

/**
 * The composition root's registrations: one factory or value per part of
 * the gateway, each built on its first resolve. Three are registered later,
 * by buildGateway, once their asynchronous setup is done: MessagingProviders,
 * SessionStore (when a provider needs logins) and ApiKeys.
 */
export function registerGateway(container: DependencyContainer, { config, logger, version }: ContainerOptions): void {
  // Ports
  container.register(Clock, { useValue: systemClock });
  container.register(
    DomainEvents,
    singleton(() => new InProcessDomainEvents(logger)),
  );
  container.register(
    MessageStore,
    singleton(
      () =>
        new SqliteMessageStore({
          path: join(config.DATA_DIR, "messages.db"),
          synchronous: config.SQLITE_SYNCHRONOUS,
          onAvailability: logAvailability(logger, "message store"),
        }),
    ),
  );
  container.register(
    MediaStore,
    singleton(
      (get) =>
        new DiskMediaStore({
          dir: join(config.DATA_DIR, "media"),
          synchronous: config.SQLITE_SYNCHRONOUS,
          clock: get(Clock),
          onAvailability: logAvailability(logger, "media store"),
        }),
    ),
  );

  // Telemetry
  container.register(
    MetricsExporter,
    singleton(() => createPrometheusMetrics("messaging-gateway", version)),
  );
  container.register(
    GatewayMetrics,
    singleton(
      (get) =>
        new GatewayMetrics(get(MetricsExporter).meter, {
          // Read at scrape time.
          sessions: () => get(MessagingProviders).flatMap((p) => p.sessions?.list() ?? []),
          queueDepths: () => get(MessageStore).queueDepths(get(Clock).now()),
        }),
    ),
  );
  container.register(
    MessageTelemetry,
    singleton((get) => new MessageTelemetry(get(DomainEvents), get(GatewayMetrics), new MessageSpans())),
  );

  // Use cases and workers
  container.register(
    Router,
    singleton(
      (get) =>
        new Router(get(MessagingProviders), {
          whatsappProvider: config.WHATSAPP_PROVIDER,
          defaultSession: config.DEFAULT_SESSION,
        }),
    ),
  );
  container.register(
    SendMessage,
    singleton(
      (get) =>
        new SendMessage(
          get(MessageStore),
          get(Router),
          get(DomainEvents),
          get(Clock),
          config.DEFAULT_CHANNEL,
          get(OutboundMedia),
        ),
    ),
  );
  container.register(
    RecordProviderEvent,
    singleton(
      (get) =>
        new RecordProviderEvent(get(MessageStore), get(DomainEvents), get(Clock), logger, {
          media: new InboundMediaIntake(get(MediaStore), mediaLimits(config), logger.child({ component: "media" })),
          autoRead: config.WA_AUTO_READ,
        }),
    ),
  );
  container.register(
    ConversationEffects,
    singleton((get) => new ConversationEffects(get(MessageStore), get(DomainEvents), get(Clock))),
  );
  container.register(
    ConversationActions,
    singleton(
      (get) => new ConversationActions(get(MessageStore), get(MessagingProviders), get(DomainEvents), get(Clock)),
    ),
  );
  container.register(
    GroupActions,
    singleton((get) => new GroupActions(get(MessagingProviders))),
  );
  container.register(
    MediaFetcher,
    singleton(() => new HttpMediaFetcher({ allowPrivate: config.MEDIA_FETCH_ALLOW_PRIVATE })),
  );
  container.register(
    OutboundMedia,
    singleton(
      (get) =>
        new OutboundMedia(get(MediaStore), get(MediaFetcher), get(MessageStore), get(Clock), mediaLimits(config)),
    ),
  );
  // Only with a public URL to sign links under (required with Twilio, which fetches MMS files by them).
  const publicBaseUrl = config.PUBLIC_BASE_URL;
  if (publicBaseUrl) {
    container.register(
      SignedMediaLinks,
      singleton(
        (get) =>
          new SignedMediaLinks(publicBaseUrl, mediaLinkSecret(config.MEDIA_LINK_SECRET, config.DATA_DIR), get(Clock)),
      ),
    );
    container.register(
      PublicMediaLinks,
      singleton((get) => get(SignedMediaLinks)),
    );
  }
  container.register(
    StoreMedia,
    singleton((get) => new StoreMedia(get(MediaStore), mediaLimits(config))),
  );
  container.register(
    MediaRetention,
    singleton(
      (get) =>
        new MediaRetention(get(MediaStore), get(Clock), logger.child({ component: "media" }), {
          retentionDays: config.MEDIA_RETENTION_DAYS,
          intervalMs: 3_600_000,
          // A file a waiting message or one changed within the retention refers to stays.
          stillNeeded: (id) =>
            get(MessageStore).mediaInUse(id, retentionStart(get(Clock), config.MEDIA_RETENTION_DAYS)),
        }),
    ),
  );
  container.register(
    Dispatcher,
    singleton((get) => {
      // Telemetry subscribes first: an accepted message's span is open before its route wakes.
      const telemetry = get(MessageTelemetry);
      const outboundMedia = get(OutboundMedia);
      const effects = get(ConversationEffects);
      return new Dispatcher(
        get(MessageStore),
        get(MessagingProviders),
        get(DomainEvents),
        get(Clock),
        logger.child({ component: "dispatcher" }),
        {
          concurrency: config.DISPATCH_CONCURRENCY,
          maxAttempts: config.DISPATCH_MAX_ATTEMPTS,
          baseMs: config.DISPATCH_BACKOFF_BASE_MS,
          maxMs: config.DISPATCH_BACKOFF_MAX_MS,
          leaseMs: config.DISPATCH_LEASE_MS,
          sendTimeoutMs: config.DISPATCH_SEND_TIMEOUT_MS,
          minIntervalMs: config.SEND_MIN_INTERVAL_MS,
          sweepIntervalMs: 5_000,
        },
        {
          instrumentSend: (message, send) => telemetry.dispatch(message, send),
          prepare: async (message, signal) => effects.prepare(await outboundMedia.prepare(message, signal)),
          afterSent: (message) => effects.sent(message),
        },
      );
    }),
  );
  container.register(
    GatewayLifecycle,
    singleton(() => new GatewayLifecycle()),
  );
  container.register(
    CheckHealth,
    singleton((get) => {
      const lifecycle = get(GatewayLifecycle);
      return new CheckHealth({
        version,
        clock: get(Clock),
        messageStore: get(MessageStore),
        messageStoreKind: "sqlite",
        sessionStore: get.optional(SessionStore),
        stores: watchedStores([
          ["media", "disk", get(MediaStore)],
          ["events", "sqlite", get(EventLog)],
          ["webhooks", "sqlite", get.optional(WebhookOutbox)],
        ]),
        providers: get(MessagingProviders),
        providersStarted: () => lifecycle.providersStarted,
      });
    }),
  );
  registerWebhooks(container, config, logger);
  registerEventStream(container, config, logger);

  // The HTTP API
  container.register(
    HttpApp,
    singleton((get) => {
      const [lifecycle, metrics, providers] = [get(GatewayLifecycle), get(GatewayMetrics), get(MessagingProviders)];
      const deliveries = get.optional(WebhookDeliveries);
      return createHttpApp({
        sendMessage: get(SendMessage),
        conversations: get(ConversationActions),
        groups: get(GroupActions),
        defaultSession: config.DEFAULT_SESSION,
        media: { store: get(MediaStore), storeMedia: get(StoreMedia), links: get.optional(SignedMediaLinks) },
        sessions: providers.find((p) => p.sessions)?.sessions,
        store: get(MessageStore),
        health: get(CheckHealth),
        apiKeys: get(ApiKeys).verifier,
        logger,
        openapi: openApiDocument(version),
        bodyLimitBytes: config.BODY_LIMIT_BYTES,
        requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        rateLimit: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
        publicMetrics: config.PUBLIC_ROUTES_METRICS,
        accepting: () => lifecycle.accepting,
        metrics: get(MetricsExporter),
        onWebhookSignatureFailure: (provider) => metrics.webhookSignatureFailure(provider),
        traceRequests: tracingActive(),
        providers,
        recordEvent: get(RecordProviderEvent),
        publicBaseUrl: config.PUBLIC_BASE_URL,
        ...(deliveries ? { webhookDeliveries: deliveries } : {}),
        events: eventsRouteDeps(get, config),
        console: config.CONSOLE_ENABLED,
      });
    }),
  );
}

/** The stores health reports on besides messages and sessions: those present that can tell. */
function watchedStores(
  stores: ReadonlyArray<readonly [name: string, kind: string, store: { health?(): Promise<WriteHealth> } | undefined]>,
): WatchedStore[] {
  return stores.flatMap(([name, kind, store]) => {
    const health = store?.health?.bind(store);
    return health ? [{ name, kind, health }] : [];
  });
}
