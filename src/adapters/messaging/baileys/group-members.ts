import { areJidsSameUser, isLidUser, isPnUser, jidNormalizedUser } from "@whiskeysockets/baileys";
import { jidToAddress } from "./addresses.ts";

/** How a jid's phone number is found behind a LID: Baileys' lid-mapping store, null when unknown. */
export type PnForLid = (lidJid: string) => Promise<string | null>;

/** A group member in our words. */
export interface Member {
  /** `whatsapp:+E164` when the number is known, else the LID (`<digits>@lid`). */
  readonly address: string;
  /** `<digits>@lid`, when known. */
  readonly lid: string | null;
}

/**
 * A group member as WhatsApp names it (a phone-number jid or a LID, the
 * server giving the other form beside it when it can) in our words: its
 * phone address whenever the number is known (asking the lid-mapping store
 * for a LID without one), and its LID. Undefined for a jid that is neither.
 */
export async function toMember(
  jid: string | null | undefined,
  alt: string | null | undefined,
  pnForLid: PnForLid,
): Promise<Member | undefined> {
  const lidJid = isLidUser(jid ?? undefined) ? jid! : isLidUser(alt ?? undefined) ? alt! : undefined;
  let pnJid = isPnUser(jid ?? undefined) ? jid! : isPnUser(alt ?? undefined) ? alt! : undefined;
  if (!pnJid && lidJid) pnJid = (await pnForLid(jidNormalizedUser(lidJid))) ?? undefined;
  const lid = lidJid ? jidNormalizedUser(lidJid) : null;
  const address = jidToAddress(pnJid) ?? lid;
  return address ? { address, lid } : undefined;
}

/** Our account's ids: its phone-number jid and its LID, as the login knows them. */
export interface OwnIds {
  readonly pn: string | undefined;
  readonly lid: string | undefined;
}

/** Whether any of the jids names our own account (any device). */
export function isOwn(own: OwnIds, ...jids: Array<string | null | undefined>): boolean {
  return jids.some(
    (jid) => !!jid && ((own.pn && areJidsSameUser(jid, own.pn)) || (own.lid && areJidsSameUser(jid, own.lid))),
  );
}
