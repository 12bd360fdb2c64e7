import { Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { DomainError } from "../../domain/errors.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider, SessionControl } from "../../domain/ports/messaging-provider.port.ts";
import type { ApiKeyVerifier } from "../api-keys.ts";
import type { Logger } from "../logger.ts";
import type { CheckHealth } from "../use-cases/check-health.ts";
import type { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import type { ConversationActions } from "../use-cases/conversation-actions.ts";
import type { GroupActions } from "../use-cases/group-actions.ts";
import type { SendMessage } from "../use-cases/send-message.ts";
import type { WebhookDeliveries } from "../webhooks/webhook-deliveries.ts";
import { requireApiKey } from "./auth.ts";
import { isPublicMediaRequest, MEDIA_PATH, mediaRoutes, type MediaRoutesDeps } from "./media.routes.ts";
import { contactsRoutes, messageActionsRoutes, presenceRoutes } from "./conversations.routes.ts";
import { groupsRoutes } from "./groups.routes.ts";
import { messagesRoutes } from "./messages.routes.ts";
import { domainProblem, problem } from "./problem.ts";
import { rateLimit, TokenBuckets } from "./rate-limit.ts";
import { sessionsRoutes } from "./sessions.routes.ts";
import { systemRoutes } from "./system.routes.ts";
import { traceRequests } from "./tracing.middleware.ts";
import { isProviderWebhookPath, PROVIDER_WEBHOOKS_PATH, providerWebhooksRoutes } from "./provider-webhooks.routes.ts";
import { WEBHOOK_DELIVERIES_PATH, webhooksRoutes } from "./webhooks.routes.ts";
import { consoleRoutes, isConsoleRequest } from "./console.routes.ts";
import { EVENTS_PATH, eventsRoutes, type EventsRoutesDeps } from "./events.routes.ts";

export interface HttpDeps {
  readonly sendMessage: SendMessage;
  /** Session management of the provider with logins, if this process runs one. */
  readonly sessions: SessionControl | undefined;
  readonly store: MessageStore;
  readonly health: CheckHealth;
  readonly apiKeys: ApiKeyVerifier;
  readonly logger: Logger;
  readonly openapi: Record<string, unknown>;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly publicMetrics: boolean;
  /** False once shutdown began: new requests get 503. */
  readonly accepting: () => boolean;
  /** Open a server span per request (when an OpenTelemetry SDK is running). */
  readonly traceRequests: boolean;
  /** Counts webhooks rejected for their signature. */
  readonly onWebhookSignatureFailure?: (provider: string) => void;
  /** What GET /metrics serves (Prometheus text format). */
  readonly metrics: { render(): Promise<string> };
  /** Every running provider: one that has `webhooks` gets its callbacks served at /webhooks/{provider}/{kind}. */
  readonly providers: readonly MessagingProvider[];
  /** Records what a provider's callbacks report. */
  readonly recordEvent: RecordProviderEvent;
  /** The public URL providers call back (PUBLIC_BASE_URL); the one their signatures cover. */
  readonly publicBaseUrl: string | undefined;
  /** Per-API-key token bucket (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST); absent or perSecond 0: no limit. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  /** Media uploads and downloads (`/media`): streamed, held to their kind's limit rather than `bodyLimitBytes`. */
  readonly media: MediaRoutesDeps;
  /** Reactions, edits, deletes, read marks, presence and contact lookups. */
  readonly conversations: ConversationActions;
  /** WhatsApp groups through a session. */
  readonly groups: GroupActions;
  /** DEFAULT_SESSION: where a contact lookup goes when the query names no session. */
  readonly defaultSession: string;
  /** Outbound webhook deliveries, when WEBHOOK_URL is set: their routes exist only then. */
  readonly webhookDeliveries?: WebhookDeliveries;
  /** The server-sent event stream (`GET /events`), when the gateway records events. */
  readonly events?: EventsRoutesDeps;
  /** CONSOLE_ENABLED: serve the web console at /console (its files are public; its calls need a key). */
  readonly console?: boolean;
}

const alwaysPublic = new Set(["/health", "/ready", "/openapi.json", "/docs"]);

/**
 * The HTTP API as one Hono app. The same object is served by
 * @hono/node-server on Node and by Deno.serve under Deno.
 */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  const isPublic = (path: string, method: string) =>
    alwaysPublic.has(path) ||
    (deps.publicMetrics && path === "/metrics") ||
    isProviderWebhookPath(path) ||
    (deps.media.links !== undefined && isPublicMediaRequest(method, path)) ||
    (deps.console === true && isConsoleRequest(method, path));

  // Only with tracing on: even a no-op span per request has a cost on the hot path.
  if (deps.traceRequests) app.use(traceRequests());
  app.use(async (c, next) => {
    if (!deps.accepting())
      return problem(c, "SERVICE.SHUTTING_DOWN", "the gateway is shutting down; retry on another instance", [], {
        "retry-after": "5",
      });
    return next();
  });
  // Not for uploads: a 100 MB file takes longer than a JSON call, and a
  // timed-out answer would leave the upload running; the server's own
  // request timeout still bounds how long a body may take. Nor for the
  // event stream, which is open for as long as the client listens.
  const timeout = requestTimeout(deps.requestTimeoutMs);
  const untimed = (method: string, path: string) =>
    (method === "POST" && path === MEDIA_PATH) || (method === "GET" && path === EVENTS_PATH);
  app.use((c, next) => (untimed(c.req.method, c.req.path) ? next() : timeout(c, next)));
  app.use(requireApiKey(deps.apiKeys, isPublic));
  // After auth: buckets are per authenticated key, so unauthenticated floods cannot fill the map.
  if (deps.rateLimit && deps.rateLimit.perSecond > 0)
    app.use(rateLimit(new TokenBuckets(deps.rateLimit), (c) => c.get("apiKeyFingerprint")));

  if (deps.console) app.route("/", consoleRoutes());
  app.route("/", systemRoutes({ health: deps.health, openapi: deps.openapi, metrics: deps.metrics }));
  const conversation = {
    actions: deps.conversations,
    bodyLimitBytes: deps.bodyLimitBytes,
    defaultSession: deps.defaultSession,
  };
  app.route("/sessions", presenceRoutes(conversation));
  app.route("/sessions", groupsRoutes({ groups: deps.groups, bodyLimitBytes: deps.bodyLimitBytes }));
  app.route("/sessions", sessionsRoutes({ sessions: deps.sessions, bodyLimitBytes: deps.bodyLimitBytes }));
  app.route("/messages", messageActionsRoutes(conversation));
  app.route(
    "/messages",
    messagesRoutes({ sendMessage: deps.sendMessage, store: deps.store, bodyLimitBytes: deps.bodyLimitBytes }),
  );
  app.route("/contacts", contactsRoutes(conversation));
  app.route(MEDIA_PATH, mediaRoutes(deps.media));
  if (deps.webhookDeliveries)
    app.route(WEBHOOK_DELIVERIES_PATH, webhooksRoutes({ deliveries: deps.webhookDeliveries }));
  if (deps.events) app.route(EVENTS_PATH, eventsRoutes(deps.events));
  app.route(
    PROVIDER_WEBHOOKS_PATH,
    providerWebhooksRoutes({
      providers: deps.providers,
      recordEvent: deps.recordEvent,
      publicBaseUrl: deps.publicBaseUrl,
      bodyLimitBytes: deps.bodyLimitBytes,
      logger: deps.logger,
      onSignatureFailure: deps.onWebhookSignatureFailure,
    }),
  );

  app.notFound((c) => problem(c, "ROUTE.NOT_FOUND", `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof DomainError) return domainProblem(c, error);
    if (error instanceof HTTPException && error.status < 500) {
      return problem(c, "REQUEST.INVALID", error.message || "the request could not be read");
    }
    deps.logger.error({ err: error, method: c.req.method, path: c.req.path }, "http: unexpected error");
    return problem(c, "INTERNAL", "an unexpected error occurred; it was logged");
  });
  return app;
}

/** Answers 503 when a handler takes longer than `ms`; the work itself is not cancelled. */
function requestTimeout(ms: number): MiddlewareHandler {
  return async (c, next) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
    try {
      const outcome = await Promise.race([next().then(() => "done" as const), timedOut]);
      if (outcome === "timeout") return problem(c, "REQUEST.TIMEOUT", `the request took longer than ${ms} ms`);
    } finally {
      clearTimeout(timer);
    }
  };
}
