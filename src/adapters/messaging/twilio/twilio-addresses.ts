import type { Channel } from "../../../domain/address.ts";

const WHATSAPP_PREFIX = "whatsapp:";

/**
 * Our address (`sms:+E164`, `whatsapp:+E164`) in Twilio's notation: a bare
 * number for SMS, the `whatsapp:` prefix kept for WhatsApp.
 */
export function toTwilioAddress(address: string, channel: Channel): string {
  const number = address.replace(/^(sms|whatsapp):/i, "");
  return channel === "whatsapp" ? `${WHATSAPP_PREFIX}${number}` : number;
}

/** The channel of an address Twilio reports: `whatsapp:` prefix or not. */
export function channelOfTwilioAddress(address: string): Channel {
  return address.toLowerCase().startsWith(WHATSAPP_PREFIX) ? "whatsapp" : "sms";
}

/**
 * A Twilio address in our notation. Senders are not always E.164 (short
 * codes, alphanumeric ids), so the number part is kept as Twilio sent it.
 */
export function fromTwilioAddress(address: string, channel: Channel): string {
  const number = address.toLowerCase().startsWith(WHATSAPP_PREFIX) ? address.slice(WHATSAPP_PREFIX.length) : address;
  return `${channel}:${number}`;
}
