import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chunked, generated, mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { startInProcessGateway, TEST_API_KEY, type InProcessGateway } from "../support/in-process-gateway.ts";

let gw: InProcessGateway;
beforeEach(async () => {
  gw = await startInProcessGateway();
});
afterEach(async () => {
  await gw.close();
});

const MiB = 1024 * 1024;

interface Uploaded {
  id: string;
  kind: string;
  mimeType: string;
  size: number;
  sha256: string;
  filename: string | null;
}

/** POSTs a body to /media as a client would: bytes with their length, a stream without, or a form. */
async function upload(
  body: Uint8Array | ReadableStream<Uint8Array> | FormData,
  { query = "", headers = {} }: { query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const lengthHeader = body instanceof Uint8Array ? { "content-length": String(body.byteLength) } : {};
  return await gw.gateway.app.request(`/media${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, ...lengthHeader, ...headers },
    body,
    // A stream body is sent as it is read (Node's fetch asks for this).
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

async function download(id: string): Promise<{ res: Response; bytes: Buffer }> {
  const res = await gw.call("GET", `/media/${id}`);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function problemOf(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { code: string; status: number; detail: string };
}

/** Files under the media folder's blobs and tmp: bytes kept, whole or partial. */
function mediaFiles(): string[] {
  return ["blobs", "tmp"].flatMap((folder) =>
    readdirSync(join(gw.dataDir, "media", folder), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name),
  );
}

describe("POST /media, GET /media/{id}", () => {
  it("stores a raw body and streams back the same bytes with safe headers", async () => {
    const png = mediaFixture.png(300_000);
    const res = await upload(png, { query: "?filename=receipt.png", headers: { "content-type": "image/png" } });
    expect(res.status).toBe(201);
    const stored = (await res.json()) as Uploaded;
    expect(stored).toEqual({
      id: expect.stringMatching(/^med_/),
      kind: "image",
      mimeType: "image/png",
      size: png.byteLength,
      sha256: sha256Hex(png),
      filename: "receipt.png",
    });
    expect(res.headers.get("location")).toBe(`/media/${stored.id}`);

    const { res: got, bytes } = await download(stored.id);
    expect(got.status).toBe(200);
    expect(sha256Hex(bytes)).toBe(sha256Hex(png));
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("content-length")).toBe(String(png.byteLength));
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.headers.get("content-disposition")).toBe(
      `attachment; filename="receipt.png"; filename*=UTF-8''receipt.png`,
    );

    const head = await gw.call("HEAD", `/media/${stored.id}`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(png.byteLength));
    expect(await head.text()).toBe("");
  });

  it("takes multipart/form-data field file, with kind and filename fields", async () => {
    const ogg = mediaFixture.oggOpus(40_000);
    const form = new FormData();
    form.append("kind", "voice");
    form.append("file", new Blob([ogg], { type: "audio/ogg" }), "note.ogg");
    const res = await upload(form);
    expect(res.status).toBe(201);
    const stored = (await res.json()) as Uploaded;
    expect(stored).toMatchObject({ kind: "voice", mimeType: "audio/ogg; codecs=opus", size: 40_000 });
    expect(stored.filename).toBe("note.ogg");
    expect(sha256Hex((await download(stored.id)).bytes)).toBe(sha256Hex(ogg));

    const named = new FormData();
    named.append("filename", "Invoice 42.pdf");
    named.append("file", new Blob([mediaFixture.pdf(5000)], { type: "application/pdf" }), "upload.bin");
    const doc = (await (await upload(named)).json()) as Uploaded;
    expect(doc).toMatchObject({ kind: "document", mimeType: "application/pdf", filename: "Invoice 42.pdf" });
  });

  it("answers 400 to a multipart body without a file part, and to an empty body", async () => {
    const form = new FormData();
    form.append("kind", "image");
    expect((await problemOf(await upload(form))).code).toBe("REQUEST.INVALID");
    expect((await problemOf(await upload(new Uint8Array(0)))).code).toBe("REQUEST.INVALID");
    const badKind = await upload(mediaFixture.png(), { query: "?kind=gif" });
    expect(badKind.status).toBe(400);
    expect(mediaFiles()).toEqual([]);
  });

  it("streams an upload far larger than BODY_LIMIT_BYTES, with and without Content-Length", async () => {
    const size = 3 * MiB;
    const jpegHead = mediaFixture.jpeg(64);
    const streamed = await upload(generated(jpegHead, size), { headers: { "content-type": "image/jpeg" } });
    expect(streamed.status).toBe(201);
    expect((await streamed.json()) as Uploaded).toMatchObject({ kind: "image", mimeType: "image/jpeg", size });

    const whole = mediaFixture.jpeg(size + 1);
    const withLength = await upload(whole);
    expect(withLength.status).toBe(201);
    const stored = (await withLength.json()) as Uploaded;
    expect(sha256Hex((await download(stored.id)).bytes)).toBe(sha256Hex(whole));
  });

  it("refuses an image over its limit with 413, announced or not, and keeps nothing", async () => {
    const announced = await upload(mediaFixture.jpeg(5 * MiB + 1), { headers: { "content-type": "image/jpeg" } });
    expect(announced.status).toBe(413);
    const problem = await problemOf(announced);
    expect(problem.code).toBe("MEDIA.TOO_LARGE");
    expect(problem.detail).toContain("image");

    const unannounced = await upload(generated(mediaFixture.jpeg(64), 6 * MiB));
    expect(unannounced.status).toBe(413);
    expect((await problemOf(unannounced)).code).toBe("MEDIA.TOO_LARGE");

    const sticker = await upload(chunked(mediaFixture.webp(600 * 1024)));
    expect((await problemOf(sticker)).detail).toBe("the file exceeds the limit for sticker files of 512000 bytes");

    const form = new FormData();
    form.append("file", new Blob([mediaFixture.png(5 * MiB + 10)], { type: "image/png" }), "big.png");
    expect((await problemOf(await upload(form))).code).toBe("MEDIA.TOO_LARGE");
    expect(mediaFiles()).toEqual([]);
  });

  it("refuses a renamed executable sent as an image with 422 naming the accepted types, and keeps nothing", async () => {
    for (const exe of [mediaFixture.exe(20_000), mediaFixture.elf(20_000)]) {
      const res = await upload(exe, { query: "?filename=cat.jpg", headers: { "content-type": "image/jpeg" } });
      expect(res.status).toBe(422);
      const problem = await problemOf(res);
      expect(problem.code).toBe("MEDIA.UNSUPPORTED_TYPE");
      expect(problem.detail).toContain("image/jpeg, image/png");
    }
    const asKind = await upload(chunked(mediaFixture.exe(20_000)), { query: "?kind=image" });
    expect(asKind.status).toBe(422);
    const form = new FormData();
    form.append("file", new Blob([mediaFixture.elf(9000)], { type: "image/png" }), "photo.png");
    expect((await upload(form)).status).toBe(422);
    expect(mediaFiles()).toEqual([]);
  });

  it("takes a file of any type as a document, labelled with its real type", async () => {
    const res = await upload(mediaFixture.exe(2000), { query: "?kind=document&filename=setup.exe" });
    expect(res.status).toBe(201);
    const stored = (await res.json()) as Uploaded;
    expect(stored).toMatchObject({ kind: "document", mimeType: "application/x-msdownload" });
    const { res: got } = await download(stored.id);
    expect(got.headers.get("content-type")).toBe("application/x-msdownload");
    expect(got.headers.get("content-disposition")).toMatch(/^attachment;/);
  });

  it("keeps a hostile filename from breaking out of Content-Disposition", async () => {
    const hostile = '../../etc/a"b\\\r\nX-Evil: 1; x=é漢.png';
    const form = new FormData();
    form.append("filename", hostile);
    form.append("file", new Blob([mediaFixture.png(2000)], { type: "image/png" }), "x.png");
    const stored = (await (await upload(form)).json()) as Uploaded;
    // The last path segment, without control characters.
    expect(stored.filename).toBe('a"b\\X-Evil: 1; x=é漢.png'.split("\\").at(-1));
    const header = (await download(stored.id)).res.headers.get("content-disposition")!;
    expect(header).not.toMatch(/[\r\n]/);
    const [, ascii, encoded] = /^attachment; filename="([^"]*)"; filename\*=UTF-8''([A-Za-z0-9%!._~-]+)$/.exec(header)!;
    expect(ascii).toBe("X-Evil: 1; x=__.png");
    expect(decodeURIComponent(encoded!)).toBe(stored.filename);
  });
});

describe("DELETE /media/{id} and unknown ids", () => {
  it("answers 404 MEDIA.NOT_FOUND for an unknown id", async () => {
    const get = await gw.call("GET", "/media/med_nope");
    expect(get.status).toBe(404);
    expect((await problemOf(get)).code).toBe("MEDIA.NOT_FOUND");
    expect((await gw.call("DELETE", "/media/med_nope")).status).toBe(404);
  });

  it("deletes: 204, then 404, and the bytes are gone", async () => {
    const stored = (await (await upload(mediaFixture.pdf(8000))).json()) as Uploaded;
    expect(mediaFiles()).toHaveLength(1);
    const res = await gw.call("DELETE", `/media/${stored.id}`);
    expect(res.status).toBe(204);
    expect((await gw.call("GET", `/media/${stored.id}`)).status).toBe(404);
    expect((await gw.call("DELETE", `/media/${stored.id}`)).status).toBe(404);
    expect(mediaFiles()).toEqual([]);
  });

  it("needs the API key", async () => {
    expect((await gw.call("GET", "/media/med_x", { auth: false })).status).toBe(401);
    const res = await gw.gateway.app.request("/media", { method: "POST", body: mediaFixture.png() });
    expect(res.status).toBe(401);
  });
});

describe("POST /media over a real socket", () => {
  it("answers 413 to an endless chunked upload and the server stays usable", async () => {
    const { serve } = await import("@hono/node-server");
    const server = await new Promise<{ port: number; close(): Promise<void> }>((resolve) => {
      const s = serve({ fetch: gw.gateway.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              s.close(() => done());
              if ("closeAllConnections" in s) s.closeAllConnections();
            }),
        }),
      );
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const auth = { authorization: `Bearer ${TEST_API_KEY}` };
      // Far more than any limit, and never announced: the store must stop it, not the end of the body.
      const res = await fetch(`${base}/media?kind=image`, {
        method: "POST",
        headers: auth,
        body: generated(mediaFixture.png(64), 1024 * MiB),
        duplex: "half",
      } as RequestInit).catch((error: unknown) => error);
      // Either the 413 is read, or the server ends the connection it no longer reads from.
      if (res instanceof Response) {
        expect(res.status).toBe(413);
        expect((await problemOf(res)).code).toBe("MEDIA.TOO_LARGE");
      }
      expect(mediaFiles()).toEqual([]);
      const ok = await fetch(`${base}/media`, { method: "POST", headers: auth, body: mediaFixture.png(4000) });
      expect(ok.status).toBe(201);
    } finally {
      await server.close();
    }
  });
});

describe("POST /media and REQUEST_TIMEOUT_MS", () => {
  it("lets an upload take longer than the request timeout", async () => {
    const slow = await startInProcessGateway({ REQUEST_TIMEOUT_MS: "100" });
    try {
      const png = mediaFixture.png(64 * 1024);
      let sent = 0;
      const trickle = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent >= png.byteLength) return controller.close();
          await new Promise((r) => setTimeout(r, 60));
          controller.enqueue(png.subarray(sent, sent + 16 * 1024));
          sent += 16 * 1024;
        },
      });
      const res = await slow.gateway.app.request("/media", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
        body: trickle,
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(201);
      expect(((await res.json()) as Uploaded).sha256).toBe(sha256Hex(png));
    } finally {
      await slow.close();
    }
  });
});
