import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimLogger } from "./logger.ts";
import { createMediaCertificates } from "./media-certs.ts";
import { BlobTooLarge, MediaStore } from "./media-store.ts";
import type { StoredBlob } from "./media-store.ts";

/** Media counters, as `GET /control/stats` shows them under `media`. */
export interface MediaStats {
  /** Uploads clients made (POSTs accepted) and their encrypted bytes. */
  uploads: number;
  uploadBytes: number;
  /** Uploads refused (bad auth, bad token, too large, scripted error). */
  uploadsRefused: number;
  /** Downloads served and their bytes. */
  downloads: number;
  downloadBytes: number;
  /** Downloads answered 404 (unknown) or 410 (expired). */
  downloadsRefused: number;
  /** Blobs the simulated phones put on the server: inbound media and re-uploads. */
  phoneUploads: number;
  reuploads: number;
  /** Media messages from linked accounts that passed or failed verification. */
  verified: number;
  verifyFailures: number;
}

const emptyStats = (): MediaStats => ({
  uploads: 0,
  uploadBytes: 0,
  uploadsRefused: 0,
  downloads: 0,
  downloadBytes: 0,
  downloadsRefused: 0,
  phoneUploads: 0,
  reuploads: 0,
  verified: 0,
  verifyFailures: 0,
});

export const MEDIA_FAULT_KINDS = ["tamper", "upload-error"] as const;
/** tamper: the next upload is stored with one byte flipped; upload-error: the next upload gets a 500. */
export type MediaFaultKind = (typeof MEDIA_FAULT_KINDS)[number];

/** Upload paths Baileys builds from MEDIA_PATH_MAP: `/mms/image/<token>`, `/product/image/<token>`... */
const UPLOAD_PATH = /^\/(?:mms|product|pps)\/[a-z-]+\/([A-Za-z0-9_%-]+)$/;
const DOWNLOAD_PREFIX = "/v/";
const CONN_TTL_S = 3600;

/**
 * The simulated WhatsApp media host: HTTPS on 127.0.0.1 with the
 * simulator's own CA, uploads checked against the media_conn auth and their
 * token, downloads by direct path (404 unknown, 410 expired). Files live in
 * a private temp dir removed by `close()`.
 */
export class MediaServer {
  readonly stats: MediaStats = emptyStats();
  /** The `auth` that media_conn hands out and uploads must carry. */
  readonly auth = randomBytes(24).toString("base64url");
  private readonly faults: MediaFaultKind[] = [];
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly store: MediaStore,
    readonly caFile: string,
    readonly host: string,
    private readonly maxBytes: number,
    private readonly logger: SimLogger,
  ) {}

  static async start(options: { maxBytes: number; logger: SimLogger }): Promise<MediaServer> {
    const dir = await mkdtemp(join(tmpdir(), "wa-sim-media-"));
    try {
      const certs = await createMediaCertificates(dir);
      const server = createServer({ key: certs.key, cert: certs.cert });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const media = new MediaServer(
        server,
        dir,
        new MediaStore(dir),
        certs.caFile,
        host,
        options.maxBytes,
        options.logger,
      );
      server.on("request", (req: IncomingMessage, res: ServerResponse) => media.handle(req, res));
      return media;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The `<media_conn>` answer: one host, this server, which Baileys also downloads from. */
  connNode(): BinaryNode {
    return {
      tag: "media_conn",
      attrs: { auth: this.auth, ttl: String(CONN_TTL_S), auth_ttl: String(CONN_TTL_S), max_buckets: "1" },
      content: [{ tag: "host", attrs: { hostname: this.host, maxContentLengthBytes: String(this.maxBytes) } }],
    };
  }

  /** The full URL of a blob, as the upload answer and messages carry it. */
  urlOf(blob: StoredBlob): string {
    return `https://${this.host}${blob.directPath}?mms3=true`;
  }

  /** Queues a fault for the next upload(s). */
  fault(kind: MediaFaultKind, times = 1): number {
    for (let i = 0; i < times; i++) this.faults.push(kind);
    return this.faults.length;
  }

  reset(): void {
    Object.assign(this.stats, emptyStats());
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await rm(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", `https://${this.host}`);
    const work =
      req.method === "POST" && UPLOAD_PATH.test(url.pathname)
        ? this.upload(req, res, url)
        : (req.method === "GET" || req.method === "HEAD") && url.pathname.startsWith(DOWNLOAD_PREFIX)
          ? this.download(req, res, url)
          : Promise.resolve(json(res, 404, { error: `no route ${req.method} ${url.pathname}` }));
    work.catch((err: unknown) => {
      this.logger.warn({ url: url.pathname, err: String(err) }, "media request failed");
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.destroy();
    });
  }

  private async upload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const refuse = (status: number, error: string): void => {
      this.stats.uploadsRefused++;
      req.resume();
      json(res, status, { error });
    };
    if (url.searchParams.get("auth") !== this.auth) return refuse(401, "auth does not match media_conn");
    if (this.faults[0] === "upload-error") {
      this.faults.shift();
      return refuse(500, "scripted upload error");
    }
    let blob: StoredBlob;
    try {
      blob = await this.store.putStream(req, this.maxBytes);
    } catch (err) {
      if (err instanceof BlobTooLarge) return refuse(413, err.message);
      throw err;
    }
    const token = decodeURIComponent(UPLOAD_PATH.exec(url.pathname)![1]!);
    if (token !== blob.encSha256) {
      await this.store.discard(blob);
      return refuse(400, "the path's hash is not the SHA-256 of the uploaded bytes");
    }
    if (this.faults[0] === "tamper") {
      this.faults.shift();
      await this.store.tamper(blob);
      this.logger.info({ directPath: blob.directPath }, "upload stored tampered (scripted)");
    }
    this.stats.uploads++;
    this.stats.uploadBytes += blob.size;
    json(res, 200, { url: this.urlOf(blob), direct_path: blob.directPath });
  }

  private async download(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const blob = this.store.find(url.pathname);
    if (!blob || blob.expired) {
      this.stats.downloadsRefused++;
      json(res, blob ? 410 : 404, { error: blob ? "media expired" : "no such media" });
      return;
    }
    const range = parseRange(req.headers.range, blob.size);
    if (range === "unsatisfiable") {
      res.writeHead(416, { "content-range": `bytes */${blob.size}` }).end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: blob.size - 1 };
    const length = end - start + 1;
    res.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(length),
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${end}/${blob.size}` } : {}),
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(blob.file, { start, end })
      .on("error", (err) => res.destroy(err))
      .pipe(res)
      .on("finish", () => {
        this.stats.downloads++;
        this.stats.downloadBytes += length;
      });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range; undefined = whole file. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (match[1] === "") {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  return start > end || start >= size ? "unsatisfiable" : { start, end };
}
