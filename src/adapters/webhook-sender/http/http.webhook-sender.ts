import { Webhook } from "standardwebhooks";
import type { WebhookRequest, WebhookSender, WebhookSendResult } from "../../../domain/ports/webhook-sender.port.ts";

export interface HttpWebhookSenderOptions {
  /** The receiver (WEBHOOK_URL). */
  readonly url: string;
  /** `whsec_<base64>`, as the Standard Webhooks libraries take it. */
  readonly secret: string;
  /** Whole attempt, connect to last body byte; past it the attempt counts as failed. */
  readonly timeoutMs: number;
  readonly userAgent?: string;
  /** Replaces global fetch (tests). */
  readonly fetch?: typeof fetch;
}

// A receiver's error page is only kept as a hint; never read an unbounded body.
const MAX_ERROR_BODY_CHARS = 200;

/**
 * Posts webhooks signed per the Standard Webhooks specification
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`),
 * with the spec's own library doing the signing.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #signer: Webhook;
  readonly #options: HttpWebhookSenderOptions;
  readonly #fetch: typeof fetch;

  constructor(options: HttpWebhookSenderOptions) {
    this.#signer = new Webhook(options.secret);
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  async send(request: WebhookRequest): Promise<WebhookSendResult> {
    const signature = this.#signer.sign(request.eventId, request.at, request.body);
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    try {
      const response = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": this.#options.userAgent ?? "messaging-gateway-webhooks",
          "webhook-id": request.eventId,
          "webhook-timestamp": String(Math.floor(request.at.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: request.body,
        // A redirect is a misconfigured URL, not a delivery: following it
        // would re-post signed events somewhere nobody configured.
        redirect: "manual",
        signal,
      });
      if (response.status >= 200 && response.status < 300) {
        // What the receiver says on success does not matter; never read an unbounded body.
        await response.body?.cancel();
        return { ok: true, status: response.status };
      }
      const text = (await readSome(response, MAX_ERROR_BODY_CHARS)).replace(/\s+/g, " ").trim();
      return { ok: false, status: response.status, error: `HTTP ${response.status}${text ? `: ${text}` : ""}` };
    } catch (error) {
      if (signal.aborted) return { ok: false, error: `timed out after ${this.#options.timeoutMs} ms` };
      return { ok: false, error: describe(error) };
    }
  }
}

/** The first `max` characters of a body, then the rest is cancelled. */
async function readSome(response: Response, max: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (text.length < max) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.slice(0, max);
}

/** fetch wraps the interesting part (ECONNREFUSED, reset) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && "code" in cause ? String((cause as { code: unknown }).code) : undefined;
  return [error.message, code ?? cause?.message].filter(Boolean).join(": ");
}
