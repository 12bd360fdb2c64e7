import { z } from "zod";
import { Channels } from "../../domain/address.ts";
import { MediaKinds } from "../../domain/media.ts";
import { Directions } from "../../domain/message.ts";
import { MessageStatuses } from "../../domain/message-status.ts";

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const PROVIDER_ID = /^[a-z][a-z0-9_-]{0,31}$/;
export const METADATA_MAX_BYTES = 8 * 1024;
/** Nesting levels allowed in `metadata`: deeper input would overflow the stack of the recursive JSON walkers that store and fingerprint it. */
export const METADATA_MAX_DEPTH = 32;

const MEDIA_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** One attachment of POST /messages: a held file (`id`, from POST /media) or a URL the gateway fetches. */
const attachment = z
  .strictObject({
    id: z.string().regex(MEDIA_ID, "must be a media id returned by POST /media").optional(),
    url: z.string().max(2048).optional().describe("http(s) URL the gateway fetches when it sends the message"),
    kind: z.enum(MediaKinds).optional().describe("How to send the file; default: from its type"),
    caption: z.string().max(1024).optional(),
    filename: z.string().min(1).max(255).optional(),
  })
  .refine((a) => (a.id === undefined) !== (a.url === undefined), { message: "give exactly one of id and url" });

/** Body of POST /messages. Unknown fields are rejected so a typo never goes unnoticed. */
export const sendMessageBody = z
  .strictObject({
    to: z.string().min(1).max(64).describe("Recipient: whatsapp:+E164, sms:+E164, or +E164 with `channel`"),
    text: z.string().max(4096).describe("Message text").default(""),
    channel: z.enum(Channels).optional().describe("Channel for a bare +E164 address"),
    provider: z.string().regex(PROVIDER_ID, "must be a provider id such as baileys or twilio").optional(),
    session: z
      .string()
      .regex(SESSION_ID, "must be 1-64 letters, digits, _ or -, starting with a letter or digit")
      .optional(),
    from: z.string().min(1).max(64).optional().describe("Sender address, where the provider lets you choose it"),
    replyTo: z.string().min(1).max(128).optional().describe("The message this one answers: our id, or a provider id"),
    location: z
      .strictObject({
        latitude: z.number().min(-90).max(90),
        longitude: z.number().min(-180).max(180),
        name: z.string().min(1).max(256).optional(),
        address: z.string().min(1).max(512).optional(),
      })
      .optional()
      .describe("A place (WhatsApp)"),
    contacts: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(256),
          phones: z
            .array(z.string().regex(/^\+[1-9]\d{4,14}$/, "must be E.164, like +40712345678"))
            .min(1)
            .max(5),
        }),
      )
      .min(1)
      .max(10)
      .optional()
      .describe("Contact cards (WhatsApp vCards)"),
    media: z.array(attachment).min(1).max(10).optional().describe("Attachments (WhatsApp: one per message)"),
    mediaUrls: z
      .array(z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).max(2048))
      .max(10)
      .optional()
      .describe("Shortcut for media: [{url}, ...]"),
    metadata: z
      .record(z.string().max(128), z.unknown())
      // One check, depth first: JSON.stringify on a value nested thousands deep throws RangeError (a 500).
      .superRefine((m, ctx) => {
        if (!depthAtMost(m, METADATA_MAX_DEPTH))
          ctx.addIssue({ code: "custom", message: `must be nested at most ${METADATA_MAX_DEPTH} levels deep` });
        else if (JSON.stringify(m).length > METADATA_MAX_BYTES)
          ctx.addIssue({ code: "custom", message: `must serialize to at most ${METADATA_MAX_BYTES} bytes` });
      })
      .optional()
      .describe("Your own data, stored with the message and returned as is"),
  })
  .refine(
    (b) =>
      b.text.length > 0 ||
      (b.media?.length ?? 0) + (b.mediaUrls?.length ?? 0) > 0 ||
      b.location !== undefined ||
      b.contacts !== undefined,
    { message: "must not be empty (unless media, a location or contacts are given)", path: ["text"] },
  )
  .refine(
    (b) =>
      [b.text.length > 0 || (b.media?.length ?? 0) + (b.mediaUrls?.length ?? 0) > 0, b.location, b.contacts].filter(
        Boolean,
      ).length <= 1,
    { message: "a message is text and media, or a location, or contacts: not several", path: ["location"] },
  )
  .refine((b) => (b.media?.length ?? 0) + (b.mediaUrls?.length ?? 0) <= 10, {
    message: "at most 10 attachments in all",
    path: ["media"],
  });

export type SendMessageBody = z.infer<typeof sendMessageBody>;

export const listMessagesQuery = z.strictObject({
  direction: z.enum(Directions).optional(),
  status: z.enum(MessageStatuses).optional(),
  session: z.string().regex(SESSION_ID, "must be a session id").optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, "must be an integer from 1 to 100")
    .transform(Number)
    .pipe(z.number().int().min(1, "must be an integer from 1 to 100").max(100, "must be an integer from 1 to 100"))
    .optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "must be a cursor returned by a previous page")
    .optional(),
});

/** Whether `value` nests at most `max` objects/arrays deep; iterative, so any depth is safe to check. */
export function depthAtMost(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) return false;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return true;
}

/** Idempotency-Key: visible ASCII, 1 to 255 characters. */
export const idempotencyKeyHeader = z.string().regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters");
