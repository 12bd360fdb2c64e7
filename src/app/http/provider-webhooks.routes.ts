import { Hono, type Context } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { DomainError } from "../../domain/errors.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import {
  ProviderIds,
  type MessagingProvider,
  type ProviderEvent,
  type WebhookAnswer,
  type WebhookReceiver,
  type WebhookRequest,
  type WebhookResult,
} from "../../domain/ports/messaging-provider.port.ts";
import { tracer, withinSpan } from "../telemetry/tracing.ts";
import type { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import { problem } from "./problem.ts";
import { readBoundedBody } from "./request-body.ts";

/** Where provider callbacks are served: `POST /webhooks/{provider}/{kind}`. */
export const PROVIDER_WEBHOOKS_PATH = "/webhooks";

/** The path of one provider callback; after PUBLIC_BASE_URL, the URL the provider calls and signs. */
export function providerWebhookPath(provider: string, kind: string): string {
  return `${PROVIDER_WEBHOOKS_PATH}/${provider}/${kind}`;
}

/**
 * Whether a path belongs to a provider's callbacks (those of any provider
 * this build knows, running or not): they are authenticated by the
 * provider's signature, never by an API key, so a provider without a key
 * gets a 404 rather than a 401 for a callback this process does not serve.
 */
export function isProviderWebhookPath(path: string): boolean {
  return ProviderIds.some((id) => path.startsWith(`${PROVIDER_WEBHOOKS_PATH}/${id}/`));
}

export interface ProviderWebhooksDeps {
  /** Every running provider; those with `webhooks` have their callbacks served. */
  readonly providers: readonly MessagingProvider[];
  readonly recordEvent: RecordProviderEvent;
  /** The public URL providers call, without trailing slash (PUBLIC_BASE_URL); their signatures cover it. */
  readonly publicBaseUrl: string | undefined;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  /** Counts a rejected signature (gateway_webhook_signature_failures_total). */
  readonly onSignatureFailure?: ((provider: string) => void) | undefined;
}

/**
 * Providers' callbacks, `POST /{provider}/{kind}` (mounted at
 * PROVIDER_WEBHOOKS_PATH): each goes to its provider's WebhookReceiver, which
 * reads, verifies and parses it and says what to answer; an unknown provider
 * or kind is a 404. The signed URL is rebuilt from PUBLIC_BASE_URL, never
 * from the Host header, which a proxy or TLS terminator rewrites (and a
 * client can forge). Events are recorded before answering: a 2xx means they
 * are committed, anything else makes the provider retry (redeliveries are
 * deduped by provider message id).
 */
export function providerWebhooksRoutes(deps: ProviderWebhooksDeps): Hono {
  const routes = new Hono();
  const log = deps.logger.child({ component: "provider-webhooks" });
  const receivers = new Map<string, { provider: MessagingProvider; receiver: WebhookReceiver }>();
  for (const provider of deps.providers) {
    if (!provider.webhooks) continue;
    if (!deps.publicBaseUrl)
      throw new Error(`the ${provider.id} webhooks need PUBLIC_BASE_URL: their signatures cover it`);
    receivers.set(provider.id, { provider, receiver: provider.webhooks });
  }

  routes.post("/:provider/:kind", (c) => {
    const target = receivers.get(c.req.param("provider"));
    const kind = c.req.param("kind");
    if (!target || !target.receiver.kinds.includes(kind))
      return problem(c, "ROUTE.NOT_FOUND", `no route ${c.req.method} ${c.req.path}`);
    const id = target.provider.id;
    return tracer.startActiveSpan(
      `${id}.webhook.${kind}`,
      { attributes: { "webhook.provider": id, "webhook.kind": kind } },
      (span) =>
        withinSpan(span, async () => {
          const response = await handle(c, target.provider, target.receiver, kind);
          span.setAttribute("http.response.status_code", response.status);
          return response;
        }),
    );
  });

  async function handle(
    c: Context,
    provider: MessagingProvider,
    receiver: WebhookReceiver,
    kind: string,
  ): Promise<Response> {
    const url = `${deps.publicBaseUrl}${providerWebhookPath(provider.id, kind)}${rawQuery(c)}`;
    const request: WebhookRequest = {
      kind,
      url,
      header: (name) => c.req.header(name),
      body: () => readBoundedBody(c, deps.bodyLimitBytes),
    };
    const result = await receiver.receive(request);
    if (!result.ok) return rejected(c, provider.id, kind, url, result);
    for (const event of result.events) await deps.recordEvent.handle(provider, event);
    log.info(
      { provider: provider.id, kind, events: result.events.length, providerMessageIds: result.events.map(messageIdOf) },
      "provider webhook recorded",
    );
    return answer(c, result.answer);
  }

  function rejected(
    c: Context,
    provider: string,
    kind: string,
    url: string,
    result: Extract<WebhookResult, { ok: false }>,
  ): Response {
    log.warn({ provider, kind, reason: result.reason, detail: result.detail }, "provider webhook rejected");
    switch (result.reason) {
      case "signature":
        deps.onSignatureFailure?.(provider);
        return problem(
          c,
          "WEBHOOK.SIGNATURE_INVALID",
          `${result.detail}; the signed URL is checked as ${url} (PUBLIC_BASE_URL)`,
        );
      case "unsupported_media_type":
        throw new DomainError("REQUEST.UNSUPPORTED_MEDIA_TYPE", result.detail);
      case "malformed":
        throw new DomainError("REQUEST.INVALID", result.detail, [{ field: "(body)", message: result.detail }]);
    }
  }

  return routes;
}

/** The query exactly as sent (`?a=1`), not re-encoded: the provider signed these characters. */
function rawQuery(c: Context): string {
  const url = c.req.url;
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at);
}

function answer(c: Context, answer: WebhookAnswer): Response {
  const status = answer.status as StatusCode;
  if (answer.body === undefined) return c.body(null, status);
  return c.body(answer.body, status as ContentfulStatusCode, {
    ...(answer.contentType ? { "content-type": answer.contentType } : {}),
  });
}

function messageIdOf(event: ProviderEvent): string | null {
  if (event.type === "inbound") return event.message.providerMessageId;
  return event.type === "status" ? event.providerMessageId : null;
}
