import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleControl } from "./control-http.ts";
import { errorFor, twilioError, type TwilioErrorBody } from "./error-bodies.ts";
import {
  fetchMediaUrls,
  InboundMediaFiles,
  mediaPathAccount,
  type FetchedMedia,
  type InboundFile,
} from "./fake-media.ts";
import { inboundParams, signedWebhook, statusParams } from "./signed-webhooks.ts";

/** A message the fake accepted, as Messages.json create received it. */
export interface FakeMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly to: string;
  readonly from: string | null;
  readonly messagingServiceSid: string | null;
  readonly body: string | null;
  readonly mediaUrls: readonly string[];
  /** What fetching each MediaUrl gave, in order (the fake fetches them as Twilio does). */
  readonly media: readonly FetchedMedia[];
  readonly statusCallback: string | null;
  readonly dateCreated: string;
}

/** Every request the fake saw, accepted or not. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | null;
  /** Basic auth user and password as sent, or null. */
  readonly auth: { readonly username: string; readonly password: string } | null;
  /** Form fields; repeated ones (MediaUrl) as arrays. */
  readonly form: Readonly<Record<string, string | string[]>>;
  readonly status: number;
}

/** A scripted failure: the next `times` creates answer `status` with Twilio's error `code`; status 0 drops the connection. */
export interface ScriptedFailure {
  readonly status: number;
  readonly code?: number;
  readonly message?: string;
  readonly times?: number;
}

/** An incoming message for the fake to post, signed, to the gateway's inbound webhook. */
export interface FakeInbound {
  /** The webhook URL Twilio would call (signed over it; see `deliverTo`). */
  readonly url: string;
  readonly from: string;
  readonly to: string;
  readonly body?: string;
  /** Files the fake keeps and serves behind Basic auth, named by MediaUrlN pointing at the fake. */
  readonly files?: readonly InboundFile[];
  /** MediaUrls given as they are (announced as image/jpeg), after the files'. */
  readonly mediaUrls?: readonly string[];
  readonly messageSid?: string;
}

export interface FakeTwilioOptions {
  readonly accountSid?: string;
  readonly authToken?: string;
  readonly port?: number;
}

/**
 * A local stand-in for Twilio's REST API, for the real `twilio` library to
 * talk to (through TWILIO_API_BASE_URL): `POST /2010-04-01/Accounts/{Sid}/Messages.json`
 * with a form body and Basic auth, Twilio-shaped answers and error bodies,
 * scripted failures, and a record of every request. Like Twilio, it fetches
 * the MediaUrls of a new message (loopback URLs only) and records what it got.
 * It can also play Twilio's other half: post signed status callbacks to a
 * message's StatusCallback, and signed incoming messages whose files it
 * serves behind Basic auth, as Twilio serves media. A control API lives
 * under /control (see control-http.ts).
 */
export class FakeTwilioApi {
  readonly accountSid: string;
  readonly authToken: string;
  readonly messages: FakeMessage[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly inboundFiles = new InboundMediaFiles();
  /**
   * Where callbacks really go when the signed public URL is not reachable
   * from here (a gateway behind a proxy): this origin replaces the URL's
   * origin on the wire, while the signature still covers the public URL.
   */
  deliverTo: string | undefined;
  private readonly failures: Array<{ status: number; code?: number; message?: string; left: number }> = [];
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private server: Server | undefined;
  private baseUrl = "";

  constructor(options: FakeTwilioOptions = {}) {
    this.accountSid = options.accountSid ?? `AC${randomBytes(16).toString("hex")}`;
    this.authToken = options.authToken ?? randomBytes(16).toString("hex");
  }

  /** The base URL to give TWILIO_API_BASE_URL. */
  get url(): string {
    if (!this.server) throw new Error("the fake Twilio API is not started");
    return this.baseUrl;
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next creates fail as scripted, in order. */
  fail(failure: ScriptedFailure): void {
    this.failures.push({ ...failure, left: failure.times ?? 1 });
  }

  /**
   * Accepted messages are recorded at once but answered only after
   * `release()`: the window in which Twilio's callbacks can overtake the
   * answer to the create.
   */
  holdAnswers(): void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  reset(): void {
    this.release();
    this.messages.length = 0;
    this.requests.length = 0;
    this.failures.length = 0;
    this.inboundFiles.clear();
  }

  /** Creates that reached the Messages endpoint (accepted or refused). */
  creates(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === "POST" && /\/Messages\.json$/.test(r.path));
  }

  /**
   * Posts a status callback for one of our messages, signed with the auth
   * token, to the StatusCallback it was created with (as Twilio does).
   * Resolves with the gateway's HTTP status.
   */
  async sendStatus(sid: string, status: string, error: { code?: string; message?: string } = {}): Promise<number> {
    const message = this.messages.find((m) => m.sid === sid);
    if (!message?.statusCallback) throw new Error(`no message ${sid} with a StatusCallback`);
    const params = statusParams({
      accountSid: this.accountSid,
      messageSid: sid,
      status,
      to: message.to,
      ...(message.from ? { from: message.from } : {}),
      ...(error.code ? { errorCode: error.code } : {}),
      ...(error.message ? { errorMessage: error.message } : {}),
    });
    return this.post(message.statusCallback, params);
  }

  /** Keeps a file of incoming message `messageSid` and returns its MediaUrl (served behind Basic auth). */
  addInboundFile(messageSid: string, file: InboundFile): string {
    return `${this.url}${this.inboundFiles.add(this.accountSid, messageSid, file)}`;
  }

  /**
   * Posts a signed incoming message to `input.url`, its files kept and served
   * by the fake (NumMedia, MediaUrlN, MediaContentTypeN as Twilio sends them).
   * Resolves with the gateway's HTTP status, the MessageSid and the MediaUrls.
   */
  async sendInbound(input: FakeInbound): Promise<{ status: number; messageSid: string; mediaUrls: string[] }> {
    const messageSid = input.messageSid ?? `SM${randomBytes(16).toString("hex")}`;
    const media = [
      ...(input.files ?? []).map((file) => ({
        url: this.addInboundFile(messageSid, file),
        contentType: file.contentType,
      })),
      ...(input.mediaUrls ?? []).map((url) => ({ url, contentType: "image/jpeg" })),
    ];
    const params = inboundParams({
      accountSid: this.accountSid,
      messageSid,
      from: input.from,
      to: input.to,
      body: input.body ?? "",
      media,
    });
    const status = await this.post(input.url, params);
    return { status, messageSid, mediaUrls: media.map((m) => m.url) };
  }

  /** Posts signed form `params` to `url` the way Twilio calls a webhook; resolves with the HTTP status. */
  async post(url: string, params: Record<string, string>): Promise<number> {
    const { body, headers } = signedWebhook(this.authToken, url, params);
    const target = this.deliverTo ? new URL(url.replace(new URL(url).origin, ""), this.deliverTo).href : url;
    const res = await fetch(target, { method: "POST", body, headers });
    await res.arrayBuffer();
    return res.status;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? "/", "http://fake").pathname;
      if (path.startsWith("/control/")) return await handleControl(this, req, res, path);
      await this.rest(req, res, path);
    } catch (error) {
      send(res, 500, twilioError(500, 20500, error instanceof Error ? error.message : String(error)));
    }
  }

  private async rest(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const text = await readBody(req);
    const form = parseForm(text);
    const auth = basicAuth(req.headers.authorization);
    const record = (status: number) =>
      this.requests.push({
        method: req.method ?? "",
        path,
        contentType: req.headers["content-type"] ?? null,
        auth,
        form,
        status,
      });
    const answer = (status: number, body: unknown) => {
      record(status);
      send(res, status, body);
    };

    const authorized = (account: string) =>
      auth !== null &&
      auth.username === this.accountSid &&
      auth.password === this.authToken &&
      account === this.accountSid;
    const mediaAccount = mediaPathAccount(path);
    if (mediaAccount !== undefined && req.method === "GET") {
      if (!authorized(mediaAccount)) return answer(401, errorFor(20003, 401));
      const file = this.inboundFiles.get(path);
      if (!file) return answer(404, errorFor(20404, 404));
      record(200);
      res.writeHead(200, { "content-type": file.contentType, "content-length": String(file.bytes.byteLength) });
      res.end(file.bytes);
      return;
    }
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match || req.method !== "POST") return answer(404, errorFor(20404, 404));
    if (!authorized(match[1]!)) return answer(401, errorFor(20003, 401));
    const failure = this.failures[0];
    if (failure) {
      if (--failure.left <= 0) this.failures.shift();
      if (failure.status === 0) {
        record(0);
        req.socket.destroy();
        return;
      }
      return answer(failure.status, errorFor(failure.code, failure.status, failure.message));
    }
    const invalid = validate(form);
    if (invalid) return answer(invalid.status, invalid);
    // Fetched before the message is listed, so a test that sees the message sees its media.
    const media = await fetchMediaUrls(many(form.MediaUrl), this.deliverTo);
    const message: FakeMessage = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      accountSid: this.accountSid,
      to: one(form.To)!,
      from: one(form.From) ?? null,
      messagingServiceSid: one(form.MessagingServiceSid) ?? null,
      body: one(form.Body) ?? null,
      mediaUrls: many(form.MediaUrl),
      media,
      statusCallback: one(form.StatusCallback) ?? null,
      dateCreated: new Date().toUTCString(),
    };
    this.messages.push(message);
    if (this.gate) await this.gate.promise;
    answer(201, resource(message));
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;

function validate(form: Record<string, string | string[]>): TwilioErrorBody | undefined {
  const to = one(form.To);
  if (!to) return errorFor(21604, 400);
  const number = to.startsWith("whatsapp:") ? to.slice("whatsapp:".length) : to;
  if (!E164.test(number)) return errorFor(21211, 400, `The 'To' number ${to} is not a valid phone number.`);
  if (!one(form.From) && !one(form.MessagingServiceSid)) return errorFor(21603, 400);
  if (!one(form.Body) && many(form.MediaUrl).length === 0) return errorFor(21602, 400);
  return undefined;
}

/** The JSON Twilio answers a create with (the fields the library maps, snake_case). */
function resource(m: FakeMessage): Record<string, unknown> {
  return {
    sid: m.sid,
    account_sid: m.accountSid,
    to: m.to,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    body: m.body,
    status: "queued",
    num_media: String(m.mediaUrls.length),
    num_segments: "1",
    direction: "outbound-api",
    api_version: "2010-04-01",
    price: null,
    price_unit: "USD",
    error_code: null,
    error_message: null,
    date_created: m.dateCreated,
    date_updated: m.dateCreated,
    date_sent: null,
    uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
    subresource_uris: { media: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json` },
  };
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function many(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function parseForm(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = form[key];
    form[key] = existing === undefined ? value : [...many(existing), value];
  }
  return form;
}

function basicAuth(header: string | undefined): RecordedRequest["auth"] {
  const match = /^Basic (.+)$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
