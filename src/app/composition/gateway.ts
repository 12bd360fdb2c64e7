import type { DependencyContainer } from "tsyringe";
import { injectionToken, type InjectionToken } from "../../domain/injection-token.ts";
import { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import { MediaStore } from "../../domain/ports/media-store.port.ts";
import { MessageStore } from "../../domain/ports/message-store.port.ts";
import {
  BAILEYS_PROVIDER,
  MessagingProviders,
  type SessionControl,
} from "../../domain/ports/messaging-provider.port.ts";
import { PublicMediaLinks } from "../../domain/ports/public-media-links.port.ts";
import { SessionStore } from "../../domain/ports/session-store.port.ts";
import { WhatsAppConnector } from "../../domain/ports/whatsapp-connector.port.ts";
import { resolveApiKeys } from "../api-keys.ts";
import type { Config } from "../config/config.schema.ts";
import { Dispatcher } from "../dispatcher/dispatcher.ts";
import { MediaRetention } from "../media/media-retention.ts";
import { GatewayMetrics } from "../telemetry/gateway-metrics.ts";
import { TracedSessionStore } from "../telemetry/traced-session-store.ts";
import { traceRecovery } from "../telemetry/tracing.ts";
import { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import {
  ApiKeys,
  GatewayLifecycle,
  HttpApp,
  MetricsExporter,
  registerGateway,
  type ContainerOptions,
} from "./container.ts";
import { newContainer, resolver, singleton, type Resolve } from "./di.ts";
import { createProviders, createWhatsAppConnector } from "./providers.ts";
import { createSessionStore } from "./session-stores.ts";
import { Webhooks } from "./webhooks.ts";
import { EventRecorder } from "../events/event-recorder.ts";

export interface GatewayOptions extends ContainerOptions {
  /**
   * Registers replacements in a child of the gateway's container before
   * anything is built (tests swap an adapter here). Registering
   * MessagingProviders also skips building the configured providers and
   * their session store; registering a WhatsAppConnector (or a SessionStore)
   * runs the WhatsApp provider on it instead of Baileys (or the configured store).
   */
  readonly register?: (container: DependencyContainer) => void;
}

export interface Gateway {
  /** The HTTP app; serve it with @hono/node-server or Deno.serve. */
  readonly app: HttpApp;
  /** The API key generated on this first start, to show once; null otherwise. */
  readonly generatedApiKey: string | null;
  readonly events: DomainEvents;
  /** Session management, when a provider with sessions runs. */
  readonly sessions: SessionControl | undefined;
  start(): Promise<void>;
  /** Stops taking requests, lets in-flight sends finish (bounded), closes providers and stores. */
  stop(): Promise<void>;
}

export const Gateway: InjectionToken<Gateway> = injectionToken("Gateway");

/**
 * The composition root: registers a factory for each part of the gateway
 * (container.ts), lets a test replace some in a child container, does the
 * asynchronous setup of the parts that need it, and resolves the gateway,
 * which builds the rest.
 */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const defaults = newContainer();
  registerGateway(defaults, options);
  defaults.register(
    Gateway,
    singleton((get) => assembleGateway(get, options.config)),
  );
  const container = defaults.createChildContainer();
  options.register?.(container);
  await registerProviders(container, options);
  container.register(ApiKeys, { useValue: await resolveApiKeys(options.config.API_KEYS, options.config.DATA_DIR) });
  return resolver(container)(Gateway);
}

/**
 * The providers GATEWAY_PROVIDERS names and the session store their logins
 * need, unless registered already. Both are set up asynchronously (the store
 * opens, a provider's adapter is imported only when enabled), so they are
 * registered as values.
 */
async function registerProviders(container: DependencyContainer, { config, logger }: GatewayOptions): Promise<void> {
  if (container.isRegistered(MessagingProviders, true)) return;
  const get = resolver(container);
  const metrics = get(GatewayMetrics);
  if (config.GATEWAY_PROVIDERS.includes(BAILEYS_PROVIDER) && !container.isRegistered(SessionStore, true)) {
    const store = await createSessionStore({
      dataDir: config.DATA_DIR,
      mode: config.FIRESTORE_AUTH_STATE_MODE,
      ...(config.FIRESTORE_PROJECT_ID ? { firestoreProjectId: config.FIRESTORE_PROJECT_ID } : {}),
      ...(config.FIRESTORE_EMULATOR_HOST ? { firestoreEmulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
      ...(config.FIRESTORE_COLLECTION ? { firestoreCollection: config.FIRESTORE_COLLECTION } : {}),
      logger: logger.child({ component: "session-store" }),
      onError: (kind) => metrics.storeError(kind),
    });
    container.register(SessionStore, { useValue: new TracedSessionStore(store, (kind) => metrics.storeError(kind)) });
  }
  const sessionStore = get.optional(SessionStore);
  if (sessionStore && !container.isRegistered(WhatsAppConnector, true)) {
    const created = await createWhatsAppConnector(config, logger, sessionStore, get(MediaStore));
    container.register(WhatsAppConnector, { useValue: created });
  }
  const connector = get.optional(WhatsAppConnector);
  const logins = sessionStore && connector ? { store: sessionStore, connector } : undefined;
  const providers = await createProviders(config, logger, logins, {
    publicMediaLinks: get.optional(PublicMediaLinks),
    onRecovery: (record) => {
      metrics.recovery(record);
      traceRecovery(record);
    },
  });
  container.register(MessagingProviders, { useValue: providers });
}

/** The gateway as its entry point sees it: the HTTP app, and the order things start and stop in. */
function assembleGateway(get: Resolve, config: Config): Gateway {
  const dispatcher = get(Dispatcher);
  // Built before providers start: their first session events are queued too.
  const webhooks = get.optional(Webhooks);
  const eventRecorder = get(EventRecorder);
  const providers = get(MessagingProviders);
  const recordEvent = get(RecordProviderEvent);
  const lifecycle = get(GatewayLifecycle);
  const [store, sessionStore, exporter] = [get(MessageStore), get.optional(SessionStore), get(MetricsExporter)];
  const [media, mediaRetention, metrics] = [get(MediaStore), get(MediaRetention), get(GatewayMetrics)];
  const detach: Array<() => void> = [];
  return {
    app: get(HttpApp),
    generatedApiKey: get(ApiKeys).generated,
    events: get(DomainEvents),
    sessions: providers.find((p) => p.sessions)?.sessions,
    async start() {
      // First: its catch-up must see messages as the last process left them.
      await webhooks?.start();
      for (const provider of providers) detach.push(recordEvent.attach(provider));
      await Promise.all(providers.map((p) => p.start()));
      lifecycle.providersStarted = true;
      await dispatcher.start();
      mediaRetention.start();
      eventRecorder.start();
    },
    async stop() {
      lifecycle.accepting = false;
      await dispatcher.stop(config.SHUTDOWN_TIMEOUT_MS);
      await Promise.allSettled(providers.map((p) => p.stop()));
      for (const off of detach.splice(0)) off();
      // After the providers: their last session events are still delivered or queued.
      await webhooks?.stop(config.SHUTDOWN_TIMEOUT_MS);
      // Also ends the open event streams, so the HTTP server can close.
      await eventRecorder.stop();
      await eventRecorder.log.close();
      await mediaRetention.stop();
      await media.close();
      await store.close();
      await sessionStore?.close();
      metrics.close();
      await exporter.shutdown();
    },
  };
}
