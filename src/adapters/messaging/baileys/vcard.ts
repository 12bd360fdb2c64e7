import type { ContactCard } from "../../../domain/conversation.ts";

/**
 * A contact card as a vCard 3.0 (RFC 2426), the way WhatsApp shares one:
 * `N` and `FN` (both required by 3.0) carry the name, and each number is a
 * `TEL` of type CELL whose `waid` parameter is its digits, so the receiving
 * app can open a chat with it. Lines end in CRLF, as the RFC says.
 */
export function buildVcard(card: ContactCard): string {
  const name = escapeText(card.name);
  const lines = ["BEGIN:VCARD", "VERSION:3.0", `N:;${name};;;`, `FN:${name}`];
  for (const phone of card.phones) {
    const digits = phone.replace(/\D/g, "");
    lines.push(`TEL;type=CELL;waid=${digits}:+${digits}`);
  }
  lines.push("END:VCARD");
  return lines.join("\r\n");
}

/** E.164 allows 15 digits; WhatsApp's shortest numbers have 5 or so. */
const E164_DIGITS = /^[1-9]\d{4,14}$/;

/**
 * The name and numbers of a received vCard (3.0 or 4.0, as phones write
 * them). The name is `FN`, else the parts of `N`, else `fallbackName` (the
 * message's display name). Each `TEL` gives `+<digits>` from its `waid`
 * (the number WhatsApp knows), else from a value written internationally
 * (`+40 712 345 678`, `tel:+40712345678`, `0040...`); a number written
 * locally (`0712 345 678`) names no country, so it cannot be made E.164 and
 * is left out rather than guessed.
 */
export function parseVcard(vcard: string, fallbackName = ""): ContactCard {
  let fn: string | undefined;
  let n: string | undefined;
  const phones: string[] = [];
  for (const line of unfold(vcard)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const [rawProperty = "", ...params] = line.slice(0, colon).split(";");
    // Apple writes grouped properties (`item1.TEL`).
    const property = rawProperty.replace(/^[^.]*\./, "").toUpperCase();
    const value = line.slice(colon + 1);
    if (property === "FN") fn ??= unescapeText(value).trim();
    else if (property === "N") n ??= nameFromParts(value);
    else if (property === "TEL") {
      const phone = phoneOf(params, value);
      if (phone && !phones.includes(phone)) phones.push(phone);
    }
  }
  return { name: fn || n || fallbackName, phones };
}

function phoneOf(params: readonly string[], value: string): string | undefined {
  const waid = params
    .map((p) => /^waid=(.*)$/i.exec(p)?.[1])
    .find((v) => v !== undefined)
    ?.replace(/\D/g, "");
  if (waid && E164_DIGITS.test(waid)) return `+${waid}`;
  const written = value.replace(/^tel:/i, "").trim();
  const international = /^\+/.test(written) ? written : /^00/.test(written) ? written.slice(2) : undefined;
  const digits = international?.replace(/\D/g, "");
  return digits && E164_DIGITS.test(digits) ? `+${digits}` : undefined;
}

/** `N:Family;Given;Middle;Prefix;Suffix` as a name read left to right: prefix, given, middle, family, suffix. */
function nameFromParts(value: string): string | undefined {
  const [family = "", given = "", middle = "", prefix = "", suffix = ""] = splitUnescaped(value).map(unescapeText);
  const name = [prefix, given, middle, family, suffix]
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" ");
  return name || undefined;
}

/** The logical lines: a line that starts with a space or a tab continues the previous one (folding). */
function unfold(vcard: string): string[] {
  return vcard.replace(/\r?\n[ \t]/g, "").split(/\r?\n/);
}

/** Splits a structured value on `;` that is not escaped. */
function splitUnescaped(value: string): string[] {
  return value.split(/(?<!\\);/);
}

function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\r?\n/g, "\\n").replace(/[,;]/g, "\\$&");
}

function unescapeText(text: string): string {
  return text.replace(/\\([\\,;nN])/g, (_, c: string) => (c === "n" || c === "N" ? "\n" : c));
}
