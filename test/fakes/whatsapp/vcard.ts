/** A shared contact as the control API names it: a display name and phone numbers in E.164 (`+15551234567`). */
export interface ContactCard {
  name: string;
  phones: string[];
}

/**
 * The vCard 3.0 a WhatsApp phone attaches when it shares a contact: `FN`
 * is the name shown, and each number carries its WhatsApp id (`waid`, the
 * digits) so the receiving app can open a chat with it.
 */
export function buildVcard(card: ContactCard): string {
  const lines = ["BEGIN:VCARD", "VERSION:3.0", `N:;${escapeValue(card.name)};;;`, `FN:${escapeValue(card.name)}`];
  for (const phone of card.phones) {
    const digits = phone.replace(/\D/g, "");
    lines.push(`TEL;type=CELL;type=VOICE;waid=${digits}:+${digits}`);
  }
  lines.push("END:VCARD");
  return `${lines.join("\n")}\n`;
}

/**
 * Reads the name and phone numbers back from a vCard: `FN` (else
 * `fallbackName`), and each `TEL` as `+digits`, from its `waid` when there
 * is one (the number WhatsApp knows), else from the value's digits.
 */
export function parseVcard(vcard: string, fallbackName = ""): ContactCard {
  let name: string | undefined;
  const phones: string[] = [];
  // Folded lines (RFC 6350 3.2) continue with a space or a tab.
  for (const line of vcard.replace(/\r?\n[ \t]/g, "").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const params = line.slice(0, colon).split(";");
    const property = params[0]!.replace(/^item\d+\./i, "").toUpperCase();
    const value = line.slice(colon + 1);
    if (property === "FN" && name === undefined) name = unescapeValue(value);
    if (property !== "TEL") continue;
    const waid = params.find((p) => p.toLowerCase().startsWith("waid="))?.slice(5);
    const digits = (waid ?? value).replace(/\D/g, "");
    if (digits) phones.push(`+${digits}`);
  }
  return { name: name ?? fallbackName, phones };
}

function escapeValue(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\n/g, "\\n")
    .replace(/[,;]/g, (c) => `\\${c}`);
}

function unescapeValue(text: string): string {
  return text.replace(/\\([\\,;nN])/g, (_m, c: string) => (c === "n" || c === "N" ? "\n" : c));
}
