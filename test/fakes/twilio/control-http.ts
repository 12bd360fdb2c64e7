import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeTwilioApi } from "./fake-twilio-api.ts";
import type { InboundFile } from "./fake-media.ts";

type Body = Record<string, unknown>;

/**
 * The fake's control API, for process-level runners (the DoD runner):
 *
 * - `GET /control/messages`: messages accepted so far; each has `media: [{url, status, contentType, size,
 *   sha256, error}]`, what fetching its MediaUrls gave (the fake fetches them as Twilio does, loopback URLs
 *   only: any other is listed with an `error` and never connected to)
 * - `GET /control/requests`: every REST request (auth, form, answer status), media downloads included
 * - `POST /control/fail {status, code?, message?, times?}`: script failures (status 0 drops the connection)
 * - `POST /control/reset`: forget messages, requests and scripted failures
 * - `POST /control/status {sid, status, errorCode?, errorMessage?}`: post a signed status callback for a message
 * - `POST /control/inbound {url, from, to, body?, media?: [{contentType, base64}], mediaUrls?, messageSid?}`:
 *   post a signed incoming message to `url`. Each `media` file is kept by the fake and served, behind Basic auth
 *   (account SID and auth token; 401 otherwise), at
 *   `/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}`, which the webhook names in
 *   `MediaUrlN` with `MediaContentTypeN` (NumMedia counts them); `mediaUrls` are named as given, as image/jpeg
 *
 * The last two answer `{status}`: what the gateway answered (`/control/inbound` also `messageSid` and
 * `mediaUrls`).
 */
export async function handleControl(
  fake: FakeTwilioApi,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = `${req.method ?? ""} ${path}`;
  try {
    switch (route) {
      case "GET /control/messages":
        return json(res, 200, fake.messages);
      case "GET /control/requests":
        return json(res, 200, fake.requests);
      case "POST /control/reset":
        fake.reset();
        return json(res, 200, { ok: true });
      case "POST /control/fail": {
        const body = await readJson(req);
        const status = int(body.status, "status");
        fake.fail({
          status,
          ...(body.code === undefined ? {} : { code: int(body.code, "code") }),
          ...(typeof body.message === "string" ? { message: body.message } : {}),
          ...(body.times === undefined ? {} : { times: int(body.times, "times") }),
        });
        return json(res, 200, { ok: true });
      }
      case "POST /control/status": {
        const body = await readJson(req);
        const status = await fake.sendStatus(str(body.sid, "sid"), str(body.status, "status"), {
          ...(body.errorCode === undefined ? {} : { code: String(body.errorCode) }),
          ...(typeof body.errorMessage === "string" ? { message: body.errorMessage } : {}),
        });
        return json(res, 200, { status });
      }
      case "POST /control/inbound": {
        const body = await readJson(req);
        const sent = await fake.sendInbound({
          url: str(body.url, "url"),
          from: str(body.from, "from"),
          to: str(body.to, "to"),
          body: typeof body.body === "string" ? body.body : "",
          files: files(body.media),
          mediaUrls: Array.isArray(body.mediaUrls) ? body.mediaUrls.map(String) : [],
          ...(typeof body.messageSid === "string" ? { messageSid: body.messageSid } : {}),
        });
        return json(res, 200, sent);
      }
      default:
        return json(res, 404, { error: `no control route ${route}` });
    }
  } catch (error) {
    json(res, error instanceof BadControlRequest ? 400 : 500, {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

class BadControlRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadControlRequest("body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new BadControlRequest("body must be a JSON object");
  return parsed as Body;
}

function files(value: unknown): InboundFile[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new BadControlRequest("media must be an array of {contentType, base64}");
  return value.map((entry: unknown, i) => {
    const file = (typeof entry === "object" && entry !== null ? entry : {}) as Body;
    const base64 = str(file.base64, `media[${i}].base64`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new BadControlRequest(`media[${i}].base64 is not base64`);
    return { contentType: str(file.contentType, `media[${i}].contentType`), bytes: Buffer.from(base64, "base64") };
  });
}

function int(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new BadControlRequest(`${name} must be a non-negative integer`);
  return value;
}

function str(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw new BadControlRequest(`${name} must be a non-empty string`);
  return value;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
