import { GROUP_PREFIX, groupAddress, isGroupAddress } from "../../../domain/address.ts";
import { isJidGroup, isPnUser, jidDecode } from "@whiskeysockets/baileys";

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

/** The group jid (`<id>@g.us`) of a group address (`whatsapp:group:<id>`), or undefined for anything else. */
export function groupAddressToJid(address: string): string | undefined {
  if (!isGroupAddress(address)) return undefined;
  const id = address.slice(GROUP_PREFIX.length);
  return /^\d+(-\d+)?$/.test(id) ? `${id}@g.us` : undefined;
}

/** Our address (`whatsapp:group:<id>`) of a group jid; undefined for anything else. */
export function groupJidToAddress(jid: string | null | undefined): string | undefined {
  if (!jid || !isJidGroup(jid)) return undefined;
  const id = jidDecode(jid)?.user;
  try {
    return id ? groupAddress(id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The jid of a group member as our API names it: a phone address
 * (`whatsapp:+E164`, or bare `+E164`) or a LID as we write it (`<digits>@lid`).
 */
export function memberAddressToJid(address: string): string | undefined {
  if (/^\d+@lid$/.test(address)) return address;
  return addressToJid(address);
}
