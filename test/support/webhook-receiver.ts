import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** A fresh secret in the Standard Webhooks form. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** What the receiver does with one request: answer with a status, or never answer (a timeout). */
export type ReceiverAnswer = number | "hang";

export interface ReceivedWebhook {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The payload `Webhook#verify` returned, or undefined when verification failed. */
  readonly payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  /** Why verification failed, if it did. */
  readonly verifyError: string | undefined;
  readonly answer: ReceiverAnswer;
}

/**
 * A webhook receiver on a random local port that verifies every request with
 * the `standardwebhooks` package (not with the gateway's code), records it,
 * and answers as scripted: `answers` are used in order, then `200`.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly #answers: ReceiverAnswer[] = [];
  readonly #verifier: Webhook;
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  readonly #hung: ServerResponse[] = [];

  private constructor(secret: string) {
    this.#verifier = new Webhook(secret);
  }

  /** Starts on `port` (0: any free one); verifies with `secret`. */
  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await new Promise<void>((resolve, reject) => {
      receiver.#server.once("error", reject);
      receiver.#server.listen(port, "127.0.0.1", () => resolve());
    });
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** The next requests get these answers, in order. */
  answer(...answers: ReceiverAnswer[]): void {
    this.#answers.push(...answers);
  }

  /** Forgets the scripted answers not used yet: every next request gets 200. */
  clearAnswers(): void {
    this.#answers.length = 0;
  }

  /** Verified requests, in arrival order. */
  get verified(): ReceivedWebhook[] {
    return this.received.filter((r) => r.payload !== undefined);
  }

  async close(): Promise<void> {
    for (const res of this.#hung.splice(0)) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
    let payload: ReceivedWebhook["payload"];
    let verifyError: string | undefined;
    try {
      payload = this.#verifier.verify(body, headers) as ReceivedWebhook["payload"];
    } catch (error) {
      verifyError = error instanceof Error ? error.message : String(error);
    }
    const answer = this.#answers.shift() ?? 200;
    this.received.push({ headers, body, payload, verifyError, answer });
    if (answer === "hang") {
      this.#hung.push(res);
      return;
    }
    // A receiver that cannot verify refuses, as the spec asks.
    res.writeHead(verifyError ? 401 : answer, { "content-type": "text/plain" }).end(verifyError ?? "ok");
  }
}
