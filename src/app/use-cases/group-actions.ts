import { formatAddress, groupAddress, parseAddress } from "../../domain/address.ts";
import { DomainError } from "../../domain/errors.ts";
import type { GroupInfo, ParticipantsChange } from "../../domain/group.ts";
import type { GroupControl } from "../../domain/ports/group-control.port.ts";
import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";

/**
 * WhatsApp groups through a session: list, inspect, create, change members
 * and settings, leave, share an invite link. Addresses are checked here
 * (members are WhatsApp numbers; a group id is the digits of `<id>@g.us`);
 * the provider does the rest.
 */
export class GroupActions {
  constructor(private readonly providers: readonly MessagingProvider[]) {}

  list(session: string): Promise<GroupInfo[]> {
    return this.#groups(session).list(session);
  }

  get(session: string, groupId: string): Promise<GroupInfo> {
    return this.#groups(session).get(session, checkedId(groupId));
  }

  create(session: string, subject: string, participants: readonly string[]): Promise<GroupInfo> {
    return this.#groups(session).create(session, subject, members(participants, "participants"));
  }

  changeParticipants(session: string, groupId: string, change: ParticipantsChange): Promise<GroupInfo> {
    const checked: ParticipantsChange = Object.fromEntries(
      (["add", "remove", "promote", "demote"] as const)
        .filter((action) => change[action] !== undefined)
        .map((action) => [action, members(change[action]!, action)]),
    );
    return this.#groups(session).changeParticipants(session, checkedId(groupId), checked);
  }

  update(session: string, groupId: string, change: { subject?: string; description?: string }): Promise<GroupInfo> {
    return this.#groups(session).update(session, checkedId(groupId), change);
  }

  leave(session: string, groupId: string): Promise<void> {
    return this.#groups(session).leave(session, checkedId(groupId));
  }

  inviteLink(session: string, groupId: string): Promise<string> {
    return this.#groups(session).inviteLink(session, checkedId(groupId));
  }

  #groups(session: string): GroupControl {
    const withGroups = this.providers.filter((p) => p.groups);
    const provider = withGroups.find((p) => p.hasSession(session));
    if (!provider?.groups) {
      if (withGroups.length === 0) {
        throw new DomainError("SESSION.NOT_SUPPORTED", "this gateway runs no WhatsApp provider with groups");
      }
      throw new DomainError("SESSION.NOT_FOUND", `no session "${session}"`);
    }
    return provider.groups;
  }
}

/** The id part of a group's address, checked. */
function checkedId(groupId: string): string {
  groupAddress(groupId);
  return groupId;
}

/** Members as `whatsapp:+E164`, each checked, once each. */
function members(addresses: readonly string[], field: string): string[] {
  const parsed = addresses.map((address, index) => {
    const member = parseAddress(address, `${field}.${index}`, "whatsapp", "whatsapp");
    if (member.group !== undefined) {
      throw new DomainError("GROUP.INVALID_PARTICIPANT", `${field}.${index}: a group cannot be a member of a group`);
    }
    return formatAddress(member);
  });
  return [...new Set(parsed)];
}
