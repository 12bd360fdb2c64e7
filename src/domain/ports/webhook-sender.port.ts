import { injectionToken, type InjectionToken } from "../injection-token.ts";

/** One signed POST of a delivery's body to the receiver. */
export interface WebhookRequest {
  /** `webhook-id`: the event id, the same on every attempt. */
  readonly eventId: string;
  readonly body: string;
  /** Signing time (`webhook-timestamp`): the attempt's, since receivers reject old timestamps. */
  readonly at: Date;
}

export type WebhookSendResult =
  | { readonly ok: true; readonly status: number }
  /** Non-2xx answer, timeout or network error; `status` when the receiver answered. */
  | { readonly ok: false; readonly error: string; readonly status?: number };

/** Sends webhooks to the configured receiver. */
export interface WebhookSender {
  /**
   * Signs and posts one webhook. Never throws for what the receiver or the
   * network did: a non-2xx answer, a timeout or a connection error is
   * `{ok: false}` with a reason that never contains the secret.
   */
  send(request: WebhookRequest): Promise<WebhookSendResult>;
}

export const WebhookSender: InjectionToken<WebhookSender> = injectionToken("WebhookSender");
