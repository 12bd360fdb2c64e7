import { Hono, type Context } from "hono";
import { DomainError } from "../../domain/errors.ts";
import type { MessagingProvider, WebhookReceiver } from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../logger.ts";
import type { RecordProviderEvent } from "../use-cases/record-provider-event.ts";
import { SpanStatusCode } from "@opentelemetry/api";
import { tracer } from "../telemetry/tracing.ts";
import { readFormBody } from "./form-body.ts";
import { problem } from "./problem.ts";

/** Where these routes are mounted; part of the URL Twilio signs. */
export const TWILIO_WEBHOOKS_PATH = "/webhooks/twilio";

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export interface TwilioWebhooksDeps {
  /** The provider the callbacks report for, and its receiver that verifies and parses them. */
  readonly provider: MessagingProvider;
  readonly webhooks: WebhookReceiver;
  readonly recordEvent: RecordProviderEvent;
  /** The public URL Twilio calls, without trailing slash (PUBLIC_BASE_URL). */
  readonly publicBaseUrl: string;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  /** Counts a rejected signature (gateway_webhook_signature_failures_total). */
  readonly onSignatureFailure?: (provider: string) => void;
}

/**
 * Twilio's callbacks: `POST /inbound` (a message came in) and `POST /status`
 * (a MessageStatus report). The signature covers the URL Twilio called, so it
 * is rebuilt from PUBLIC_BASE_URL, never from the Host header, which a proxy
 * or TLS terminator rewrites (and a client can forge). Events are recorded
 * before answering: a 2xx means they are committed, anything else makes
 * Twilio retry (redeliveries are deduped by MessageSid).
 */
export function twilioWebhooksRoutes(deps: TwilioWebhooksDeps): Hono {
  const routes = new Hono();
  const log = deps.logger.child({ component: "twilio-webhooks" });

  for (const kind of ["inbound", "status"] as const) {
    routes.post(`/${kind}`, (c) =>
      tracer.startActiveSpan(
        `twilio.webhook.${kind}`,
        { attributes: { "webhook.provider": "twilio", "webhook.kind": kind } },
        async (span) => {
          try {
            const response = await handle(c, kind);
            span.setAttribute("http.response.status_code", response.status);
            return response;
          } catch (error) {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: error instanceof Error ? error.message : String(error),
            });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    );
  }

  async function handle(c: Context, kind: "inbound" | "status"): Promise<Response> {
    const params = await readFormBody(c, deps.bodyLimitBytes);
    const url = `${deps.publicBaseUrl}${TWILIO_WEBHOOKS_PATH}/${kind}${rawQuery(c)}`;
    const result = deps.webhooks.receive({ kind, url, params, signature: c.req.header("x-twilio-signature") });
    if (!result.ok) {
      log.warn(
        { kind, reason: result.reason, detail: result.detail, messageSid: params.MessageSid ?? null },
        "twilio webhook rejected",
      );
      if (result.reason === "signature") {
        deps.onSignatureFailure?.(deps.provider.id);
        return problem(
          c,
          "WEBHOOK.SIGNATURE_INVALID",
          `${result.detail}; the signed URL is checked as ${url} (PUBLIC_BASE_URL)`,
        );
      }
      throw new DomainError("REQUEST.INVALID", result.detail, [{ field: "(body)", message: result.detail }]);
    }
    for (const event of result.events) await deps.recordEvent.handle(deps.provider, event);
    log.info({ kind, messageSid: params.MessageSid ?? null, events: result.events.length }, "twilio webhook recorded");
    return kind === "inbound" ? twiml(c) : c.body(null, 204);
  }
  return routes;
}

/** The query exactly as sent (`?a=1`), not re-encoded: Twilio signed these characters. */
function rawQuery(c: Context): string {
  const url = c.req.url;
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at);
}

function twiml(c: Context): Response {
  return c.body(EMPTY_TWIML, 200, { "content-type": "text/xml; charset=utf-8" });
}
