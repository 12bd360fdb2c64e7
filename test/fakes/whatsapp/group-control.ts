import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import type { GroupChanges, MembershipAction } from "./group-changes.ts";
import { groupInfo } from "./groups.ts";
import type { AddressingMode, GroupInfo, Groups, SimGroup } from "./groups.ts";
import { normalizePhone } from "./registry.ts";
import type { SimUser } from "./registry.ts";

/** A group the simulator creates itself (`POST /control/groups`). */
export interface GroupRequest {
  subject: string;
  /** Phones of the members; the first admin (else the first member) creates it and is its superadmin. */
  members: string[];
  /** Members who are admins. */
  admins?: string[];
  /** "lid" (default, as WhatsApp creates groups today) or "pn". */
  addressingMode?: AddressingMode;
}

/** A membership change made through the control API (as the server, so no rights are checked). */
export interface ParticipantsRequest {
  add?: string[];
  remove?: string[];
  promote?: string[];
  demote?: string[];
  /** Phone of the member the notifications name as the one who did it (default: the creator, else an admin). */
  by?: string;
}

/** What a membership change did to each phone: "200", or WhatsApp's code ("404" not a member, "409" already one). */
export interface ParticipantResult {
  phone: string;
  action: MembershipAction;
  status: string;
}

/** A subject or description change made through the control API; `description: null` deletes it. */
export interface GroupUpdateRequest {
  subject?: string;
  description?: string | null;
  by?: string;
}

const ACTIONS: MembershipAction[] = ["add", "remove", "promote", "demote"];

/**
 * The control API's side of groups: checks what a test asks for and makes
 * the change as the server would (through GroupChanges, so members get the
 * same notifications as when a client makes it). No rights are checked: the
 * control API is the server.
 */
export class GroupControl {
  constructor(
    private readonly ctx: SimContext,
    private readonly groups: Groups,
    private readonly changes: GroupChanges,
  ) {}

  create(request: GroupRequest): GroupInfo {
    if (typeof request.subject !== "string" || request.subject.trim() === "") {
      throw new ControlError(400, "subject must be a non-empty string");
    }
    if (!Array.isArray(request.members) || request.members.length === 0) {
      throw new ControlError(400, "members must be a non-empty array of phone numbers");
    }
    if (request.admins !== undefined && !Array.isArray(request.admins)) {
      throw new ControlError(400, "admins must be an array of phone numbers");
    }
    if (request.addressingMode !== undefined && request.addressingMode !== "lid" && request.addressingMode !== "pn") {
      throw new ControlError(400, "addressingMode must be lid or pn");
    }
    const members = this.users(request.members, "members");
    const admins = this.users(request.admins ?? [], "admins");
    for (const user of [...members, ...admins]) {
      if (!this.ctx.registry.isOnWhatsApp(user.phone)) throw new ControlError(409, `${user.phone} is not on WhatsApp`);
    }
    const creator = admins[0] ?? members[0]!;
    const group = this.changes.create(creator, request.subject, [...members, ...admins], {
      admins,
      ...(request.addressingMode ? { addressingMode: request.addressingMode } : {}),
    });
    return groupInfo(group);
  }

  list(): GroupInfo[] {
    return this.groups.all().map(groupInfo);
  }

  get(id: string): GroupInfo {
    return groupInfo(this.find(id));
  }

  /** Every list is checked before anything changes. */
  participants(id: string, request: ParticipantsRequest): { results: ParticipantResult[]; group: GroupInfo } {
    const group = this.find(id);
    const actor = this.actorIn(group, request.by);
    const asked = ACTIONS.flatMap((action) => {
      const phones = request[action];
      if (phones === undefined) return [];
      if (!Array.isArray(phones)) throw new ControlError(400, `${action} must be an array of phone numbers`);
      return [{ action, users: this.users(phones, action) }];
    });
    const results: ParticipantResult[] = [];
    for (const { action, users } of asked) {
      for (const outcome of this.changes.membership(group, actor, action, users)) {
        results.push({ phone: outcome.user.phone, action, status: outcome.error ?? "200" });
      }
    }
    return { results, group: groupInfo(group) };
  }

  update(id: string, request: GroupUpdateRequest): GroupInfo {
    const group = this.find(id);
    const actor = this.actorIn(group, request.by);
    const { subject, description } = request;
    if (subject !== undefined && (typeof subject !== "string" || subject.trim() === "")) {
      throw new ControlError(400, "subject must be a non-empty string");
    }
    if (description !== undefined && description !== null && typeof description !== "string") {
      throw new ControlError(400, "description must be a string or null");
    }
    if (subject !== undefined) this.changes.subject(group, actor, subject);
    if (description !== undefined) this.changes.description(group, actor, description === "" ? null : description);
    return groupInfo(group);
  }

  private find(id: string): SimGroup {
    const group = this.groups.find(id);
    if (!group) throw new ControlError(404, `no group ${id}`);
    return group;
  }

  private users(phones: unknown[], name: string): SimUser[] {
    return phones.map((input) => {
      const phone = typeof input === "string" ? normalizePhone(input) : undefined;
      if (!phone) throw new ControlError(400, `${name}[] must be phone numbers`);
      return this.ctx.registry.user(phone);
    });
  }

  /** Who the notifications of a change name: `by` (a member), else the superadmin, an admin, any member. */
  private actorIn(group: SimGroup, by: string | undefined): SimUser {
    if (by !== undefined) {
      const [user] = this.users([by], "by");
      if (!user || !group.has(user)) throw new ControlError(409, `${by} is not a member of group ${group.id}`);
      return user;
    }
    const members = [...group.members.values()];
    const actor = members.find((m) => m.role === "superadmin") ?? members.find((m) => m.role === "admin") ?? members[0];
    return actor?.user ?? group.creator;
  }
}
