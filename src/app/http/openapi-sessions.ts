import { ProviderIds } from "../../domain/ports/messaging-provider.port.ts";
import { DisconnectReasons, SessionStates } from "../../domain/session.ts";
import { bearer, idParam, json, problemResponse, ref } from "./openapi-parts.ts";

/** WhatsApp sessions and the providers' callbacks, merged into the document. */
export const sessionSchemas = {
  Session: {
    type: "object",
    properties: {
      id: { type: "string", example: "default" },
      provider: { type: "string", example: "baileys" },
      state: { type: "string", enum: SessionStates },
      me: { type: ["string", "null"], example: "40712345678:3@s.whatsapp.net" },
      lastDisconnect: {
        type: ["object", "null"],
        properties: {
          code: { type: "integer", description: "The protocol's status code, as it came (0 when there was none)" },
          reason: {
            type: "string",
            description: "Why, for a person: what the library said, or what the session decided and what to do",
          },
          cause: { type: "string", enum: DisconnectReasons, description: "Why, as a name" },
          at: { type: "string", format: "date-time" },
        },
      },
      reconnects: { type: "integer", description: "Recoveries: times the connection came back after a drop" },
      reconnectAttempts: {
        type: "integer",
        description: "Connection attempts after a close, whether they opened or failed",
      },
      lastRecoveryMs: { type: ["integer", "null"], description: "Time to recover of the last drop: close -> open" },
    },
  },
};

const noProvider = problemResponse("This gateway runs no provider with sessions");

export const sessionPaths = {
  "/sessions": {
    get: {
      summary: "WhatsApp sessions (linked accounts)",
      security: bearer,
      responses: { 200: json({ type: "object", properties: { items: { type: "array", items: ref("Session") } } }) },
    },
    post: {
      summary: "Create a session; it starts and shows QR codes until linked",
      security: bearer,
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["id"],
              properties: { id: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" } },
            },
          },
        },
      },
      responses: {
        201: json(ref("Session"), "Created"),
        400: problemResponse("Invalid id, or no provider with sessions"),
        409: problemResponse(
          "The id is taken (SESSION.ALREADY_EXISTS), or MAX_SESSIONS sessions exist already (SESSION.LIMIT_REACHED)",
        ),
      },
    },
  },
  "/sessions/{id}": {
    get: {
      summary: "One session",
      security: bearer,
      parameters: [idParam],
      responses: { 200: json(ref("Session")), 404: problemResponse("No such session") },
    },
    delete: {
      summary: "Log out, wipe the stored login, forget the session",
      security: bearer,
      parameters: [idParam],
      responses: { 204: { description: "Deleted" }, 404: problemResponse("No such session") },
    },
  },
  "/sessions/{id}/connect": {
    post: {
      summary: "Start a session that sits idle (logged out, QR expired, needs attention)",
      security: bearer,
      parameters: [idParam],
      responses: { 202: json(ref("Session"), "Starting"), 404: problemResponse("No such session") },
    },
  },
  "/sessions/{id}/qr": {
    get: {
      summary: "The pending QR code: JSON, or a PNG with Accept: image/png",
      security: bearer,
      parameters: [idParam],
      responses: {
        200: {
          description: "The QR",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { qr: { type: "string" }, expiresAt: { type: "string", format: "date-time" } },
              },
            },
            "image/png": {},
          },
        },
        404: problemResponse("No such session, or no QR pending (SESSION.NO_QR)"),
        400: noProvider,
      },
    },
  },
  "/sessions/{id}/pairing-code": {
    post: {
      summary: "Link by code instead of QR: the code is typed on the phone",
      security: bearer,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["phone"],
              properties: { phone: { type: "string", example: "+40712345678" } },
            },
          },
        },
      },
      responses: {
        200: json({ type: "object", properties: { code: { type: "string", example: "ABCD1234" } } }),
        400: problemResponse("Bad phone, or already linked"),
        404: problemResponse("No such session"),
      },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus metrics (public unless PUBLIC_ROUTES_METRICS=false)",
      responses: { 200: { description: "Prometheus text format", content: { "text/plain": {} } } },
    },
  },
  "/webhooks/{provider}/{kind}": {
    post: {
      summary:
        "A provider's callback, verified by the provider's own signature (no API key); the answer is the provider's",
      parameters: [
        { name: "provider", in: "path", required: true, schema: { type: "string", enum: ProviderIds } },
        { name: "kind", in: "path", required: true, schema: { type: "string" }, description: "Which callback" },
      ],
      responses: {
        200: { description: "Recorded; the body is what the provider expects" },
        204: { description: "Recorded" },
        400: problemResponse("Malformed body"),
        403: problemResponse("Missing or wrong signature; nothing recorded"),
        404: problemResponse("No such provider running here, or no such callback"),
        413: problemResponse("Body too large"),
        415: problemResponse("Not the provider's body format"),
      },
    },
  },
  "/webhooks/twilio/inbound": {
    post: {
      summary: "Twilio: a message came in (form body, X-Twilio-Signature over PUBLIC_BASE_URL + path + query)",
      responses: {
        200: { description: "Recorded; empty TwiML", content: { "text/xml": {} } },
        400: problemResponse("Malformed form"),
        403: problemResponse("Missing or wrong signature; nothing recorded"),
        415: problemResponse("Not a form body"),
      },
    },
  },
  "/webhooks/twilio/status": {
    post: {
      summary: "Twilio: a MessageStatus report (never moves a status backwards)",
      responses: {
        204: { description: "Recorded" },
        400: problemResponse("Malformed form"),
        403: problemResponse("Missing or wrong signature; nothing recorded"),
        415: problemResponse("Not a form body"),
      },
    },
  },
};
