import "reflect-metadata";
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from "tsyringe";
import { join } from "node:path";
import { SqliteMessageStore } from "../../adapters/message-store/sqlite/sqlite.message-store.ts";
import { Clock, systemClock } from "../../domain/ports/clock.port.ts";
import { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { InjectionToken } from "../../domain/injection-token.ts";
import { MessageStore } from "../../domain/ports/message-store.port.ts";
import {
  MessagingProviders,
  type MessagingProvider,
  type SessionControl,
} from "../../domain/ports/messaging-provider.port.ts";
import { SessionStore } from "../../domain/ports/session-store.port.ts";
import { resolveApiKeys } from "../api-keys.ts";
import type { Config } from "../config/config.schema.ts";
import { Dispatcher } from "../dispatcher/dispatcher.ts";
import { createHttpApp } from "../http/app.ts";
import { openApiDocument } from "../http/openapi.ts";
import { InProcessDomainEvents } from "../in-process-domain-events.ts";
import type { Logger } from "../logger.ts";
import { Router } from "../routing.ts";
import { CheckHealth } from "../use-cases/check-health.ts";
import { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import { SendMessage } from "../use-cases/send-message.ts";
import { createProviders } from "./providers.ts";
import { createSessionStore } from "./session-stores.ts";
import { createWebhooks } from "./webhooks.ts";
import { createPrometheusMetrics } from "../../adapters/telemetry/opentelemetry/prometheus-metrics.ts";
import { GatewayMetrics } from "../telemetry/gateway-metrics.ts";
import { TracedSessionStore } from "../telemetry/traced-session-store.ts";
import { MessageSpans, traceRecovery, tracingActive } from "../telemetry/tracing.ts";

export interface GatewayOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  /** Replaces the providers GATEWAY_PROVIDERS would build (tests use in-memory ones). */
  readonly providers?: readonly MessagingProvider[];
  /** Randomness of backoff jitter (tests pin it). */
  readonly random?: () => number;
}

export interface Gateway {
  /** The HTTP app; serve it with @hono/node-server or Deno.serve. */
  readonly app: ReturnType<typeof createHttpApp>;
  /** The API key generated on this first start, to show once; null otherwise. */
  readonly generatedApiKey: string | null;
  readonly container: DependencyContainer;
  readonly events: DomainEvents;
  /** Session management, when a provider with sessions runs. */
  readonly sessions: SessionControl | undefined;
  start(): Promise<void>;
  /** Stops taking requests, lets in-flight sends finish (bounded), closes providers and stores. */
  stop(): Promise<void>;
}

/**
 * The composition root: the one place that picks an adapter for each port
 * and wires the use cases. Read it top to bottom to see what runs.
 */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  const container = rootContainer.createChildContainer();
  const resolve = <T>(token: InjectionToken<T>): T => container.resolve<T>(token);

  container.register(Clock, { useValue: systemClock });
  container.register(DomainEvents, { useFactory: instanceCachingFactory(() => new InProcessDomainEvents(logger)) });
  container.register(MessageStore, {
    useFactory: instanceCachingFactory(
      () =>
        new SqliteMessageStore({ path: join(config.DATA_DIR, "messages.db"), synchronous: config.SQLITE_SYNCHRONOUS }),
    ),
  });
  const telemetry = createPrometheusMetrics("messaging-gateway", options.version);
  const store = resolve(MessageStore);
  const metrics = new GatewayMetrics(telemetry.meter, {
    // Read at scrape time, once the providers (built below) exist.
    sessions: () => sessions?.list() ?? [],
    queueDepths: () => store.queueDepths(systemClock.now()),
  });
  const messageSpans = new MessageSpans();

  const rawSessionStore =
    config.GATEWAY_PROVIDERS.includes("baileys") && !options.providers
      ? await createSessionStore({
          dataDir: config.DATA_DIR,
          mode: config.FIRESTORE_AUTH_STATE_MODE,
          ...(config.FIRESTORE_PROJECT_ID ? { firestoreProjectId: config.FIRESTORE_PROJECT_ID } : {}),
          ...(config.FIRESTORE_EMULATOR_HOST ? { firestoreEmulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
          ...(config.FIRESTORE_COLLECTION ? { firestoreCollection: config.FIRESTORE_COLLECTION } : {}),
          logger: logger.child({ component: "session-store" }),
          onError: (kind) => metrics.storeError(kind),
        })
      : undefined;
  const sessionStore = rawSessionStore
    ? new TracedSessionStore(rawSessionStore, (kind) => metrics.storeError(kind))
    : undefined;
  if (sessionStore) container.register(SessionStore, { useValue: sessionStore });
  container.register(MessagingProviders, {
    useValue:
      options.providers ??
      (await createProviders(config, logger, sessionStore, {
        onRecovery: (record) => {
          metrics.recovery(record);
          traceRecovery(record);
        },
      })),
  });

  const providers = resolve(MessagingProviders);
  const events = resolve(DomainEvents);
  const clock = resolve(Clock);
  const { verifier, generated } = await resolveApiKeys(config.API_KEYS, config.DATA_DIR);

  const dispatcher = new Dispatcher(
    store,
    providers,
    events,
    clock,
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
      ...(options.random ? { random: options.random } : {}),
      instrumentSend: (message, send) => messageSpans.dispatch(message, send),
    },
  );
  const router = new Router(providers, {
    whatsappProvider: config.WHATSAPP_PROVIDER,
    defaultSession: config.DEFAULT_SESSION,
  });
  const sendMessage = new SendMessage(store, router, clock, config.DEFAULT_CHANNEL, (message) => {
    messageSpans.accepted(message);
    metrics.messageStatus(message.provider, "outbound", "queued");
    dispatcher.wake(message);
  });
  events.subscribe((event) => {
    if (event.type === "message.status") {
      for (const status of event.reached)
        metrics.messageStatus(event.message.provider, event.message.direction, status);
      messageSpans.settled(event.message);
    } else if (event.type === "message.inbound") {
      metrics.messageStatus(event.message.provider, "inbound", "received");
    }
  });
  // Subscribed before providers start, so their first session events are queued too.
  const webhooks = createWebhooks(config, {
    container,
    messages: store,
    events,
    clock,
    logger,
    ...(options.random ? { random: options.random } : {}),
  });
  const recordEvent = new RecordProviderEvent(store, events, clock, logger, (provider, session) =>
    dispatcher.wakeSession(provider, session),
  );

  let providersStarted = false;
  let accepting = true;
  const health = new CheckHealth({
    version: options.version,
    clock,
    messageStore: store,
    messageStoreKind: "sqlite",
    sessionStore: rawSessionStore,
    providers,
    providersStarted: () => providersStarted,
  });
  const sessions: SessionControl | undefined = providers.find((p) => p.sessions)?.sessions;
  const app = createHttpApp({
    sendMessage,
    sessions,
    store,
    health,
    apiKeys: verifier,
    logger,
    openapi: openApiDocument(options.version),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    rateLimit: { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
    publicMetrics: config.PUBLIC_ROUTES_METRICS,
    accepting: () => accepting,
    metrics: telemetry,
    onWebhookSignatureFailure: (provider) => metrics.webhookSignatureFailure(provider),
    traceRequests: tracingActive(),
    providers,
    recordEvent,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    ...(webhooks ? { webhookDeliveries: webhooks.deliveries } : {}),
  });

  const detach: Array<() => void> = [];
  return {
    app,
    generatedApiKey: generated,
    container,
    events,
    sessions,
    async start() {
      // First: its catch-up must see messages as the last process left them.
      await webhooks?.start();
      for (const provider of providers) detach.push(recordEvent.attach(provider));
      await Promise.all(providers.map((p) => p.start()));
      providersStarted = true;
      await dispatcher.start();
    },
    async stop() {
      accepting = false;
      await dispatcher.stop(config.SHUTDOWN_TIMEOUT_MS);
      await Promise.allSettled(providers.map((p) => p.stop()));
      for (const off of detach.splice(0)) off();
      // After the providers: their last session events are still delivered or queued.
      await webhooks?.stop(config.SHUTDOWN_TIMEOUT_MS);
      await store.close();
      await sessionStore?.close();
      await telemetry.shutdown();
    },
  };
}
