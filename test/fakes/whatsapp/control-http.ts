import type { IncomingMessage, ServerResponse } from "node:http";
import { BufferJSON } from "@whiskeysockets/baileys";
import { ControlError } from "./errors.ts";
import { parseFault } from "./faults.ts";
import { MEDIA_FAULT_KINDS } from "./media-server.ts";
import type { MediaFaultKind } from "./media-server.ts";
import type { InboundRequest } from "./messaging.ts";
import { normalizePhone } from "./registry.ts";
import type { GroupRequest, GroupUpdateRequest, ParticipantsRequest } from "./group-control.ts";
import type { WhatsAppSimulator } from "./simulator.ts";

const MAX_BODY_BYTES = 1024 * 1024;
/** What a contact can send in `POST /control/inbound`, passed on as given. */
const INBOUND_CONTENT = ["text", "media", "replyTo", "reaction", "edit", "revoke", "location", "contacts"] as const;
/** Inbound media travels as base64 in the JSON body. */
const MAX_INBOUND_BODY_BYTES = 160 * 1024 * 1024;

type Body = Record<string, unknown>;
type Route = (body: Body, query: URLSearchParams) => unknown;

async function readJson(req: IncomingMessage, maxBytes: number): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new ControlError(413, "body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ControlError(400, "body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ControlError(400, "body must be a JSON object");
  }
  return parsed as Body;
}

function phoneParam(value: unknown, name: string): string {
  const phone = typeof value === "string" ? normalizePhone(value) : undefined;
  if (!phone) throw new ControlError(400, `${name} must be a phone number`);
  return phone;
}

function groupParam(value: unknown): string {
  if (typeof value !== "string" || !/^\d{5,30}(@g\.us)?$/.test(value))
    throw new ControlError(400, "group must be a group id");
  return value;
}

function numberParam(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ControlError(400, `${name} must be a number between ${min} and ${max}`);
  }
  return value;
}

/**
 * The JSON control API, keyed by "METHOD /path". Every route validates its
 * input and answers 400 with `{error}` rather than throwing past here.
 */
function routes(sim: WhatsAppSimulator): Record<string, Route> {
  return {
    "GET /control/health": () => ({ ok: true, ws: sim.wsUrl, mediaHost: sim.mediaHost, caFile: sim.caFile }),
    "POST /control/scan": async (b) => sim.scanQr(String(b.qr ?? ""), phoneParam(b.phone, "phone")),
    "POST /control/pairing-code": async (b) => sim.enterPairingCode(phoneParam(b.phone, "phone"), String(b.code ?? "")),
    "POST /control/accounts": (b) => {
      const account = sim.provisionAccount({
        ...(b.phone !== undefined ? { phone: phoneParam(b.phone, "phone") } : {}),
        ...(typeof b.name === "string" ? { name: b.name } : {}),
      });
      // BufferJSON keeps the keys restorable with JSON.parse(text, BufferJSON.reviver).
      return { ...account, creds: JSON.parse(JSON.stringify(account.creds, BufferJSON.replacer)) };
    },
    "GET /control/accounts": () => sim.accounts(),
    "POST /control/fault": (b) => ({ affected: sim.fault(parseFault(b)) }),
    "POST /control/outage": (b) => {
      const seconds = numberParam(b.seconds, "seconds", 0, 3600);
      sim.outage(seconds);
      return { until: new Date(Date.now() + seconds * 1000).toISOString() };
    },
    "POST /control/inbound": async (b) => {
      if (b.fromLid !== undefined && typeof b.fromLid !== "boolean") {
        throw new ControlError(400, "fromLid must be a boolean");
      }
      const content: Partial<InboundRequest> = {};
      // Checked field by field in Messaging.inbound (parseInboundContent).
      for (const key of INBOUND_CONTENT) if (b[key] !== undefined) Object.assign(content, { [key]: b[key] });
      const request: InboundRequest = {
        from: phoneParam(b.from, "from"),
        ...(b.group === undefined ? { to: phoneParam(b.to, "to") } : { group: groupParam(b.group) }),
        ...content,
        ...(b.fromLid === true ? { fromLid: true } : {}),
        ...(typeof b.encrypted === "boolean" ? { encrypted: b.encrypted } : {}),
        ...(typeof b.id === "string" ? { id: b.id } : {}),
        ...(typeof b.pushName === "string" ? { pushName: b.pushName } : {}),
      };
      return sim.inbound(request);
    },
    "POST /control/receipt": (b) => {
      if (typeof b.id !== "string" || b.id === "") throw new ControlError(400, "id must be a message id");
      if (b.type !== "delivery" && b.type !== "read") throw new ControlError(400, "type must be delivery or read");
      return sim.receipt({ from: phoneParam(b.from, "from"), id: b.id, type: b.type });
    },
    "POST /control/refuse": (b) => {
      const code = numberParam(b.code, "code", 100, 999);
      if (!Number.isInteger(code)) throw new ControlError(400, "code must be an integer status code");
      const times = b.times === undefined ? 1 : numberParam(b.times, "times", 1, 1000);
      return sim.refuse(phoneParam(b.phone, "phone"), code, Math.floor(times));
    },
    "POST /control/receipts": (b) => {
      for (const key of ["delivery", "read"] as const) {
        if (b[key] !== undefined && typeof b[key] !== "boolean")
          throw new ControlError(400, `${key} must be a boolean`);
      }
      return sim.setReceipts({
        ...(typeof b.delivery === "boolean" ? { delivery: b.delivery } : {}),
        ...(typeof b.read === "boolean" ? { read: b.read } : {}),
        ...(b.delayMs !== undefined ? { delayMs: numberParam(b.delayMs, "delayMs", 0, 600_000) } : {}),
      });
    },
    "POST /control/frame-delay": (b) => ({ ms: sim.setFrameDelay(numberParam(b.ms, "ms", 0, 60_000)) }),
    "GET /control/messages": (_b, q) => sim.messages(phoneParam(q.get("from"), "from")),
    "GET /control/client-receipts": (_b, q) => sim.clientReceipts(phoneParam(q.get("from"), "from")),
    "GET /control/presence": (_b, q) => sim.presence(phoneParam(q.get("from"), "from")),
    "POST /control/contacts": (b) => {
      if (typeof b.onWhatsApp !== "boolean") throw new ControlError(400, "onWhatsApp must be a boolean");
      return sim.setContact(phoneParam(b.phone, "phone"), b.onWhatsApp);
    },
    "GET /control/stats": () => sim.stats(),
    "POST /control/media/expire": (b) => {
      if (b.sha256 !== undefined && (typeof b.sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(b.sha256))) {
        throw new ControlError(400, "sha256 must be the hex SHA-256 of the file");
      }
      return sim.expireMedia(b.sha256 as string | undefined);
    },
    "POST /control/media/fault": (b) => {
      if (typeof b.kind !== "string" || !(MEDIA_FAULT_KINDS as readonly string[]).includes(b.kind)) {
        throw new ControlError(400, `kind must be one of ${MEDIA_FAULT_KINDS.join(", ")}`);
      }
      const times = b.times === undefined ? 1 : numberParam(b.times, "times", 1, 1000);
      return sim.mediaFault(b.kind as MediaFaultKind, Math.floor(times));
    },
    "POST /control/groups": (b) => sim.createGroup(b as unknown as GroupRequest),
    "GET /control/groups": () => sim.groups(),
    "POST /control/reset": () => {
      sim.reset();
      return { ok: true };
    },
  };
}

/** Routes under `/control/groups/{id}`: the group's id is a path segment. */
function groupRoutes(sim: WhatsAppSimulator, method: string, path: string): Route | undefined {
  const match = /^\/control\/groups\/([^/]+)(\/participants)?$/.exec(path);
  if (!match) return undefined;
  const id = decodeURIComponent(match[1]!);
  if (match[2]) return method === "POST" ? (b) => sim.updateParticipants(id, b as ParticipantsRequest) : undefined;
  if (method === "GET") return () => sim.group(id);
  if (method === "POST") return (b) => sim.updateGroup(id, b as GroupUpdateRequest);
  return undefined;
}

/** Builds the HTTP request handler for the control API. */
export function createControlHandler(sim: WhatsAppSimulator): (req: IncomingMessage, res: ServerResponse) => void {
  const table = routes(sim);
  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body ?? null);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = table[`${req.method} ${url.pathname}`] ?? groupRoutes(sim, req.method ?? "", url.pathname);
    if (!route) {
      reply(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    (async () => {
      const limit = url.pathname === "/control/inbound" ? MAX_INBOUND_BODY_BYTES : MAX_BODY_BYTES;
      const body = req.method === "POST" ? await readJson(req, limit) : {};
      reply(res, 200, await route(body, url.searchParams));
    })().catch((err: unknown) => {
      const status = err instanceof ControlError ? err.status : 500;
      reply(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  };
}
