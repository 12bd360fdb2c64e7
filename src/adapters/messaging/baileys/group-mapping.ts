import type { GroupInfo, GroupParticipant, GroupRole, GroupUpdate } from "../../../domain/group.ts";
import type { BaileysEventMap, GroupMetadata, GroupParticipant as WAParticipant } from "@whiskeysockets/baileys";
import { groupJidToAddress } from "./addresses.ts";
import { isOwn, toMember, type OwnIds, type PnForLid } from "./group-members.ts";

/**
 * A group as Baileys read it, in our words: members by phone address when
 * the number is known (else their LID), roles from WhatsApp's `admin` mark,
 * and our own role found by our phone number or LID. Undefined for a jid
 * that is not a group's.
 */
export async function toGroupInfo(
  metadata: GroupMetadata,
  own: OwnIds,
  pnForLid: PnForLid,
): Promise<GroupInfo | undefined> {
  const address = groupJidToAddress(metadata.id);
  if (!address) return undefined;
  const participants: GroupParticipant[] = [];
  let ourRole: GroupRole | null = null;
  for (const p of metadata.participants) {
    const role = roleOf(p);
    if (isOwn(own, p.id, p.phoneNumber, p.lid)) ourRole = role;
    const member = await toMember(p.id, p.phoneNumber ?? p.lid, pnForLid);
    if (member) participants.push({ address: member.address, lid: member.lid, role });
  }
  const owner = await toMember(metadata.owner, metadata.ownerPn, pnForLid);
  return {
    id: metadata.id.slice(0, metadata.id.indexOf("@")),
    address,
    subject: metadata.subject ?? "",
    description: metadata.desc ?? null,
    owner: owner?.address ?? null,
    createdAt: metadata.creation ? new Date(metadata.creation * 1000).toISOString() : null,
    participants,
    ourRole,
  };
}

function roleOf(p: WAParticipant): GroupRole {
  return p.admin === "superadmin" || p.admin === "admin" ? p.admin : "member";
}

/** Members joined, left, were promoted or demoted (or changed number): the update, or undefined for a non-group. */
export async function participantsUpdate(
  event: BaileysEventMap["group-participants.update"],
  pnForLid: PnForLid,
): Promise<GroupUpdate | undefined> {
  const group = groupJidToAddress(event.id);
  if (!group) return undefined;
  const participants: string[] = [];
  for (const p of event.participants) {
    const member = await toMember(p.id, p.phoneNumber ?? p.lid, pnForLid);
    if (member) participants.push(member.address);
  }
  const by = await toMember(event.author, event.authorPn, pnForLid);
  return { group, action: event.action, participants, by: by?.address ?? null };
}

/** Settings whose change is reported, by our name; the rest of a `groups.update` is metadata we cache. */
const SETTINGS = {
  announce: "announce",
  restrict: "restrict",
  inviteCode: "invite",
  memberAddMode: "member_add_mode",
  joinApprovalMode: "join_approval",
} as const;

/**
 * What one `groups.update` entry reports: the subject, the description or
 * another setting changed (one update each). A whole group's metadata (as
 * Baileys emits when it fetches every group) is no change and reports none.
 */
export async function settingsUpdates(change: Partial<GroupMetadata>, pnForLid: PnForLid): Promise<GroupUpdate[]> {
  const group = groupJidToAddress(change.id);
  if (!group || Array.isArray(change.participants)) return [];
  const by = (await toMember(change.author, change.authorPn, pnForLid))?.address ?? null;
  const updates: GroupUpdate[] = [];
  const base = { group, participants: [], by };
  if (change.subject !== undefined) updates.push({ ...base, action: "subject", subject: change.subject });
  if ("desc" in change) updates.push({ ...base, action: "description", description: change.desc ?? "" });
  for (const [key, action] of Object.entries(SETTINGS)) {
    if (change[key as keyof typeof SETTINGS] !== undefined) updates.push({ ...base, action });
  }
  return updates;
}
