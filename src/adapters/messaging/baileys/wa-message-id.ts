import { createHash } from "node:crypto";

/** Baileys' own ids (`generateMessageIDV2`): `3EB0` and 18 uppercase hex digits. */
const PREFIX = "3EB0";
const HEX_DIGITS = 18;

/**
 * The WhatsApp message id for one of our messages: `3EB0` followed by the
 * first 18 uppercase hex digits of SHA-256(our message id), the shape Baileys
 * gives its own ids. Pure and deterministic, so a message sent again after a
 * crash or a lost ack carries the same WhatsApp id and the recipient's
 * clients treat it as the same message, never as a second one.
 */
export function deriveWaMessageId(messageId: string): string {
  const digest = createHash("sha256").update(messageId, "utf8").digest("hex");
  return PREFIX + digest.slice(0, HEX_DIGITS).toUpperCase();
}
