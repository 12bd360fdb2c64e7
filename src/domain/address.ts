import { DomainError } from "./errors.ts";

export const Channels = ["whatsapp", "sms"] as const;
export type Channel = (typeof Channels)[number];

/**
 * Where a message goes or comes from: a phone number on one channel (`e164`
 * always starts with `+`), or a WhatsApp group (`group`: the id part of
 * `<id>@g.us`), written `whatsapp:group:<id>`.
 */
export type Address =
  | { readonly channel: Channel; readonly e164: string; readonly group?: undefined }
  | { readonly channel: "whatsapp"; readonly group: string; readonly e164?: undefined };

/** The prefix of a WhatsApp group's address. */
export const GROUP_PREFIX = "whatsapp:group:";
// Group ids are digits, or the older `<creator phone>-<timestamp>`.
const GROUP_ID = /^\d{5,30}(-\d{5,20})?$/;

/** Whether an address (in our notation) is a WhatsApp group's. */
export function isGroupAddress(address: string): boolean {
  return address.startsWith(GROUP_PREFIX);
}

/** `whatsapp:group:<id>`, for a group id; throws ADDRESS.INVALID for a malformed one. */
export function groupAddress(id: string, field = "groupId"): string {
  if (!GROUP_ID.test(id)) throw invalid(field, "must be a WhatsApp group id (digits, as in <id>@g.us)");
  return `${GROUP_PREFIX}${id}`;
}

// E.164: a country code that never starts with 0, at most 15 digits in all.
const E164 = /^\+[1-9]\d{6,14}$/;

export function isChannel(value: string): value is Channel {
  return (Channels as readonly string[]).includes(value);
}

/**
 * Parses `whatsapp:+E164`, `sms:+E164`, or a bare `+E164`. A bare number takes
 * `channel` if given, else `defaultChannel`. A prefix that disagrees with an
 * explicit `channel` is an error rather than a silent choice.
 */
export function parseAddress(
  raw: string,
  field: string,
  channel: Channel | undefined,
  defaultChannel: Channel,
): Address {
  const trimmed = raw.trim();
  if (trimmed.toLowerCase().startsWith(GROUP_PREFIX)) {
    const id = trimmed.slice(GROUP_PREFIX.length);
    if (channel && channel !== "whatsapp") throw invalid(field, `a WhatsApp group cannot be reached by ${channel}`);
    if (!GROUP_ID.test(id)) throw invalid(field, "a group address is whatsapp:group:<id>, the digits of <id>@g.us");
    return { channel: "whatsapp", group: id };
  }
  const colon = trimmed.indexOf(":");
  let prefix: Channel | undefined;
  let number = trimmed;
  if (colon >= 0) {
    const name = trimmed.slice(0, colon).toLowerCase();
    if (!isChannel(name)) throw invalid(field, `unknown channel prefix "${name}" (use whatsapp: or sms:)`);
    prefix = name;
    number = trimmed.slice(colon + 1);
  }
  if (!E164.test(number))
    throw invalid(field, "must be an E.164 number such as +40712345678, optionally prefixed whatsapp: or sms:");
  if (prefix && channel && prefix !== channel)
    throw invalid(field, `prefix "${prefix}:" disagrees with channel "${channel}"`);
  return { channel: prefix ?? channel ?? defaultChannel, e164: number };
}

/** Twilio's notation, which is also ours: `whatsapp:+40712345678`. */
export function formatAddress(address: Address): string {
  return address.group !== undefined ? `${GROUP_PREFIX}${address.group}` : `${address.channel}:${address.e164}`;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError("ADDRESS.INVALID", `${field}: ${message}`, [{ field, message }]);
}
