import { serve, type ServerType } from "@hono/node-server";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { SessionInfo } from "../../src/domain/session.ts";
import { aSendingMessage } from "../support/message-mother.ts";
import {
  eventually,
  startInProcessGateway,
  TEST_API_KEY,
  type InProcessGateway,
} from "../support/in-process-gateway.ts";

interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  readonly comment?: string;
}

/** A client of GET /events over real HTTP: collects the frames it reads. */
interface SseClient {
  readonly response: IncomingMessage;
  readonly frames: SseFrame[];
  readonly ended: Promise<void>;
  close(): void;
}

function parseFrame(raw: string): SseFrame {
  const frame: Record<string, string> = {};
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) frame.comment = line.slice(1).trim();
    else {
      const at = line.indexOf(": ");
      frame[line.slice(0, at)] = line.slice(at + 2);
    }
  }
  return frame;
}

function session(state: SessionInfo["state"]): SessionInfo {
  return { id: "default", provider: "baileys", state, me: null, lastDisconnect: null } as SessionInfo;
}

describe("GET /events over HTTP", () => {
  let gw: InProcessGateway;
  let server: ServerType;
  let port: number;
  const clients: SseClient[] = [];

  async function start(env: Record<string, string> = {}) {
    gw = await startInProcessGateway({ SQLITE_SYNCHRONOUS: "normal", ...env });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gw?.close();
    await new Promise<void>((resolve) => {
      if (!server) return resolve();
      if ("closeAllConnections" in server) server.closeAllConnections();
      server.close(() => resolve());
    });
  });

  function open(path = "/events", headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, path, headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers } },
        (response) => {
          const frames: SseFrame[] = [];
          let buffer = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            buffer += chunk;
            let cut: number;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              frames.push(parseFrame(buffer.slice(0, cut)));
              buffer = buffer.slice(cut + 2);
            }
          });
          const ended = new Promise<void>((done) => response.on("close", () => done()));
          const client = { response, frames, ended, close: () => req.destroy() };
          clients.push(client);
          resolve(client);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  const eventsOf = (c: SseClient) => c.frames.filter((f) => f.id !== undefined);

  it("streams the webhook events in order, each with an increasing id and the webhook body", async () => {
    await start();
    const client = await open();
    expect(client.response.statusCode).toBe(200);
    expect(client.response.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(client.response.headers["cache-control"]).toBe("no-cache");
    const message = aSendingMessage({ text: "über" });
    gw.gateway.events.publish({ type: "session.state", session: session("connecting") });
    gw.gateway.events.publish({ type: "message.accepted", message });
    gw.gateway.events.publish({ type: "message.inbound", message });
    gw.gateway.events.publish({ type: "session.state", session: session("open") });
    const got = await eventually(() => (eventsOf(client).length >= 3 ? eventsOf(client) : undefined));
    expect(got.map((f) => f.event)).toEqual(["session.state", "message.inbound", "session.state"]);
    const ids = got.map((f) => Number(f.id));
    expect(ids[1]).toBeGreaterThan(ids[0]!);
    expect(ids[2]).toBeGreaterThan(ids[1]!);
    const inbound = JSON.parse(got[1]!.data!);
    expect(inbound).toMatchObject({ type: "message.inbound", data: { id: message.id, text: "über" } });
    expect(typeof inbound.timestamp).toBe("string");
  });

  it("resumes from Last-Event-ID with exactly the events missed, none twice", async () => {
    await start();
    const first = await open();
    gw.gateway.events.publish({ type: "session.state", session: session("connecting") });
    const [seen] = await eventually(() => (eventsOf(first).length >= 1 ? eventsOf(first) : undefined));
    first.close();
    await first.ended;
    gw.gateway.events.publish({ type: "session.state", session: session("reconnecting") });
    gw.gateway.events.publish({ type: "session.state", session: session("open") });
    await eventually(async () => {
      // Both recorded: a reconnect from scratch (id 0) replays all three.
      const all = await open("/events", { "last-event-id": "0" });
      const ok = await eventually(() => (eventsOf(all).length >= 3 ? true : undefined), 2000).catch(() => false);
      all.close();
      return ok || undefined;
    });
    const second = await open("/events", { "last-event-id": seen!.id! });
    gw.gateway.events.publish({ type: "session.state", session: session("logged_out") });
    const got = await eventually(() => (eventsOf(second).length >= 3 ? eventsOf(second) : undefined));
    await new Promise((r) => setTimeout(r, 100)); // anything repeated would show up now
    expect(eventsOf(second).map((f) => JSON.parse(f.data!).data.state)).toEqual(["reconnecting", "open", "logged_out"]);
    expect(new Set(got.map((f) => f.id)).size).toBe(3);
    expect(second.frames.some((f) => f.event === "reset")).toBe(false);
  });

  it("filters by type, and sends heartbeats at the configured interval", async () => {
    await start({ EVENTS_HEARTBEAT_MS: "100" });
    const client = await open("/events?types=message.status");
    gw.gateway.events.publish({ type: "session.state", session: session("connecting") });
    gw.gateway.events.publish({ type: "message.status", message: aSendingMessage(), reached: ["sending"] });
    await eventually(() => client.frames.some((f) => f.comment === "ping") || undefined);
    const got = await eventually(() => (eventsOf(client).length >= 1 ? eventsOf(client) : undefined));
    expect(got.map((f) => f.event)).toEqual(["message.status"]);
  });

  it("refuses a request without the API key (401 problem), and an unknown type (400)", async () => {
    await start();
    const noKey = await fetch(`http://127.0.0.1:${port}/events`);
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(((await noKey.json()) as { code: string }).code).toBe("AUTH.UNAUTHORIZED");
    const badType = await gw.call("GET", "/events?types=message.nope");
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { code: string }).code).toBe("REQUEST.INVALID");
    const badId = await gw.call("GET", "/events", { headers: { "last-event-id": "abc" } });
    expect(badId.status).toBe(400);
  });

  it("drops a client that stops reading, telling it why and where to resume, and ends its stream", async () => {
    await start();
    // A raw socket that reads the headers, then nothing: the kernel buffers fill, then ours.
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_API_KEY}\r\n\r\n`);
    const head = await new Promise<string>((resolve) => socket.once("data", (chunk) => resolve(String(chunk))));
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    socket.pause();
    let received = head;
    const text = "x".repeat(16_384);
    const published = 2_000; // 32 MB: far more than socket buffers and the 1 MiB bound hold
    for (let n = 0; n < published; n++) {
      gw.gateway.events.publish({ type: "message.inbound", message: aSendingMessage({ text }) });
      if (n % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
    socket.on("data", (chunk) => (received += String(chunk)));
    socket.resume();
    await ended;
    socket.destroy();
    const frames = received.split("\n\n").map((f) => f.replace(/^[\s\S]*?\r\n\r\n/, ""));
    const ids = [...received.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(published);
    const dropped = frames.find((f) => f.includes("event: dropped"));
    expect(dropped).toBeDefined();
    const data = JSON.parse(dropped!.split("data: ")[1]!.split("\r\n")[0]!);
    expect(data).toEqual({ reason: "slow consumer", lastEventId: ids.at(-1) });
    // Nothing after the dropped event: the stream ended there.
    expect(received.slice(received.indexOf("event: dropped"))).not.toMatch(/^id: /m);
  });
});
