import { acceptedMediaTypes, MediaKinds } from "../../domain/media.ts";
import { bearer, idParam, json, problemResponse, ref, storeUnavailableResponse } from "./openapi-parts.ts";

const accepted = MediaKinds.map((kind) => {
  const types = acceptedMediaTypes[kind];
  return `${kind}: ${types === "any" ? "any type" : types.join(", ")}`;
}).join("; ");

/** Schemas of the media routes, merged into the document's components. */
export const mediaSchemas = {
  MessageMedia: {
    type: "object",
    description:
      "An attachment of a message. Held once `id` is set (download it at `url`, API key required); a file given " +
      "by URL has `sourceUrl` and is fetched when the message is sent (then held); an inbound file whose download " +
      "failed has `error` and is tried again in the background.",
    properties: {
      id: { type: ["string", "null"] },
      kind: { type: ["string", "null"], enum: [...MediaKinds, null] },
      mimeType: { type: ["string", "null"], description: "Read from the bytes" },
      size: { type: ["integer", "null"] },
      sha256: { type: ["string", "null"], description: "Hex SHA-256 of the bytes" },
      filename: { type: ["string", "null"] },
      caption: { type: ["string", "null"] },
      sourceUrl: { type: ["string", "null"] },
      url: { type: ["string", "null"], example: "/media/med_5c1e..." },
      error: {
        type: ["object", "null"],
        properties: { code: { type: "string", example: "media.download_failed" }, message: { type: "string" } },
      },
    },
  },
  Media: {
    type: "object",
    properties: {
      id: { type: "string", example: "med_5c1e..." },
      kind: { type: "string", enum: MediaKinds },
      mimeType: { type: "string", description: "Read from the file's bytes, not from its Content-Type or name" },
      size: { type: "integer" },
      sha256: { type: "string", description: "Hex SHA-256 of the bytes" },
      filename: { type: ["string", "null"] },
    },
  },
};

/** `/media`, `/media/{id}` and `/media/{id}/public`. */
export const mediaPaths = {
  "/media": {
    post: {
      summary: "Upload a file to send later",
      description:
        "The file as the raw body (any Content-Type), or multipart/form-data with the field `file` (`kind` and " +
        "`filename` fields count when they come before it). Streamed to storage: held to the limit of its kind " +
        "(MEDIA_MAX_BYTES_<KIND>), not to BODY_LIMIT_BYTES. The type is read from the bytes and must be one " +
        `WhatsApp accepts for the kind (${accepted}). Without \`kind\` it is inferred from that type.`,
      security: bearer,
      parameters: [
        { name: "kind", in: "query", required: false, schema: { type: "string", enum: MediaKinds } },
        { name: "filename", in: "query", required: false, schema: { type: "string", maxLength: 1024 } },
      ],
      requestBody: {
        required: true,
        content: {
          "application/octet-stream": { schema: { type: "string", format: "binary" } },
          "multipart/form-data": {
            schema: {
              type: "object",
              required: ["file"],
              properties: {
                kind: { type: "string", enum: MediaKinds },
                filename: { type: "string" },
                file: { type: "string", format: "binary" },
              },
            },
          },
        },
      },
      responses: {
        201: {
          ...json(ref("Media"), "Stored"),
          headers: { Location: { schema: { type: "string" } } },
        },
        400: problemResponse("No file, an empty file, or an invalid kind or filename"),
        401: problemResponse("Missing or wrong API key"),
        413: problemResponse("MEDIA.TOO_LARGE: over the limit of its kind (nothing is kept)"),
        422: problemResponse(
          "MEDIA.UNSUPPORTED_TYPE: a type WhatsApp does not accept for the kind; names the accepted types",
        ),
        429: problemResponse("Rate limit of this API key reached; see Retry-After"),
        503: storeUnavailableResponse,
      },
    },
  },
  "/media/{id}": {
    get: {
      summary: "Download a file",
      security: bearer,
      parameters: [idParam],
      responses: {
        200: {
          description: "The bytes, with their detected Content-Type, Content-Disposition: attachment and nosniff",
          content: { "*/*": { schema: { type: "string", format: "binary" } } },
          headers: {
            "Content-Disposition": { schema: { type: "string" } },
            "X-Content-Type-Options": { schema: { type: "string", enum: ["nosniff"] } },
          },
        },
        401: problemResponse("Missing or wrong API key"),
        404: problemResponse("MEDIA.NOT_FOUND"),
      },
    },
    delete: {
      summary: "Delete a file",
      security: bearer,
      parameters: [idParam],
      responses: {
        204: { description: "Deleted" },
        401: problemResponse("Missing or wrong API key"),
        404: problemResponse("MEDIA.NOT_FOUND"),
      },
    },
  },
  "/media/{id}/public": {
    get: {
      summary: "Download a file by a signed link (no API key)",
      description:
        "The links the gateway gives Twilio for the files of an MMS: `PUBLIC_BASE_URL/media/{id}/public?exp=..&sig=..`, " +
        "valid a day, signed with MEDIA_LINK_SECRET (or the key generated in DATA_DIR). Served only when " +
        "PUBLIC_BASE_URL is set. HEAD answers the same headers without the body.",
      security: [],
      parameters: [
        idParam,
        { name: "exp", in: "query", required: true, schema: { type: "string", pattern: "^\\d{1,12}$" } },
        { name: "sig", in: "query", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{43}$" } },
      ],
      responses: {
        200: {
          description: "The bytes, as GET /media/{id} serves them, cacheable privately until the link expires",
          content: { "*/*": { schema: { type: "string", format: "binary" } } },
          headers: {
            "Cache-Control": { schema: { type: "string", example: "private, max-age=86399" } },
            "Content-Disposition": { schema: { type: "string" } },
            "X-Content-Type-Options": { schema: { type: "string", enum: ["nosniff"] } },
          },
        },
        403: problemResponse(
          "MEDIA.LINK_INVALID (a missing, malformed or wrong signature) or MEDIA.LINK_EXPIRED (a genuine link past exp)",
        ),
        404: problemResponse("MEDIA.NOT_FOUND: a genuine link to a file deleted since"),
      },
    },
  },
};
