import { MessageKinds } from "../../domain/conversation.ts";
import { PresenceStates } from "../../domain/ports/messaging-provider.port.ts";
import { bearer, idParam, json, problemResponse, ref } from "./openapi-parts.ts";

const nullableString = { type: ["string", "null"] };

/** The conversation facts every message shows (kind, reply, place, cards, reaction, edits, LID). */
export const conversationProperties = {
  kind: { type: "string", enum: MessageKinds },
  replyTo: {
    ...nullableString,
    description: "The message this one answers: our id when we hold it, else the provider's",
  },
  location: {
    type: ["object", "null"],
    properties: {
      latitude: { type: "number" },
      longitude: { type: "number" },
      name: nullableString,
      address: nullableString,
    },
  },
  contacts: {
    type: ["array", "null"],
    items: {
      type: "object",
      properties: { name: { type: "string" }, phones: { type: "array", items: { type: "string" } } },
    },
  },
  reaction: {
    type: ["object", "null"],
    properties: { messageId: { type: "string" }, emoji: { type: "string", description: "Empty: removed" } },
  },
  edit: { type: ["object", "null"], properties: { messageId: { type: "string" }, text: { type: "string" } } },
  revoke: { type: ["object", "null"], properties: { messageId: { type: "string" } } },
  target: {
    type: ["object", "null"],
    description: "The provider's message a reply, reaction, edit or delete points at, found when it is sent",
    properties: { providerMessageId: { type: "string" }, fromMe: { type: "boolean" }, text: { type: "string" } },
  },
  editedAt: { type: ["string", "null"], format: "date-time" },
  deletedAt: { type: ["string", "null"], format: "date-time" },
  edits: {
    type: "array",
    description: "Earlier texts, oldest first",
    items: { type: "object", properties: { text: { type: "string" }, replacedAt: { type: "string" } } },
  },
  lid: { ...nullableString, description: "The other party's WhatsApp LID, when known; addresses stay phone numbers" },
};

const queued = (description: string) => ({
  ...json(ref("Message"), description),
  headers: { Location: { schema: { type: "string" } } },
});

/** Reactions, edits, deletes, read marks, presence and contact lookups. */
export const conversationPaths = {
  "/messages/{id}/reactions": {
    post: {
      summary: "React to a message (WhatsApp); an empty emoji removes our reaction",
      security: bearer,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "object", required: ["emoji"], properties: { emoji: { type: "string", maxLength: 32 } } },
          },
        },
      },
      responses: {
        202: queued("The reaction, queued behind the chat's earlier messages"),
        404: problemResponse("Unknown message"),
        422: problemResponse("Not a WhatsApp message, or a deleted one (MESSAGE.NOT_SUPPORTED)"),
      },
    },
  },
  "/messages/{id}": {
    patch: {
      summary: "Edit one of our text messages (WhatsApp)",
      description:
        "A message still queued gets the new text at once. A sent one can be edited for 15 minutes: an edit is " +
        "queued and the message's text changes once it went out (`message.edited`).",
      security: bearer,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "object", required: ["text"], properties: { text: { type: "string", maxLength: 4096 } } },
          },
        },
      },
      responses: {
        202: json(ref("Message"), "The edited message (queued), or the queued edit"),
        404: problemResponse("Unknown message"),
        409: problemResponse(
          "Not ours, not text, deleted (MESSAGE.NOT_EDITABLE) or past 15 min (MESSAGE.EDIT_WINDOW_CLOSED)",
        ),
      },
    },
    delete: {
      summary: "Delete one of our messages for everyone (WhatsApp); a queued one is cancelled and never sent",
      security: bearer,
      parameters: [idParam],
      responses: {
        202: json(ref("Message"), "The cancelled message, or the queued delete"),
        404: problemResponse("Unknown message"),
        409: problemResponse("A received message, or one never sent (MESSAGE.NOT_DELETABLE)"),
      },
    },
  },
  "/messages/{id}/read": {
    post: {
      summary: "Mark a received message read (blue ticks)",
      security: bearer,
      parameters: [idParam],
      responses: {
        204: { description: "Marked" },
        404: problemResponse("Unknown message"),
        422: problemResponse("Not a received WhatsApp message"),
      },
    },
  },
  "/sessions/{id}/presence": {
    post: {
      summary: "Show typing, recording or nothing to a contact",
      security: bearer,
      parameters: [idParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["to", "state"],
              properties: { to: { type: "string" }, state: { type: "string", enum: PresenceStates } },
            },
          },
        },
      },
      responses: { 204: { description: "Shown" }, 404: problemResponse("Unknown session") },
    },
  },
  "/contacts/{address}": {
    get: {
      summary: "Whether a number is on WhatsApp, and its LID (answers reused for 6 hours)",
      security: bearer,
      parameters: [
        { name: "address", in: "path", required: true, schema: { type: "string" }, example: "whatsapp:+40712345678" },
        { name: "session", in: "query", required: false, schema: { type: "string" } },
      ],
      responses: {
        200: json({
          type: "object",
          properties: { address: { type: "string" }, onWhatsApp: { type: "boolean" }, lid: nullableString },
        }),
        404: problemResponse("Unknown session"),
      },
    },
  },
};
