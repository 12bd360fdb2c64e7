import { isPnUser, jidDecode } from "@whiskeysockets/baileys";

const E164 = /^\+([1-9]\d{4,14})$/;
const CHANNEL_PREFIX = "whatsapp:";

/**
 * The WhatsApp user jid (`<digits>@s.whatsapp.net`) of an address in our
 * notation (`whatsapp:+E164`; a bare `+E164` is accepted too), or undefined
 * when the address is not a phone number on the WhatsApp channel.
 */
export function addressToJid(address: string): string | undefined {
  const number = address.startsWith(CHANNEL_PREFIX) ? address.slice(CHANNEL_PREFIX.length) : address;
  const digits = E164.exec(number)?.[1];
  return digits === undefined ? undefined : `${digits}@s.whatsapp.net`;
}

/**
 * Our address (`whatsapp:+<digits>`) of a phone-number jid, device or not
 * (`123:4@s.whatsapp.net`); undefined for anything else (LIDs, groups...).
 */
export function jidToAddress(jid: string | null | undefined): string | undefined {
  if (!jid || !isPnUser(jid)) return undefined;
  const user = jidDecode(jid)?.user;
  return user && /^\d+$/.test(user) ? `${CHANNEL_PREFIX}+${user}` : undefined;
}
