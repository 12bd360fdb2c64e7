import { getBinaryNodeChild, getBinaryNodeChildren } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import type { GroupChanges, MembershipAction } from "./group-changes.ts";
import { groupNode } from "./groups.ts";
import type { Groups, SimGroup } from "./groups.ts";
import { IqError } from "./iq-handlers.ts";
import type { ExtraIqHandlers } from "./iq-handlers.ts";
import type { SimUser } from "./registry.ts";

const MEMBERSHIP: MembershipAction[] = ["add", "remove", "promote", "demote"];
const SETTINGS = ["locked", "unlocked", "announcement", "not_announcement"] as const;

function actorOf(conn: SimConnection): SimUser {
  if (!conn.device) throw new IqError(401, "not-authorized");
  return conn.device.user;
}

function text(node: BinaryNode | undefined): string {
  const content = node?.content;
  if (content instanceof Uint8Array) return Buffer.from(content).toString("utf8");
  return typeof content === "string" ? content : "";
}

/**
 * The `w:g2` IQs of Baileys' groups socket (groupCreate, groupMetadata and
 * the metadata query before each group send, groupFetchAllParticipating,
 * groupParticipantsUpdate, groupUpdateSubject, groupUpdateDescription,
 * groupLeave, groupInviteCode, groupRevokeInvite, groupAcceptInvite,
 * groupSettingUpdate), answered with WhatsApp's errors: 404 item-not-found
 * for an unknown group, 403 forbidden for a non-member, 401 not-authorized
 * for a member without the rights, 409 conflict for a stale description.
 */
export function groupIqHandlers(ctx: SimContext, groups: Groups, changes: GroupChanges): ExtraIqHandlers {
  const usersIn = (node: BinaryNode | undefined): SimUser[] =>
    getBinaryNodeChildren(node, "participant").flatMap((p) => {
      const resolved = p.attrs.jid ? ctx.registry.resolve(p.attrs.jid) : undefined;
      return resolved ? [resolved.user] : [];
    });
  const memberGroup = (conn: SimConnection, iq: BinaryNode): { group: SimGroup; actor: SimUser } => {
    const actor = actorOf(conn);
    const group = groups.find(iq.attrs.to ?? "");
    if (!group) throw new IqError(404, "item-not-found");
    if (!group.has(actor)) throw new IqError(403, "forbidden");
    return { group, actor };
  };
  const adminGroup = (conn: SimConnection, iq: BinaryNode): { group: SimGroup; actor: SimUser } => {
    const found = memberGroup(conn, iq);
    if (!found.group.isAdmin(found.actor)) throw new IqError(401, "not-authorized");
    return found;
  };
  const infoGroup = (conn: SimConnection, iq: BinaryNode): { group: SimGroup; actor: SimUser } => {
    const found = memberGroup(conn, iq);
    if (found.group.locked && !found.group.isAdmin(found.actor)) throw new IqError(401, "not-authorized");
    return found;
  };

  const handlers: ExtraIqHandlers = {
    "w:g2:set:create": (conn, iq) => {
      const create = getBinaryNodeChild(iq, "create");
      const subject = create?.attrs.subject ?? "";
      if (!subject) throw new IqError(400, "bad-request");
      return [groupNode(changes.create(actorOf(conn), subject, usersIn(create)))];
    },
    "w:g2:get:query": (conn, iq) => {
      const { group, actor } = memberGroup(conn, iq);
      ctx.log.groupMetadataQuery(actor.phone);
      return [groupNode(group)];
    },
    "w:g2:get:participating": (conn) => [
      { tag: "groups", attrs: {}, content: groups.of(actorOf(conn)).map(groupNode) },
    ],
    "w:g2:set:subject": (conn, iq) => {
      const { group, actor } = infoGroup(conn, iq);
      const subject = text(getBinaryNodeChild(iq, "subject"));
      if (!subject) throw new IqError(400, "bad-request");
      changes.subject(group, actor, subject);
      return undefined;
    },
    "w:g2:set:description": (conn, iq) => {
      const { group, actor } = infoGroup(conn, iq);
      const node = getBinaryNodeChild(iq, "description");
      const prev = node?.attrs.prev;
      // Two admins editing at once: the second names a version that is gone.
      if (prev !== undefined && prev !== group.description?.id) throw new IqError(409, "conflict");
      const body = node?.attrs.delete === "true" ? null : text(getBinaryNodeChild(node, "body"));
      changes.description(group, actor, body === "" ? null : body, node?.attrs.id);
      return undefined;
    },
    "w:g2:set:leave": (conn, iq) => {
      const actor = actorOf(conn);
      const left: BinaryNode[] = [];
      for (const node of getBinaryNodeChildren(getBinaryNodeChild(iq, "leave"), "group")) {
        const group = groups.find(node.attrs.id ?? "");
        if (group?.has(actor)) changes.leave(group, actor);
        left.push({ tag: "group", attrs: { id: node.attrs.id ?? "", ...(group ? {} : { error: "404" }) } });
      }
      return [{ tag: "leave", attrs: {}, content: left }];
    },
    "w:g2:get:invite": (conn, iq) => {
      const { group } = adminGroup(conn, iq);
      return [{ tag: "invite", attrs: { code: group.inviteCode } }];
    },
    "w:g2:set:invite": (conn, iq) => {
      const code = getBinaryNodeChild(iq, "invite")?.attrs.code;
      if (code === undefined) {
        const { group, actor } = adminGroup(conn, iq);
        return [{ tag: "invite", attrs: { code: changes.revokeInvite(group, actor) } }];
      }
      // groupAcceptInvite: joins the group the code belongs to.
      const actor = actorOf(conn);
      const group = groups.all().find((g) => g.inviteCode === code);
      if (!group) throw new IqError(404, "item-not-found");
      if (!group.has(actor)) changes.membership(group, actor, "add", [actor]);
      return [{ tag: "group", attrs: { jid: group.jid } }];
    },
  };
  for (const action of MEMBERSHIP) {
    handlers[`w:g2:set:${action}`] = (conn, iq) => {
      const { group, actor } = adminGroup(conn, iq);
      const node = getBinaryNodeChild(iq, action);
      const requested = getBinaryNodeChildren(node, "participant");
      const outcomes = changes.membership(group, actor, action, usersIn(node));
      const content = requested.map((p): BinaryNode => {
        const user = p.attrs.jid ? ctx.registry.resolve(p.attrs.jid)?.user : undefined;
        const outcome = outcomes.find((o) => o.user === user);
        const error = outcome ? outcome.error : "404";
        return { tag: "participant", attrs: { jid: p.attrs.jid ?? "", ...(error ? { error } : {}) } };
      });
      return [{ tag: action, attrs: {}, content }];
    };
  }
  for (const setting of SETTINGS) {
    handlers[`w:g2:set:${setting}`] = (conn, iq) => {
      const { group, actor } = adminGroup(conn, iq);
      changes.setting(group, actor, setting);
      return undefined;
    };
  }
  return handlers;
}
