import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../src/adapters/messaging/baileys/wa-message-id.ts";
import { startWhatsAppSimulator, type ReceivedMessage, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import {
  eventually,
  startInProcessGateway,
  TEST_API_KEY,
  type InProcessGateway,
} from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { realMedia } from "../support/real-media.ts";
import { tempDir } from "../support/temp-dir.ts";

// Files through the whole product: POST /media, a message naming the file,
// the real Baileys uploading it to the simulator's media server (trusted
// through WA_MEDIA_CA_FILE), the simulator decrypting and checking it; and
// files a contact sends, downloaded into the gateway's media store and
// served at /media/{id}.

const PHONE = "40711115555";
const CONTACT = "+40722225555";
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface MediaView {
  id: string;
  kind: string;
  mimeType: string;
  size: number;
  sha256: string;
  filename: string | null;
  caption: string | null;
  url: string;
}

interface MessageView {
  id: string;
  direction: string;
  status: string;
  text: string;
  providerMessageId: string | null;
  media: MediaView[];
}

async function simulator(): Promise<WhatsAppSimulator> {
  const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
  cleanups.push(() => sim.close());
  return sim;
}

function env(sim: WhatsAppSimulator): Record<string, string> {
  return {
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.wsUrl,
    WA_MEDIA_CA_FILE: sim.caFile,
    RECONNECT_BACKOFF_BASE_MS: "50",
    RECONNECT_BACKOFF_MAX_MS: "300",
    DISPATCH_BACKOFF_BASE_MS: "50",
    DISPATCH_BACKOFF_MAX_MS: "200",
  };
}

/** A gateway in this process on a linked session, open. */
async function linkedGateway(sim: WhatsAppSimulator): Promise<InProcessGateway> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  await seedLinkedSession(sim, dir.path, "default", PHONE);
  const gw = await startInProcessGateway(env(sim), "configured", dir.path);
  cleanups.push(() => gw.close());
  await eventually(
    async () => ((await (await gw.call("GET", "/sessions/default")).json()) as { state: string }).state === "open",
    20_000,
    "session open",
  );
  return gw;
}

/** Calls the gateway's HTTP app (in process) or its port (a child process) with the API key. */
type Call = (
  method: string,
  path: string,
  init?: { body?: RequestInit["body"]; headers?: Record<string, string> },
) => Promise<Response>;

function callOf(target: InProcessGateway | { url: string }): Call {
  return async (method, path, init = {}) => {
    const request = { method, headers: { authorization: `Bearer ${TEST_API_KEY}`, ...init.headers }, body: init.body };
    return "gateway" in target ? target.gateway.app.request(path, request) : fetch(`${target.url}${path}`, request);
  };
}

async function upload(call: Call, bytes: Buffer, contentType: string, query = ""): Promise<MediaView> {
  const res = await call("POST", `/media${query}`, { body: bytes, headers: { "content-type": contentType } });
  expect(res.status).toBe(201);
  return (await res.json()) as MediaView;
}

async function post(call: Call, body: object): Promise<MessageView> {
  const res = await call("POST", "/messages", {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  expect(res.status).toBe(202);
  return (await res.json()) as MessageView;
}

async function message(call: Call, id: string): Promise<MessageView> {
  return (await (await call("GET", `/messages/${id}`)).json()) as MessageView;
}

/** The simulator's record of our message, once it was verified there. */
function arrived(sim: WhatsAppSimulator, messageId: string, timeoutMs = 20_000): Promise<ReceivedMessage> {
  const waId = deriveWaMessageId(messageId);
  return eventually(() => sim.messages(PHONE).find((m) => m.id === waId), timeoutMs, `message ${waId} at WhatsApp`);
}

async function inbound(sim: WhatsAppSimulator, media: object): Promise<string> {
  const res = await fetch(`${sim.controlUrl}/control/inbound`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ from: CONTACT.slice(1), to: PHONE, media }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe("WhatsApp media through the gateway", () => {
  it("sends a photo with a caption, a voice note and a named document, each verified by WhatsApp", async () => {
    const sim = await simulator();
    const gw = await linkedGateway(sim);
    const call = callOf(gw);
    const photo = await realMedia.png(48);
    const voice = realMedia.oggOpus(2);
    const pdf = mediaFixture.pdf(40_000);

    const image = await upload(call, photo, "image/png");
    const note = await upload(call, voice, "audio/ogg", "?kind=voice");
    const document = await upload(call, pdf, "application/pdf", "?filename=report.pdf");
    expect([image.kind, note.kind, document.kind]).toEqual(["image", "voice", "document"]);
    const sent = [
      await post(call, { to: CONTACT, media: [{ id: image.id }], text: "caption" }),
      await post(call, { to: CONTACT, media: [{ id: note.id }] }),
      await post(call, { to: CONTACT, media: [{ id: document.id }], text: "the report" }),
    ];
    const received = await Promise.all(sent.map((m) => arrived(sim, m.id)));

    expect(received.map((r) => r.media)).toEqual([
      { kind: "image", mimeType: "image/png", size: photo.length, sha256: sha256Hex(photo), caption: "caption" },
      { kind: "voice", mimeType: "audio/ogg; codecs=opus", size: voice.length, sha256: sha256Hex(voice) },
      {
        kind: "document",
        mimeType: "application/pdf",
        size: pdf.length,
        sha256: sha256Hex(pdf),
        filename: "report.pdf",
        caption: "the report",
      },
    ]);
    const statuses = await Promise.all(
      sent.map((m) => eventually(async () => (await message(call, m.id)).status === "sent" || undefined)),
    );
    expect(statuses).toEqual([true, true, true]);
  });

  it("takes a photo and a voice note a contact sends into the media store, served at /media/{id}", async () => {
    const sim = await simulator();
    const gw = await linkedGateway(sim);
    const call = callOf(gw);
    const photo = await realMedia.jpeg(40);
    const voice = realMedia.oggOpus(1);

    const photoId = await inbound(sim, { kind: "image", base64: photo.toString("base64"), caption: "from me" });
    const voiceId = await inbound(sim, { kind: "voice", base64: voice.toString("base64") });
    const items = await eventually(async () => {
      const page = (await (await call("GET", "/messages?direction=inbound")).json()) as { items: MessageView[] };
      const byProvider = new Map(page.items.map((m) => [m.providerMessageId, m]));
      const both = [byProvider.get(photoId), byProvider.get(voiceId)];
      return both.every((m) => m !== undefined) ? (both as MessageView[]) : undefined;
    }, 20_000);

    expect(items[0]).toMatchObject({ text: "from me", media: [{ kind: "image", mimeType: "image/jpeg" }] });
    expect(items[1]).toMatchObject({ text: "", media: [{ kind: "voice", mimeType: "audio/ogg; codecs=opus" }] });
    for (const [item, bytes] of [
      [items[0]!, photo],
      [items[1]!, voice],
    ] as const) {
      const [media] = item.media;
      expect(media!.url).toBe(`/media/${media!.id}`);
      expect(media!.sha256).toBe(sha256Hex(bytes));
      const file = await call("GET", media!.url);
      expect(file.status).toBe(200);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    }
  });

  it("a message with a file survives kill -9 between its 202 and its send, and reaches WhatsApp once", async () => {
    const sim = await simulator();
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await seedLinkedSession(sim, dir.path, "default", PHONE);
    const start = async (): Promise<GatewayProcess> => {
      const gw = await startGatewayProcess(join(import.meta.dirname, "../../src/main.ts"), {
        ...env(sim),
        DATA_DIR: dir.path,
        API_KEYS: TEST_API_KEY,
      });
      cleanups.push(() => {
        if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      });
      return gw;
    };
    const first = await start();
    const call = callOf(first);
    const photo = await realMedia.png(64);
    const image = await upload(call, photo, "image/png");
    // WhatsApp unreachable for a while: the message is accepted and waits in the queue.
    sim.outage(4);

    const accepted = await post(call, { to: CONTACT, media: [{ id: image.id }], text: "after the crash" });
    first.child.kill("SIGKILL");
    await first.exited;
    expect(sim.messages(PHONE)).toEqual([]);
    const second = await start();
    const received = await arrived(sim, accepted.id, 30_000);
    const sent = await eventually(async () => {
      const m = await message(callOf(second), accepted.id);
      return m.status === "sent" ? m : undefined;
    }, 10_000);

    expect(received.media).toEqual({
      kind: "image",
      mimeType: "image/png",
      size: photo.length,
      sha256: sha256Hex(photo),
      caption: "after the crash",
    });
    expect(sim.messages(PHONE).filter((m) => m.id === received.id)).toHaveLength(1);
    expect(sent.media).toEqual([expect.objectContaining({ id: image.id, sha256: sha256Hex(photo) })]);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });
});
