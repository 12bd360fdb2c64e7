import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import {
  eventually,
  startInProcessGateway,
  TEST_API_KEY,
  type InProcessGateway,
} from "../support/in-process-gateway.ts";

interface MediaView {
  id: string | null;
  kind: string | null;
  mimeType: string | null;
  size: number | null;
  sha256: string | null;
  filename: string | null;
  caption: string | null;
  sourceUrl: string | null;
  url: string | null;
  error: unknown;
}
interface MessageView {
  id: string;
  status: string;
  text: string;
  media: MediaView[];
  error: { code: string; message: string } | null;
  attempts: number;
}

/** A loopback HTTP server that serves fixed files and counts what it was asked. */
interface FileServer {
  readonly base: string;
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

async function fileServer(
  routes: Record<string, { status?: number; type?: string; body?: Buffer } | (() => { status: number })>,
): Promise<FileServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path];
    const answer = typeof route === "function" ? route() : route;
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    const status = answer.status ?? 200;
    const body = "body" in answer ? answer.body : undefined;
    res.writeHead(status, {
      ...("type" in answer && answer.type ? { "content-type": answer.type } : {}),
      ...(body ? { "content-length": String(body.length) } : {}),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(env: Record<string, string> = {}): Promise<InProcessGateway> {
  const gw = await startInProcessGateway(env);
  cleanups.push(() => gw.close());
  return gw;
}

async function serve(routes: Parameters<typeof fileServer>[0]): Promise<FileServer> {
  const server = await fileServer(routes);
  cleanups.push(() => server.close());
  return server;
}

async function upload(gw: InProcessGateway, bytes: Buffer, query = ""): Promise<{ id: string; sha256: string }> {
  const res = await gw.gateway.app.request(`/media${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-length": String(bytes.length) },
    body: bytes,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string };
}

async function send(gw: InProcessGateway, body: unknown): Promise<Response> {
  return gw.call("POST", "/messages", { body });
}

async function problem(res: Response): Promise<{ code: string; errors?: Array<{ field: string }> }> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { code: string; errors?: Array<{ field: string }> };
}

async function settled(gw: InProcessGateway, id: string): Promise<MessageView> {
  return eventually(async () => {
    const message = (await (await gw.call("GET", `/messages/${id}`)).json()) as MessageView;
    return message.status === "sent" || message.status === "failed" ? message : undefined;
  });
}

const TO = "whatsapp:+40712345678";

describe("POST /messages with media", () => {
  it("sends a held file with its caption; the message shows the attachment and where to download it", async () => {
    const gw = await gateway();
    const png = mediaFixture.png(2048);
    const uploaded = await upload(gw, png, "?filename=photo.png");
    const res = await send(gw, { to: TO, media: [{ id: uploaded.id, caption: "our shop" }] });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as MessageView;
    expect(accepted.text).toBe("");
    expect(accepted.media).toEqual([
      {
        id: uploaded.id,
        kind: "image",
        mimeType: "image/png",
        size: png.length,
        sha256: sha256Hex(png),
        filename: "photo.png",
        caption: "our shop",
        sourceUrl: null,
        error: null,
        url: `/media/${uploaded.id}`,
      },
    ]);
    expect((await settled(gw, accepted.id)).status).toBe("sent");
    expect(gw.provider.sent[0]?.media[0]).toMatchObject({ id: uploaded.id, kind: "image", caption: "our shop" });
  });

  it("takes the kind the client names when the file suits it, and refuses one it does not suit", async () => {
    const gw = await gateway();
    const ogg = await upload(gw, mediaFixture.oggOpus());
    const asAudio = await send(gw, { to: TO, media: [{ id: ogg.id, kind: "audio" }] });
    expect(((await asAudio.json()) as MessageView).media[0]?.kind).toBe("audio");
    const asVoice = await send(gw, { to: TO, media: [{ id: ogg.id }] });
    expect(((await asVoice.json()) as MessageView).media[0]?.kind).toBe("voice");

    const png = await upload(gw, mediaFixture.png());
    const asSticker = await send(gw, { to: TO, media: [{ id: png.id, kind: "sticker" }] });
    expect(asSticker.status).toBe(422);
    const refused = await problem(asSticker);
    expect(refused.code).toBe("MEDIA.UNSUPPORTED_TYPE");
    expect(refused.errors?.[0]?.field).toBe("media.0.kind");
  });

  it("refuses a second attachment on WhatsApp, an unknown file, and a caption given twice", async () => {
    const gw = await gateway();
    const a = await upload(gw, mediaFixture.png());
    const b = await upload(gw, mediaFixture.jpeg());

    const two = await send(gw, { to: TO, media: [{ id: a.id }, { id: b.id }] });
    expect(two.status).toBe(400);
    expect((await problem(two)).code).toBe("MEDIA.TOO_MANY");

    const unknown = await send(gw, { to: TO, media: [{ id: "no-such-media" }] });
    expect(unknown.status).toBe(404);
    const missing = await problem(unknown);
    expect(missing.code).toBe("MEDIA.NOT_FOUND");
    expect(missing.errors?.[0]?.field).toBe("media.0.id");

    const twice = await send(gw, { to: TO, text: "hello", media: [{ id: a.id, caption: "hi" }] });
    expect(twice.status).toBe(400);
    expect((await problem(twice)).code).toBe("REQUEST.INVALID");

    const both = await send(gw, { to: TO, media: [{ id: a.id, url: "https://example.com/a.png" }] });
    expect(both.status).toBe(400);

    const ogg = await upload(gw, mediaFixture.oggOpus());
    const voiceWithText = await send(gw, { to: TO, text: "listen", media: [{ id: ogg.id }] });
    expect(voiceWithText.status).toBe(400);
    expect(((await problem(voiceWithText)) as { detail?: string }).detail).toMatch(/no caption on a voice note/);

    const empty = await send(gw, { to: TO, text: "" });
    expect(empty.status).toBe(400);
    expect(gw.provider.sent).toEqual([]);
  });

  it("refuses a URL on this machine at once, without connecting to it", async () => {
    const gw = await gateway();
    const server = await serve({ "/a.png": { type: "image/png", body: mediaFixture.png() } });
    const res = await send(gw, { to: TO, media: [{ url: `${server.base}/a.png` }] });
    expect(res.status).toBe(422);
    const refused = await problem(res);
    expect(refused.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(refused.errors?.[0]?.field).toBe("media.0.url");
    const shortcut = await send(gw, { to: TO, mediaUrls: [`${server.base}/a.png`] });
    expect((await problem(shortcut)).code).toBe("MEDIA.URL_FORBIDDEN");
    const ftp = await send(gw, { to: TO, media: [{ url: "ftp://files.example/a.png" }] });
    expect(ftp.status).toBe(400);
    expect((await problem(ftp)).code).toBe("MEDIA.URL_INVALID");
    expect(server.hits.size).toBe(0);
  });
});

describe("media given by URL (MEDIA_FETCH_ALLOW_PRIVATE=true for a loopback test server)", () => {
  const ALLOW = { MEDIA_FETCH_ALLOW_PRIVATE: "true", DISPATCH_MAX_ATTEMPTS: "3" };

  it("fetches the file once when the message is sent and records it; a retry reuses the stored copy", async () => {
    const gw = await gateway(ALLOW);
    const jpeg = mediaFixture.jpeg(4096);
    const server = await serve({ "/files/menu.jpg": { type: "image/jpeg", body: jpeg } });
    // The first attempt fails after the fetch: the retry must not fetch again.
    gw.provider.failRetryable(1);
    const res = await send(gw, { to: TO, text: "today's menu", mediaUrls: [`${server.base}/files/menu.jpg`] });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as MessageView;
    expect(accepted.media[0]).toMatchObject({ id: null, sourceUrl: `${server.base}/files/menu.jpg`, url: null });

    const sent = await settled(gw, accepted.id);
    expect(sent.status).toBe("sent");
    expect(sent.attempts).toBe(2);
    expect(server.hits.get("/files/menu.jpg")).toBe(1);
    const held = sent.media[0]!;
    expect(held).toMatchObject({ kind: "image", mimeType: "image/jpeg", size: jpeg.length, sha256: sha256Hex(jpeg) });
    expect(held.filename).toBe("menu.jpg");
    const download = await gw.call("GET", held.url!);
    expect(Buffer.from(await download.arrayBuffer()).equals(jpeg)).toBe(true);
  });

  it("fails the message with media.fetch_failed: at once on a 4xx, after the retries on a 5xx", async () => {
    const gw = await gateway(ALLOW);
    const server = await serve({ "/gone.png": { status: 404 }, "/busy.png": { status: 503 } });
    const gone = (await (await send(gw, { to: TO, mediaUrls: [`${server.base}/gone.png`] })).json()) as MessageView;
    const busy = (await (
      await send(gw, { to: "whatsapp:+40700000009", mediaUrls: [`${server.base}/busy.png`] })
    ).json()) as MessageView;

    const goneFailed = await settled(gw, gone.id);
    expect(goneFailed.status).toBe("failed");
    expect(goneFailed.error?.code).toBe("media.fetch_failed");
    expect(server.hits.get("/gone.png")).toBe(1);

    const busyFailed = await settled(gw, busy.id);
    expect(busyFailed.status).toBe("failed");
    expect(busyFailed.error?.code).toBe("media.fetch_failed");
    expect(busyFailed.attempts).toBe(3);
    expect(server.hits.get("/busy.png")).toBe(3);
    expect(gw.provider.sent).toEqual([]);
  });

  it("fails a file whose bytes do not suit its kind, whatever the server says it is", async () => {
    const gw = await gateway(ALLOW);
    const server = await serve({ "/cat.jpg": { type: "image/jpeg", body: mediaFixture.exe() } });
    const res = await send(gw, { to: TO, media: [{ url: `${server.base}/cat.jpg`, kind: "image" }] });
    const failed = await settled(gw, ((await res.json()) as MessageView).id);
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe("media.unsupported_type");
    expect(gw.provider.sent).toEqual([]);
  });

  it("fails a message whose held file was deleted before it was sent", async () => {
    const gw = await gateway();
    gw.provider.setReady("default", false);
    const png = await upload(gw, mediaFixture.png());
    const accepted = (await (await send(gw, { to: TO, media: [{ id: png.id }] })).json()) as MessageView;
    expect((await gw.call("DELETE", `/media/${png.id}`)).status).toBe(204);
    gw.provider.setReady("default", true);
    const failed = await settled(gw, accepted.id);
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe("media.not_found");
  });
});
