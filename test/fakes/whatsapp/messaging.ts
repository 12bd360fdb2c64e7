import {
  encodeWAMessage,
  generateMessageID,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  isJidGroup,
  isLidUser,
  proto,
  unixTimestampSeconds,
  unpadRandomMax16,
} from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import { composeInbound, parseInboundContent } from "./inbound-content.ts";
import type { InboundContent } from "./inbound-content.ts";
import type { InboundMedia } from "./media-inbound.ts";
import { decodeContent } from "./message-decode.ts";
import type { ReceivedMessage } from "./message-log.ts";
import type { SharedLocation } from "./message-decode.ts";
import { MessageMemory } from "./message-memory.ts";
import type { RealDevice, SimUser } from "./registry.ts";
import { normalizePhone } from "./registry.ts";
import type { ContactCard } from "./vcard.ts";
import { GroupMessages } from "./group-messages.ts";
import type { Groups } from "./groups.ts";

/**
 * An inbound message a simulated contact sends to a linked account: `text`
 * and/or `media`, or one of `reaction`, `edit`, `revoke`, `location`,
 * `contacts`.
 */
export interface InboundRequest {
  /** Sender phone number (a simulated contact). */
  from: string;
  /** Recipient phone number (a linked account); not needed with `group`. */
  to?: string;
  /** A group (id or jid) the sender is a member of: the message goes to every linked member's devices. */
  group?: string;
  /** The text; beside `media`, its caption when `media.caption` is absent. */
  text?: string;
  /** A file the contact sends: encrypted and put on the media server as a phone does (validated here). */
  media?: InboundMedia;
  /** The id of the message this one quotes (with text, media, location or contacts). */
  replyTo?: string;
  /** A reaction to message `id`; an empty emoji removes the contact's reaction. */
  reaction?: { id: string; emoji: string };
  /** New text for message `id`, which the contact sent earlier. */
  edit?: { id: string; text: string };
  /** Deletes for everyone message `id`, which the contact sent earlier. */
  revoke?: { id: string };
  location?: SharedLocation;
  contacts?: ContactCard[];
  /** The contact writes from its LID (`lid@lid`, with `sender_pn`), as WhatsApp addresses many users now. */
  fromLid?: boolean;
  /** Signal-encrypt per device (default) or send a `<plaintext>` node. */
  encrypted?: boolean;
  id?: string;
  pushName?: string;
}

/** Every `<enc>` of a client message with the device jid it is meant for. */
function encryptedCopies(node: BinaryNode): Array<{ jid: string; enc: BinaryNode }> {
  const copies: Array<{ jid: string; enc: BinaryNode }> = [];
  for (const to of getBinaryNodeChildren(getBinaryNodeChild(node, "participants"), "to")) {
    const enc = getBinaryNodeChild(to, "enc");
    if (enc && to.attrs.jid) copies.push({ jid: to.attrs.jid, enc });
  }
  const direct = getBinaryNodeChild(node, "enc");
  if (direct && node.attrs.to) copies.push({ jid: node.attrs.to, enc: direct });
  return copies;
}

/** A receipt the recipient of a sent message is made to send now (POST /control/receipt). */
export interface ReceiptRequest {
  /** Phone of the linked account that sent the message. */
  from: string;
  /** The message's id, as the sender gave it. */
  id: string;
  type: "delivery" | "read";
}

const now = (): string => String(unixTimestampSeconds());

/**
 * Message traffic: acks, recording and decryption of what linked accounts
 * send, receipts from simulated contacts, routing between real clients,
 * and inbound messages from simulated contacts.
 */
export class Messaging {
  /** What went through, both ways, for replies, edits and reactions to quote and check. */
  private readonly memory = new MessageMemory();
  private readonly groupMessages: GroupMessages;

  constructor(
    private readonly ctx: SimContext,
    groups: Groups,
  ) {
    this.groupMessages = new GroupMessages(ctx, groups, this.memory, (sender, device, message) =>
      this.encryptFor(sender, device, message),
    );
  }

  async onClientMessage(conn: SimConnection, node: BinaryNode): Promise<void> {
    const sender = conn.device;
    const id = node.attrs.id;
    const to = node.attrs.to;
    if (!sender || !id || !to) return;
    const group = isJidGroup(to);
    const refusal =
      node.attrs.category === "peer"
        ? undefined
        : ((group ? this.groupMessages.refusal(sender, to) : undefined) ?? this.takeRefusal(sender.user.phone));
    if (refusal !== undefined) {
      conn.send({ tag: "ack", attrs: { class: "message", id, from: to, t: now(), error: String(refusal) } });
      this.ctx.logger.debug({ conn: conn.id, id, code: refusal }, "message refused");
      return;
    }
    conn.send({ tag: "ack", attrs: { class: "message", id, from: to, t: now() } });
    if (node.attrs.category === "peer") return;
    if (group) {
      await this.groupMessages.fromClient(sender, node);
      return;
    }
    const dest = this.ctx.registry.resolve(to);
    if (!dest) {
      this.ctx.logger.warn({ conn: conn.id, to, id }, "message to an unsupported jid");
      return;
    }
    const copies = encryptedCopies(node);
    this.forward(sender, node, copies);
    if (dest.user === sender.user) return;
    const message = await this.decryptForPhone(sender, dest.user, copies, id);
    if (message) this.memory.remember(id, { message, author: sender.user.phone });
    const media = message ? await this.ctx.media.inspect(id, message) : undefined;
    const content = message ? decodeContent(message) : { kind: "text" as const, text: null };
    const duplicate = this.ctx.log.record({
      id,
      from: sender.user.phone,
      to: dest.user.phone,
      toLid: dest.user.lidJid,
      addressing: isLidUser(to) ? "lid" : "pn",
      type: node.attrs.type ?? "text",
      ...content,
      ...media,
      at: Date.now(),
    });
    this.ctx.logger.debug({ conn: conn.id, id, from: sender.user.phone, duplicate }, "message received");
    // A number without WhatsApp has no phone to deliver to: the message stays at one tick.
    const deliverable = this.ctx.registry.isOnWhatsApp(dest.user.phone);
    if (dest.user.activeDevices.length === 0 && deliverable && !duplicate) this.scheduleReceipts(sender, id, to);
  }

  /** Copies each `<enc>` addressed to a real device into a message stanza for it. */
  private forward(sender: RealDevice, node: BinaryNode, copies: Array<{ jid: string; enc: BinaryNode }>): void {
    const identity = getBinaryNodeChild(node, "device-identity");
    for (const { jid, enc } of copies) {
      const resolved = this.ctx.registry.resolve(jid);
      if (!resolved || resolved.device === 0) continue;
      const target = resolved.user.devices.get(resolved.device);
      if (!target || target.removed || target === sender) continue;
      const ownDevice = resolved.user === sender.user;
      // A chat addressed by LID reaches the other side from the sender's LID, with its number beside it.
      const byLid = !ownDevice && isLidUser(node.attrs.to);
      const attrs: Record<string, string> = {
        id: node.attrs.id!,
        from: byLid ? sender.lidJid : sender.jid,
        t: now(),
        type: node.attrs.type ?? "text",
        ...(ownDevice
          ? { recipient: node.attrs.to! }
          : byLid
            ? { sender_pn: sender.user.jid }
            : { sender_lid: sender.user.lidJid }),
      };
      target.deliver({ tag: "message", attrs, content: identity ? [enc, identity] : [enc] }, node.attrs.id);
    }
  }

  private async decryptForPhone(
    sender: RealDevice,
    recipient: SimUser,
    copies: Array<{ jid: string; enc: BinaryNode }>,
    id: string,
  ): Promise<proto.IMessage | null> {
    const copy = copies.find(({ jid }) => {
      const resolved = this.ctx.registry.resolve(jid);
      return resolved?.user === recipient && resolved.device === 0;
    });
    const type = copy?.enc.attrs.type;
    const content = copy?.enc.content;
    if (!copy || (type !== "pkmsg" && type !== "msg") || !(content instanceof Uint8Array)) return null;
    try {
      const plain = await recipient.phoneDevice.decrypt(sender.lidJid, type, content);
      return proto.Message.decode(unpadRandomMax16(plain));
    } catch (err) {
      this.ctx.logger.warn({ id, from: sender.jid, err: String(err) }, "could not decrypt message");
      return null;
    }
  }

  private scheduleReceipts(sender: RealDevice, id: string, chatJid: string): void {
    const { delivery, read, delayMs } = this.ctx.receipts;
    const send = (type?: string): void =>
      sender.deliver({ tag: "receipt", attrs: { id, from: chatJid, t: now(), ...(type ? { type } : {}) } });
    const at = (ms: number, fn: () => void): void => (ms > 0 ? this.ctx.timers.after(ms, fn) : fn());
    if (delivery) at(delayMs, () => send());
    if (read) at(delivery ? 2 * delayMs : delayMs, () => send("read"));
  }

  private takeRefusal(phone: string): number | undefined {
    const pending = this.ctx.refusals.get(phone);
    const code = pending?.shift();
    if (pending?.length === 0) this.ctx.refusals.delete(phone);
    return code;
  }

  /**
   * The recipient of a message that linked account `from` sent reports it
   * delivered or read, now: to every device of the sender, as the automatic
   * receipts go (see `scheduleReceipts`). For a group message, each member
   * whose simulated phone decrypted it reports, as `participant`.
   */
  receipt(request: ReceiptRequest): { devices: number } {
    const fromPhone = normalizePhone(String(request.from ?? ""));
    if (!fromPhone) throw new ControlError(400, "from must be a phone number");
    const sent = this.ctx.log.messages(fromPhone).find((m) => m.id === request.id);
    if (!sent) throw new ControlError(404, `no message ${request.id} from ${fromPhone}`);
    const devices = this.ctx.registry.findByPhone(fromPhone)?.activeDevices ?? [];
    if (sent.group !== undefined) {
      this.groupMessages.receiptsNow(devices, sent, request.type);
      return { devices: devices.length };
    }
    const chatJid = chatJidOf(sent);
    for (const device of devices) {
      device.deliver({
        tag: "receipt",
        attrs: { id: sent.id, from: chatJid, t: now(), ...(request.type === "read" ? { type: "read" } : {}) },
      });
    }
    return { devices: devices.length };
  }

  onClientReceipt(conn: SimConnection, node: BinaryNode): void {
    const device = conn.device;
    const id = node.attrs.id;
    if (!device || !id) return;
    conn.send({ tag: "ack", attrs: { class: "receipt", id, from: node.attrs.to ?? device.user.jid } });
    const ids = [id, ...getBinaryNodeChildren(getBinaryNodeChild(node, "list"), "item").map((i) => i.attrs.id!)];
    for (const each of ids) device.unacked.delete(each);
    // An "inactive" receipt (client not marked online) still means delivered.
    const rawType = node.attrs.type === "inactive" ? undefined : node.attrs.type;
    const type = rawType ?? "delivery";
    const target = node.attrs.to ? this.ctx.registry.resolve(node.attrs.to) : undefined;
    if (type === "retry") {
      this.ctx.logger.warn({ conn: conn.id, id, to: node.attrs.to }, "client asked for a retry (decryption failed)");
    }
    // A media re-upload request goes to the account's own phone, not to the chat.
    if (type === "server-error") this.ctx.media.onRetryRequest(device, node);
    for (const each of ids) {
      this.ctx.log.receipt({
        id: each,
        from: device.user.phone,
        to: target?.user.phone ?? node.attrs.to ?? "",
        type,
        at: Date.now(),
      });
    }
    if (type === "sender" || type === "peer_msg" || type === "hist_sync") return;
    if (isJidGroup(node.attrs.to)) {
      // A retry in a group would have the sender resend to that device alone: not simulated.
      if (type !== "retry") this.groupMessages.relayReceipt(device, node, ids);
      return;
    }
    if (!target || target.user === device.user) return;
    for (const recipient of target.user.activeDevices) {
      recipient.deliver({
        tag: "receipt",
        attrs: { id, from: device.user.jid, t: now(), ...(rawType ? { type: rawType } : {}) },
        content: node.content,
      });
    }
  }

  onClientAck(conn: SimConnection, node: BinaryNode): void {
    if (node.attrs.class !== "message" || !node.attrs.id) return;
    conn.device?.unacked.delete(node.attrs.id);
    if (node.attrs.error) {
      this.ctx.logger.warn({ conn: conn.id, id: node.attrs.id, error: node.attrs.error }, "client nacked a message");
    }
  }

  /**
   * Delivers a message from a simulated contact to every device of a linked
   * account, built as the contact's phone builds it (see composeInbound).
   */
  async inbound(request: InboundRequest): Promise<{ id: string }> {
    const fromPhone = normalizePhone(String(request.from ?? ""));
    if (request.group !== undefined) return this.inboundGroup(request, fromPhone);
    const toPhone = normalizePhone(String(request.to ?? ""));
    if (!fromPhone || !toPhone) throw new ControlError(400, "from and to must be phone numbers");
    const content = parseInboundContent(request);
    const recipient = this.ctx.registry.findByPhone(toPhone);
    const devices = recipient?.activeDevices ?? [];
    if (!recipient || devices.length === 0) throw new ControlError(404, `no linked account ${toPhone}`);
    if (!this.ctx.registry.isOnWhatsApp(fromPhone)) throw new ControlError(409, `${fromPhone} is not on WhatsApp`);
    const sender = this.ctx.registry.user(fromPhone);
    const id = request.id ?? generateMessageID();
    const fromLid = request.fromLid === true;
    const message = await composeInbound(content, {
      sender,
      chat: recipient,
      fromLid,
      memory: this.memory,
      upload: (media, bytes) => this.ctx.media.inbound(id, media, bytes),
      userOf: (phone) => this.ctx.registry.findByPhone(phone),
    });
    this.memory.remember(id, { message, author: fromPhone });
    const attrs: Record<string, string> = {
      id,
      from: fromLid ? sender.lidJid : sender.jid,
      type: stanzaType(content),
      ...(fromLid ? { sender_pn: sender.jid } : { sender_lid: sender.lidJid }),
      ...(content.kind === "edit" ? { edit: "1" } : content.kind === "revoke" ? { edit: "7" } : {}),
      ...(request.pushName ? { notify: request.pushName } : {}),
    };
    for (const device of devices) {
      const encrypted = request.encrypted === false ? undefined : await this.encryptFor(sender, device, message);
      device.deliver(
        {
          tag: "message",
          attrs: { ...attrs, t: now() },
          content: encrypted ?? [{ tag: "plaintext", attrs: {}, content: proto.Message.encode(message).finish() }],
        },
        id,
      );
    }
    return { id };
  }

  private inboundGroup(request: InboundRequest, fromPhone: string | undefined): Promise<{ id: string }> {
    if (!fromPhone) throw new ControlError(400, "from must be a phone number");
    if (typeof request.group !== "string" || request.group === "")
      throw new ControlError(400, "group must be a group id");
    const content = parseInboundContent(request);
    return this.groupMessages.inbound({
      from: fromPhone,
      group: request.group,
      content,
      type: stanzaType(content),
      ...(content.kind === "edit" ? { edit: "1" } : content.kind === "revoke" ? { edit: "7" } : {}),
      ...(request.fromLid ? { fromLid: true } : {}),
      ...(request.id ? { id: request.id } : {}),
      ...(request.pushName ? { pushName: request.pushName } : {}),
    });
  }

  private async encryptFor(
    sender: SimUser,
    device: RealDevice,
    message: proto.IMessage,
  ): Promise<BinaryNode[] | undefined> {
    try {
      const { type, ciphertext } = await sender.phoneDevice.encrypt(device.lidJid, encodeWAMessage(message), () =>
        device.takeBundle(),
      );
      return [{ tag: "enc", attrs: { v: "2", type }, content: ciphertext }];
    } catch (err) {
      this.ctx.logger.warn({ to: device.jid, err: String(err) }, "no Signal session possible; sending plaintext");
      return undefined;
    }
  }
}

/** The chat a sent message's receipts come from: the jid its sender addressed (a LID, a phone, or a raw jid). */
function chatJidOf(sent: ReceivedMessage): string {
  if (sent.addressing === "lid" && sent.toLid) return sent.toLid;
  return normalizePhone(sent.to) ? `${sent.to}@s.whatsapp.net` : sent.to;
}

/** The stanza type WhatsApp gives each kind of message (what Baileys puts on the ones it sends). */
function stanzaType(content: InboundContent): string {
  switch (content.kind) {
    case "media":
    case "location":
    case "contacts":
      return "media";
    case "reaction":
      return "reaction";
    default:
      return "text";
  }
}
