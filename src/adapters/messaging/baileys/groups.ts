import { DomainError, ProviderError } from "../../../domain/errors.ts";
import type { GroupInfo, GroupUpdate, ParticipantsChange } from "../../../domain/group.ts";
import type { ConnectionGroups } from "../../../domain/ports/group-control.port.ts";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import { BAILEYS_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";
import type { BaileysEventMap, GroupMetadata, ParticipantAction, WASocket } from "@whiskeysockets/baileys";
import { jidToAddress, memberAddressToJid } from "./addresses.ts";
import { toGroupError } from "./group-errors.ts";
import { participantsUpdate, settingsUpdates, toGroupInfo } from "./group-mapping.ts";
import type { GroupMetadataCache } from "./group-metadata-cache.ts";
import type { OwnIds, PnForLid } from "./group-members.ts";

/** What group management needs of its connection. */
export interface GroupsContext {
  readonly sock: WASocket;
  readonly cache: GroupMetadataCache;
  readonly own: () => OwnIds;
  readonly pnForLid: PnForLid;
  /** Throws a retryable ProviderError when the connection is not open. */
  readonly assertOpen: () => void;
  readonly logger: Logger;
  readonly session: string;
}

const INVITE_URL = "https://chat.whatsapp.com/";
/** Applied in this order: a member added and promoted in one change must be in the group first. */
const ACTIONS = ["add", "remove", "promote", "demote"] as const satisfies readonly ParticipantAction[];
/** A member refused by code: 401/403 from an admin-only action means we are not admin; the rest is about the member. */
const NOT_ADMIN_STATUSES = new Set(["401"]);

/**
 * WhatsApp group management on one Baileys socket, and what its group
 * events mean. Every change (ours, or one WhatsApp tells of) drops the group
 * from the metadata cache, so the next message goes to the members as they
 * are after it.
 */
export class BaileysGroups implements ConnectionGroups {
  constructor(private readonly context: GroupsContext) {}

  async list(): Promise<GroupInfo[]> {
    const all = await this.query("*", (sock) => sock.groupFetchAllParticipating());
    const infos: GroupInfo[] = [];
    for (const metadata of Object.values(all)) {
      this.context.cache.set(metadata);
      const info = await this.info(metadata);
      if (info) infos.push(info);
    }
    return infos;
  }

  async get(groupId: string): Promise<GroupInfo> {
    const jid = groupJid(groupId);
    const metadata = await this.query(groupId, (sock) => sock.groupMetadata(jid));
    this.context.cache.set(metadata);
    return this.required(metadata, groupId);
  }

  async create(subject: string, participants: readonly string[]): Promise<GroupInfo> {
    const jids = participants.map(participantJid);
    const metadata = await this.query("(new)", (sock) => sock.groupCreate(subject, jids));
    this.context.cache.set(metadata);
    this.context.logger.info(
      { session: this.context.session, group: metadata.id, members: jids.length },
      "baileys: group created",
    );
    return this.required(metadata, metadata.id);
  }

  /**
   * Applies each kind of change in turn. A member WhatsApp refused (not on
   * WhatsApp, already in or not in the group, privacy settings) fails the
   * call with GROUP.INVALID_PARTICIPANT, or GROUP.NOT_ADMIN when it says we
   * may not; the changes made before it stay made.
   */
  async changeParticipants(groupId: string, change: ParticipantsChange): Promise<GroupInfo> {
    const jid = groupJid(groupId);
    const planned = ACTIONS.map((action) => ({ action, jids: (change[action] ?? []).map(participantJid) }));
    try {
      for (const { action, jids } of planned) {
        if (jids.length === 0) continue;
        const results = await this.query(groupId, (sock) => sock.groupParticipantsUpdate(jid, jids, action));
        const refused = results.filter((result) => result.status !== "200");
        if (refused.length > 0) throw refusal(groupId, action, refused);
      }
    } finally {
      this.context.cache.invalidate(jid);
    }
    return this.get(groupId);
  }

  async update(groupId: string, change: { subject?: string; description?: string }): Promise<GroupInfo> {
    const jid = groupJid(groupId);
    try {
      if (change.subject !== undefined) {
        const subject = change.subject;
        await this.query(groupId, (sock) => sock.groupUpdateSubject(jid, subject));
      }
      if (change.description !== undefined) {
        // An empty description deletes it (what Baileys sends for "no description").
        const description = change.description || undefined;
        await this.query(groupId, (sock) => sock.groupUpdateDescription(jid, description));
      }
    } finally {
      this.context.cache.invalidate(jid);
    }
    return this.get(groupId);
  }

  async leave(groupId: string): Promise<void> {
    const jid = groupJid(groupId);
    try {
      await this.query(groupId, (sock) => sock.groupLeave(jid));
    } finally {
      this.context.cache.invalidate(jid);
    }
  }

  async inviteLink(groupId: string): Promise<string> {
    const jid = groupJid(groupId);
    const code = await this.query(groupId, (sock) => sock.groupInviteCode(jid));
    if (!code) throw new ProviderError(BAILEYS_PROVIDER, `WhatsApp gave no invite code for ${groupId}`, true);
    return INVITE_URL + code;
  }

  /**
   * Members joined, left or changed role (Baileys' `group-participants.update`):
   * the group leaves the cache at once, so a send that starts now encrypts
   * for the members as they are; resolves with the change to report.
   */
  participantsChanged(event: BaileysEventMap["group-participants.update"]): Promise<GroupUpdate[]> {
    this.context.cache.invalidate(event.id);
    return participantsUpdate(event, this.context.pnForLid).then((update) => (update ? [update] : []));
  }

  /**
   * A `groups.update`: a whole group's metadata (Baileys fetched every
   * group) refreshes the cache; a change (subject, description, a setting)
   * drops the group from it. Resolves with the changes to report.
   */
  async groupsChanged(changes: ReadonlyArray<Partial<GroupMetadata>>): Promise<GroupUpdate[]> {
    for (const change of changes) {
      if (!change.id) continue;
      if (Array.isArray(change.participants)) this.context.cache.set(change as GroupMetadata);
      else this.context.cache.invalidate(change.id);
    }
    const updates: GroupUpdate[] = [];
    for (const change of changes) updates.push(...(await settingsUpdates(change, this.context.pnForLid)));
    return updates;
  }

  /** Runs a group query on the open socket, its failure in our words (logged). */
  private async query<T>(groupId: string, run: (sock: WASocket) => Promise<T>): Promise<T> {
    this.context.assertOpen();
    try {
      return await run(this.context.sock);
    } catch (error) {
      const failure = toGroupError(error, groupId);
      this.context.logger.warn(
        { session: this.context.session, group: groupId, err: failure.message },
        "baileys: group query failed",
      );
      throw failure;
    }
  }

  private info(metadata: GroupMetadata): Promise<GroupInfo | undefined> {
    return toGroupInfo(metadata, this.context.own(), this.context.pnForLid);
  }

  private async required(metadata: GroupMetadata, groupId: string): Promise<GroupInfo> {
    const info = await this.info(metadata);
    if (!info) throw new ProviderError(BAILEYS_PROVIDER, `WhatsApp answered for ${groupId} with a non-group`, false);
    return info;
  }
}

/** `<id>@g.us`; the app has checked the id's form, so a bad one is GROUP.NOT_FOUND like an unknown one. */
function groupJid(groupId: string): string {
  if (!/^\d+(-\d+)?$/.test(groupId)) throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
  return `${groupId}@g.us`;
}

function participantJid(address: string): string {
  const jid = memberAddressToJid(address);
  if (!jid) {
    throw new DomainError("GROUP.INVALID_PARTICIPANT", `not a WhatsApp number or LID: ${address}`);
  }
  return jid;
}

function refusal(
  groupId: string,
  action: string,
  refused: ReadonlyArray<{ readonly status: string; readonly jid: string | undefined }>,
): DomainError {
  const list = refused.map((r) => `${jidToAddress(r.jid) ?? r.jid ?? "?"} (${r.status})`).join(", ");
  if (refused.some((r) => NOT_ADMIN_STATUSES.has(r.status))) {
    return new DomainError("GROUP.NOT_ADMIN", `this account may not ${action} in group ${groupId}: ${list}`);
  }
  return new DomainError("GROUP.INVALID_PARTICIPANT", `WhatsApp refused to ${action} in group ${groupId}: ${list}`);
}
