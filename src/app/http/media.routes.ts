import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { Busboy, type BusboyInstance } from "@fastify/busboy";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { DomainError } from "../../domain/errors.ts";
import { MediaKinds, mediaNotFound } from "../../domain/media.ts";
import type { MediaStore } from "../../domain/ports/media-store.port.ts";
import type { SignedMediaLinks } from "../media/signed-media-links.ts";
import type { StoreMedia, StoreMediaInput, UploadedMedia } from "../use-cases/store-media.ts";
import { describeIssues, fieldIssues } from "./issues.ts";

/** Where the media routes are mounted. */
export const MEDIA_PATH = "/media";

export interface MediaRoutesDeps {
  readonly store: MediaStore;
  readonly storeMedia: StoreMedia;
  /** Checks signed public links; without it there is no public route. */
  readonly links?: Pick<SignedMediaLinks, "check"> | undefined;
}

const PUBLIC_SUFFIX = "/public";
const PUBLIC_FILE_PATH = /^\/media\/[^/]+\/public$/;

/** `GET`/`HEAD /media/{id}/public`: the one media request that needs no API key (its signature is checked instead). */
export function isPublicMediaRequest(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && PUBLIC_FILE_PATH.test(path);
}

const uploadOptions = z.strictObject({
  kind: z.enum(MediaKinds, { message: `must be one of ${MediaKinds.join(", ")}` }).optional(),
  filename: z.string().max(1024, "must be at most 1024 characters").optional(),
});
type UploadOptions = z.infer<typeof uploadOptions>;

// A multipart body holds the file plus boundaries and a few small fields.
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * `POST /media` (the file as the raw body, or multipart field `file`),
 * `GET /media/{id}`, `DELETE /media/{id}`, and with `links`
 * `GET /media/{id}/public?exp=..&sig=..`. Uploads stream to the store, so
 * they are not held to BODY_LIMIT_BYTES but to the limit of their kind.
 */
export function mediaRoutes(deps: MediaRoutesDeps): Hono {
  const routes = new Hono();

  routes.post("/", async (c) => {
    const query = parseOptions(c.req.query(), "query");
    const contentType = c.req.header("content-type") ?? "";
    const declaredSize = contentLength(c);
    const body = c.req.raw.body;
    if (!body || declaredSize === 0) throw noFile("the body is empty; send the file as the body or as field file");
    const uploaded = /^multipart\/form-data\s*;/i.test(contentType)
      ? await uploadMultipart(deps.storeMedia, body, contentType, query, declaredSize)
      : await deps.storeMedia.execute({
          source: body,
          ...query,
          ...(contentType ? { declaredType: contentType } : {}),
          ...(declaredSize === undefined ? {} : { declaredSize }),
        });
    return c.json(uploaded, 201, { location: `${MEDIA_PATH}/${uploaded.id}` });
  });

  routes.get("/:id", (c) => fileResponse(c, deps.store, c.req.param("id")));

  const links = deps.links;
  if (links) {
    // No API key here (see isPublicMediaRequest): the signed link is the credential.
    routes.get(`/:id${PUBLIC_SUFFIX}`, (c) => {
      const id = c.req.param("id");
      const link = links.check(id, c.req.query("exp"), c.req.query("sig"));
      if (!link.ok) {
        throw link.reason === "expired"
          ? new DomainError("MEDIA.LINK_EXPIRED", "this media link has expired")
          : new DomainError("MEDIA.LINK_INVALID", "this media link is not valid: its signature does not match");
      }
      // Cached by the fetcher alone, and no longer than the link lives.
      return fileResponse(c, deps.store, id, { "cache-control": `private, max-age=${link.secondsLeft}` });
    });
  }

  routes.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await deps.store.delete(id))) throw mediaNotFound(id);
    return c.body(null, 204);
  });

  return routes;
}

/** The file's bytes, streamed, with headers that keep a browser from treating them as anything else. */
async function fileResponse(c: Context, store: MediaStore, id: string, headers: Record<string, string> = {}) {
  const found = await store.get(id);
  if (!found) throw mediaNotFound(id);
  const { meta, stream } = found;
  // Hono answers HEAD with this handler and drops the body: close the file now rather than at GC.
  if (c.req.method === "HEAD") await stream.cancel();
  return new Response(c.req.method === "HEAD" ? null : stream, {
    status: 200,
    headers: {
      "content-type": meta.mimeType,
      "content-length": String(meta.size),
      "content-disposition": contentDisposition(meta.filename),
      // The type is the one read from the bytes; a browser must not guess another (HTML, script).
      "x-content-type-options": "nosniff",
      etag: `"${meta.sha256}"`,
      ...headers,
    },
  });
}

/**
 * `attachment` with the name twice: `filename` in plain ASCII (anything
 * else, quotes and backslashes become `_`) for old clients, and
 * `filename*` in UTF-8 per RFC 5987/6266, which current clients prefer. No
 * character of the name can end the header or add a parameter.
 */
export function contentDisposition(filename: string | undefined): string {
  if (!filename) return "attachment";
  const ascii = [...filename].map((ch) => (/^[\x20-\x7e]$/.test(ch) && ch !== '"' && ch !== "\\" ? ch : "_")).join("");
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function parseOptions(input: Record<string, string>, where: "query" | "form"): UploadOptions {
  const parsed = uploadOptions.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error, where);
  throw new DomainError("REQUEST.INVALID", describeIssues(issues), issues);
}

function contentLength(c: Context): number | undefined {
  const declared = c.req.header("content-length");
  if (declared === undefined) return undefined;
  if (!/^\d{1,15}$/.test(declared)) throw new DomainError("REQUEST.INVALID", "Content-Length is not a number");
  return Number(declared);
}

function noFile(detail: string): DomainError {
  return new DomainError("REQUEST.INVALID", detail, [{ field: "file", message: "missing" }]);
}

/**
 * Streams the `file` part of a multipart body into the store. `kind` and
 * `filename` form fields count when they come before the file part (the
 * file is not held back to wait for later ones); the query's win over them,
 * and either wins over the part's own filename. Other file parts are skipped.
 */
function uploadMultipart(
  storeMedia: StoreMedia,
  body: ReadableStream<Uint8Array>,
  contentType: string,
  query: UploadOptions,
  declaredSize: number | undefined,
): Promise<UploadedMedia> {
  return new Promise<UploadedMedia>((resolve, reject) => {
    const source = Readable.fromWeb(body as NodeWebStream<Uint8Array>);
    const fields: Record<string, string> = {};
    let file: Readable | undefined;
    let upload: Promise<UploadedMedia> | undefined;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      file?.destroy();
      source.destroy();
      reject(error);
    };
    let parser: BusboyInstance;
    try {
      parser = Busboy({
        headers: { "content-type": contentType },
        isPartAFile: (name, _type, partFilename) => name === "file" || partFilename !== undefined,
        limits: { files: 1, fields: 8, fieldSize: 2048, parts: 16 },
      });
    } catch (error) {
      return fail(invalidMultipart(error));
    }
    parser.on("field", (name, value) => {
      if (name === "kind" || name === "filename") fields[name] = value;
    });
    parser.on("file", (name, stream, partFilename, _encoding, mimeType) => {
      if (name !== "file" || upload) return void stream.resume();
      file = stream;
      try {
        const options = { ...parseOptions(fields, "form"), ...query };
        const filename = options.filename ?? (partFilename || undefined);
        const input: StoreMediaInput = {
          source: stream,
          ...options,
          ...(filename === undefined ? {} : { filename }),
          declaredType: mimeType,
          // A body well over the kind's limit cannot hold a file within it.
          ...(declaredSize === undefined ? {} : { declaredSize: declaredSize - MULTIPART_OVERHEAD_BYTES }),
        };
        upload = storeMedia.execute(input);
        upload.catch(fail);
      } catch (error) {
        stream.resume();
        fail(error);
      }
    });
    parser.on("finish", () => {
      if (!upload) return fail(noFile("the multipart body has no part named file"));
      upload.then((uploaded) => {
        if (settled) return;
        settled = true;
        resolve(uploaded);
      }, fail);
    });
    parser.on("error", (error: unknown) => fail(invalidMultipart(error)));
    // A client that goes away mid-file: the store sees its stream fail and keeps nothing.
    source.on("error", (error) => {
      file?.destroy(error);
      fail(error);
    });
    source.pipe(parser);
  });
}

function invalidMultipart(error: unknown): DomainError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DomainError("REQUEST.INVALID", `the multipart body could not be read: ${reason}`, [
    { field: "(body)", message: reason },
  ]);
}
