import type { GroupInfo, ParticipantsChange } from "../group.ts";

/**
 * WhatsApp group management through one session (linked account). Group ids
 * are the id part of `<id>@g.us`. Each throws `DomainError` GROUP.NOT_FOUND,
 * GROUP.NOT_ADMIN (the account may not do this), GROUP.INVALID_PARTICIPANT,
 * SESSION.NOT_FOUND, or `ProviderError` (retryable when the session is not
 * connected).
 */
export interface GroupControl {
  list(session: string): Promise<GroupInfo[]>;
  get(session: string, groupId: string): Promise<GroupInfo>;
  /** Creates a group with the session's account as its owner. */
  create(session: string, subject: string, participants: readonly string[]): Promise<GroupInfo>;
  /** Adds, removes, promotes and demotes members (admins only); the group after it. */
  changeParticipants(session: string, groupId: string, change: ParticipantsChange): Promise<GroupInfo>;
  /** Changes the subject and/or description; the group after it. */
  update(session: string, groupId: string, change: { subject?: string; description?: string }): Promise<GroupInfo>;
  leave(session: string, groupId: string): Promise<void>;
  /** `https://chat.whatsapp.com/<code>` (admins only). */
  inviteLink(session: string, groupId: string): Promise<string>;
}

/** The same, on one live WhatsApp connection (no session argument). */
export interface ConnectionGroups {
  list(): Promise<GroupInfo[]>;
  get(groupId: string): Promise<GroupInfo>;
  create(subject: string, participants: readonly string[]): Promise<GroupInfo>;
  changeParticipants(groupId: string, change: ParticipantsChange): Promise<GroupInfo>;
  update(groupId: string, change: { subject?: string; description?: string }): Promise<GroupInfo>;
  leave(groupId: string): Promise<void>;
  inviteLink(groupId: string): Promise<string>;
}
