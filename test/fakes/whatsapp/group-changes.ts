import { randomBytes } from "node:crypto";
import { generateMessageID, unixTimestampSeconds } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimContext } from "./context.ts";
import { groupNode, newInviteCode, participantNode } from "./groups.ts";
import type { AddressingMode, Groups, SimGroup } from "./groups.ts";
import type { SimUser } from "./registry.ts";

/** What happened to one participant of a membership change: WhatsApp's per-participant `error` code, or none. */
export interface ParticipantOutcome {
  user: SimUser;
  /** "404": not on WhatsApp or not a member; "409": already a member. */
  error?: string;
}

export type MembershipAction = "add" | "remove" | "promote" | "demote";

/**
 * Every change to a group, whoever asks for it (a linked client's `w:g2` IQ
 * or the control API), and the `w:gp2` notification WhatsApp sends each
 * member's devices about it: Baileys turns those into `groups.upsert`,
 * `group-participants.update` and `groups.update`. Permission checks are
 * the caller's: the control API acts as the server itself.
 */
export class GroupChanges {
  constructor(
    private readonly ctx: SimContext,
    private readonly groups: Groups,
  ) {}

  create(
    creator: SimUser,
    subject: string,
    members: SimUser[],
    options: { admins?: SimUser[]; addressingMode?: AddressingMode } = {},
  ): SimGroup {
    const onWhatsApp = members.filter((u) => this.ctx.registry.isOnWhatsApp(u.phone));
    const group = this.groups.create(creator, subject, onWhatsApp, options);
    const create: BinaryNode = { tag: "create", attrs: { reason: "create" }, content: [groupNode(group)] };
    this.notify(group, creator, create, group.users());
    this.ctx.logger.info({ group: group.id, members: group.members.size }, "group created");
    return group;
  }

  /** Adds, removes, promotes or demotes; notifies about those it changed. */
  membership(group: SimGroup, actor: SimUser, action: MembershipAction, users: SimUser[]): ParticipantOutcome[] {
    const outcomes: ParticipantOutcome[] = [];
    const changed: SimUser[] = [];
    for (const user of unique(users)) {
      const error = this.apply(group, action, user);
      outcomes.push(error ? { user, error } : { user });
      if (!error) changed.push(user);
    }
    if (changed.length === 0) return outcomes;
    const child: BinaryNode = {
      tag: action,
      attrs: {},
      content: changed.map((u) =>
        participantNode(group, u, action === "add" ? undefined : group.members.get(u.phone)?.role),
      ),
    };
    // The removed learn it too: their chat turns read-only.
    this.notify(group, actor, child, action === "remove" ? [...group.users(), ...changed] : group.users());
    if (action === "remove") group.rotateSenderKeys();
    return outcomes;
  }

  private apply(group: SimGroup, action: MembershipAction, user: SimUser): string | undefined {
    switch (action) {
      case "add":
        if (!this.ctx.registry.isOnWhatsApp(user.phone)) return "404";
        if (group.has(user)) return "409";
        group.members.set(user.phone, { user, role: "member" });
        return undefined;
      case "remove":
        if (!group.has(user)) return "404";
        group.members.delete(user.phone);
        return undefined;
      case "promote":
      case "demote": {
        const member = group.members.get(user.phone);
        if (!member) return "404";
        if (member.role !== "superadmin") member.role = action === "promote" ? "admin" : "member";
        return undefined;
      }
    }
  }

  /** `user` leaves; a group left without admins gets its oldest member promoted, as WhatsApp does. */
  leave(group: SimGroup, user: SimUser): void {
    if (!group.has(user)) return;
    group.members.delete(user.phone);
    this.notify(group, user, { tag: "remove", attrs: {}, content: [participantNode(group, user)] }, [
      ...group.users(),
      user,
    ]);
    group.rotateSenderKeys();
    const heir = group.members.values().next().value;
    if (heir && ![...group.members.values()].some((m) => m.role !== "member")) {
      heir.role = "admin";
      const promote: BinaryNode = { tag: "promote", attrs: {}, content: [participantNode(group, heir.user, "admin")] };
      this.notify(group, heir.user, promote, group.users());
    }
  }

  subject(group: SimGroup, actor: SimUser, subject: string): void {
    group.subject = subject;
    group.subjectOwner = actor;
    group.subjectTime = unixTimestampSeconds();
    const child: BinaryNode = {
      tag: "subject",
      attrs: {
        subject,
        s_o: group.jidOf(actor),
        ...(group.addressingMode === "lid" ? { s_o_pn: actor.jid } : {}),
        s_t: String(group.subjectTime),
      },
    };
    this.notify(group, actor, child, group.users());
  }

  /** Sets (or, with null, deletes) the description. */
  description(group: SimGroup, actor: SimUser, text: string | null, id = generateMessageID()): void {
    const time = unixTimestampSeconds();
    group.description = text === null ? undefined : { id, text, owner: actor, time };
    const child: BinaryNode =
      text === null
        ? { tag: "description", attrs: { id, delete: "true" } }
        : {
            tag: "description",
            attrs: { id },
            content: [{ tag: "body", attrs: {}, content: Buffer.from(text, "utf8") }],
          };
    this.notify(group, actor, child, group.users());
  }

  /** A new invite code; the old one stops working. */
  revokeInvite(group: SimGroup, actor: SimUser): string {
    group.inviteCode = newInviteCode();
    this.notify(group, actor, { tag: "invite", attrs: { code: group.inviteCode } }, group.users());
    return group.inviteCode;
  }

  /** `locked`/`unlocked` (who edits the group's info), `announcement`/`not_announcement` (who sends). */
  setting(group: SimGroup, actor: SimUser, setting: "locked" | "unlocked" | "announcement" | "not_announcement"): void {
    if (setting === "locked" || setting === "unlocked") group.locked = setting === "locked";
    else group.announce = setting === "announcement";
    this.notify(group, actor, { tag: setting, attrs: {} }, group.users());
  }

  /** One `w:gp2` notification to every linked device of `recipients` (kept while a device is offline). */
  private notify(group: SimGroup, actor: SimUser, child: BinaryNode, recipients: SimUser[]): void {
    const lid = group.addressingMode === "lid";
    const attrs: Record<string, string> = {
      from: group.jid,
      type: "w:gp2",
      id: randomBytes(8).toString("hex").toUpperCase(),
      t: String(unixTimestampSeconds()),
      participant: group.jidOf(actor),
      ...(lid ? { participant_pn: actor.jid } : { participant_lid: actor.lidJid }),
      addressing_mode: group.addressingMode,
    };
    for (const user of unique(recipients)) {
      for (const device of user.activeDevices) device.deliver({ tag: "notification", attrs, content: [child] });
    }
  }
}

function unique(users: SimUser[]): SimUser[] {
  return [...new Map(users.map((u) => [u.phone, u])).values()];
}
