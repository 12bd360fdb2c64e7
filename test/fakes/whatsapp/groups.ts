import { randomBytes, randomInt } from "node:crypto";
import { unixTimestampSeconds } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimUser } from "./registry.ts";

/** How a group's stanzas name its members: by LID (what WhatsApp creates today) or by phone number. */
export type AddressingMode = "lid" | "pn";

/** A member's rank, as the `type` of a `<participant>` says it (a plain member has none). */
export type GroupRole = "superadmin" | "admin" | "member";

export interface GroupMember {
  user: SimUser;
  role: GroupRole;
}

export interface GroupDescription {
  /** WhatsApp's id of this version of the description (`descId`); a change names it as `prev`. */
  id: string;
  text: string;
  owner: SimUser;
  /** Epoch seconds. */
  time: number;
}

/** A sender key of a simulated member: which generation it is and the real devices it went to. */
export interface SenderKeyState {
  generation: number;
  /** `lidJid#registrationId` of each device that has it: a re-registered device needs it again. */
  holders: Set<string>;
}

/** A group as the server knows it. */
export class SimGroup {
  /** By phone, in the order they joined. */
  readonly members = new Map<string, GroupMember>();
  subject: string;
  subjectOwner: SimUser;
  subjectTime: number;
  description: GroupDescription | undefined;
  inviteCode = newInviteCode();
  /** Only admins edit subject and description (`groupSettingUpdate(jid, "locked")`). */
  locked = false;
  /** Only admins send (`groupSettingUpdate(jid, "announcement")`). */
  announce = false;
  /** Per simulated member's phone: the sender key its phone sends to the group with. */
  readonly senderKeys = new Map<string, SenderKeyState>();

  constructor(
    /** Digits only, as WhatsApp's group ids (`1203630...`); the jid is `<id>@g.us`. */
    readonly id: string,
    readonly creator: SimUser,
    subject: string,
    readonly addressingMode: AddressingMode,
    /** Epoch seconds. */
    readonly creation = unixTimestampSeconds(),
  ) {
    this.subject = subject;
    this.subjectOwner = creator;
    this.subjectTime = creation;
  }

  get jid(): string {
    return `${this.id}@g.us`;
  }

  has(user: SimUser): boolean {
    return this.members.has(user.phone);
  }

  isAdmin(user: SimUser): boolean {
    const role = this.members.get(user.phone)?.role;
    return role === "admin" || role === "superadmin";
  }

  /** How this group's stanzas name a user: LID or phone jid, by addressing mode. */
  jidOf(user: SimUser): string {
    return this.addressingMode === "lid" ? user.lidJid : user.jid;
  }

  /** The other name of a user, as the `*_pn` / `*_lid` attributes beside `jidOf` carry it. */
  altOf(user: SimUser): Record<string, string> {
    return this.addressingMode === "lid" ? { phone_number: user.jid } : { lid: user.lidJid };
  }

  users(): SimUser[] {
    return [...this.members.values()].map((m) => m.user);
  }

  /** A new sender key for every simulated member: what phones do when someone leaves. */
  rotateSenderKeys(): void {
    for (const state of this.senderKeys.values()) {
      state.generation++;
      state.holders.clear();
    }
  }
}

/** A fresh group id: `1203630` and 11 more digits, the shape of today's WhatsApp group ids. */
function newGroupId(): string {
  return `1203630${randomInt(0, 100_000).toString().padStart(5, "0")}${randomInt(0, 1_000_000).toString().padStart(6, "0")}`;
}

/** An invite code: 22 characters of URL-safe base64, as in chat.whatsapp.com links. */
export function newInviteCode(): string {
  return randomBytes(16).toString("base64url").slice(0, 22);
}

/** Every group the simulator hosts. */
export class Groups {
  private readonly byId = new Map<string, SimGroup>();

  /** Creates a group: `creator` is its superadmin, `members` plain members unless listed in `admins`. */
  create(
    creator: SimUser,
    subject: string,
    members: SimUser[],
    options: { admins?: SimUser[]; addressingMode?: AddressingMode } = {},
  ): SimGroup {
    let id = newGroupId();
    while (this.byId.has(id)) id = newGroupId();
    const group = new SimGroup(id, creator, subject, options.addressingMode ?? "lid");
    group.members.set(creator.phone, { user: creator, role: "superadmin" });
    const admins = new Set((options.admins ?? []).map((u) => u.phone));
    for (const user of members) {
      if (group.has(user)) continue;
      group.members.set(user.phone, { user, role: admins.has(user.phone) ? "admin" : "member" });
    }
    this.byId.set(id, group);
    return group;
  }

  /** By id (`1203630...`) or jid (`1203630...@g.us`). */
  find(idOrJid: string): SimGroup | undefined {
    return this.byId.get(idOrJid.replace(/@g\.us$/, ""));
  }

  all(): SimGroup[] {
    return [...this.byId.values()];
  }

  /** The groups `user` is a member of. */
  of(user: SimUser): SimGroup[] {
    return this.all().filter((g) => g.has(user));
  }
}

/** A `<participant>` node: the member's jid in the group's addressing, its other jid, its rank. */
export function participantNode(group: SimGroup, user: SimUser, role?: GroupRole): BinaryNode {
  return {
    tag: "participant",
    attrs: { jid: group.jidOf(user), ...group.altOf(user), ...(role && role !== "member" ? { type: role } : {}) },
  };
}

/** The `<group>` node of a metadata answer (and of a `create` notification), as Baileys' extractGroupMetadata reads it. */
export function groupNode(group: SimGroup): BinaryNode {
  const lid = group.addressingMode === "lid";
  const content: BinaryNode[] = [...group.members.values()].map((m) => participantNode(group, m.user, m.role));
  const description = group.description;
  if (description) {
    content.push({
      tag: "description",
      attrs: {
        id: description.id,
        participant: group.jidOf(description.owner),
        ...(lid ? { participant_pn: description.owner.jid } : {}),
        t: String(description.time),
      },
      content: [{ tag: "body", attrs: {}, content: Buffer.from(description.text, "utf8") }],
    });
  }
  if (group.locked) content.push({ tag: "locked", attrs: {} });
  if (group.announce) content.push({ tag: "announcement", attrs: {} });
  content.push({ tag: "member_add_mode", attrs: {}, content: Buffer.from("admin_add", "utf8") });
  return {
    tag: "group",
    attrs: {
      id: group.id,
      addressing_mode: group.addressingMode,
      subject: group.subject,
      s_o: group.jidOf(group.subjectOwner),
      ...(lid ? { s_o_pn: group.subjectOwner.jid } : {}),
      s_t: String(group.subjectTime),
      creation: String(group.creation),
      creator: group.jidOf(group.creator),
      ...(lid ? { creator_pn: group.creator.jid } : {}),
      size: String(group.members.size),
    },
    content,
  };
}

/** A group as the control API shows it. */
export interface GroupInfo {
  /** Digits only (`1203630...`). */
  id: string;
  /** `<id>@g.us`. */
  jid: string;
  subject: string;
  description: string | null;
  /** Phone of the creator. */
  owner: string;
  /** Epoch seconds. */
  creation: number;
  addressingMode: AddressingMode;
  inviteCode: string;
  locked: boolean;
  announce: boolean;
  participants: Array<{ phone: string; lid: string; admin: "superadmin" | "admin" | null }>;
}

export function groupInfo(group: SimGroup): GroupInfo {
  return {
    id: group.id,
    jid: group.jid,
    subject: group.subject,
    description: group.description?.text ?? null,
    owner: group.creator.phone,
    creation: group.creation,
    addressingMode: group.addressingMode,
    inviteCode: group.inviteCode,
    locked: group.locked,
    announce: group.announce,
    participants: [...group.members.values()].map(({ user, role }) => ({
      phone: user.phone,
      lid: user.lidJid,
      admin: role === "member" ? null : role,
    })),
  };
}
