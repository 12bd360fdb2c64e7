import { getBinaryNodeChildren } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimContext } from "./context.ts";
import type { PresenceUpdate } from "./message-log.ts";
import type { RealDevice } from "./registry.ts";

/**
 * Reads a `<chatstate>` (typing, recording, paused, in one chat) or a
 * `<presence type=available|unavailable>` (to everyone) that a linked
 * client sent with `sendPresenceUpdate`, as the update to record; other
 * presence stanzas (subscriptions) give nothing.
 */
export function presenceUpdate(node: BinaryNode, chatPhone: (jid: string) => string): PresenceUpdate | undefined {
  const at = Date.now();
  if (node.tag === "presence") {
    const type = node.attrs.type;
    if (node.attrs.to || (type !== "available" && type !== "unavailable")) return undefined;
    return { to: null, state: type, at };
  }
  const to = node.attrs.to;
  const [state] = getBinaryNodeChildren(node, "composing").concat(getBinaryNodeChildren(node, "paused"));
  if (node.tag !== "chatstate" || !to || !state) return undefined;
  if (state.tag === "paused") return { to: chatPhone(to), state: "paused", at };
  return { to: chatPhone(to), state: state.attrs.media === "audio" ? "recording" : "composing", at };
}

/** Records a presence or chat state from `device` (`GET /control/presence`). */
export function recordPresence(ctx: SimContext, device: RealDevice, node: BinaryNode): void {
  const update = presenceUpdate(node, (jid) => ctx.registry.resolve(jid)?.user.phone ?? jid);
  if (!update) {
    ctx.logger.debug({ tag: node.tag, attrs: node.attrs }, "presence stanza not recorded");
    return;
  }
  ctx.log.presence(device.user.phone, update);
}
