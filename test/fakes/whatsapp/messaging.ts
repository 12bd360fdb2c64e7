import {
  encodeWAMessage,
  generateMessageID,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  proto,
  unixTimestampSeconds,
  unpadRandomMax16,
} from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import { parseInboundMedia } from "./media-inbound.ts";
import type { InboundMedia } from "./media-inbound.ts";
import type { RealDevice, SimUser } from "./registry.ts";
import { normalizePhone } from "./registry.ts";

/** An inbound message a simulated contact sends to a linked account. */
export interface InboundRequest {
  /** Sender phone number (a simulated contact). */
  from: string;
  /** Recipient phone number (a linked account). */
  to: string;
  /** The text; beside `media`, its caption when `media.caption` is absent. */
  text?: string;
  /** A file the contact sends: encrypted and put on the media server as a phone does (validated here). */
  media?: InboundMedia;
  /** Signal-encrypt per device (default) or send a `<plaintext>` node. */
  encrypted?: boolean;
  id?: string;
  pushName?: string;
}

function textOf(message: proto.IMessage): string | null {
  const m = message.deviceSentMessage?.message ?? message;
  return (
    m.conversation ??
    m.extendedTextMessage?.text ??
    m.imageMessage?.caption ??
    m.videoMessage?.caption ??
    m.documentMessage?.caption ??
    m.reactionMessage?.text ??
    null
  );
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
  constructor(private readonly ctx: SimContext) {}

  async onClientMessage(conn: SimConnection, node: BinaryNode): Promise<void> {
    const sender = conn.device;
    const id = node.attrs.id;
    const to = node.attrs.to;
    if (!sender || !id || !to) return;
    const refusal = node.attrs.category === "peer" ? undefined : this.takeRefusal(sender.user.phone);
    if (refusal !== undefined) {
      conn.send({ tag: "ack", attrs: { class: "message", id, from: to, t: now(), error: String(refusal) } });
      this.ctx.logger.debug({ conn: conn.id, id, code: refusal }, "message refused (scripted)");
      return;
    }
    conn.send({ tag: "ack", attrs: { class: "message", id, from: to, t: now() } });
    if (node.attrs.category === "peer") return;
    const dest = this.ctx.registry.resolve(to);
    if (!dest) {
      this.ctx.logger.warn({ conn: conn.id, to, id }, "message to an unsupported jid (groups are not simulated)");
      return;
    }
    const copies = encryptedCopies(node);
    this.forward(sender, node, copies);
    if (dest.user === sender.user) return;
    const message = await this.decryptForPhone(sender, dest.user, copies, id);
    const media = message ? await this.ctx.media.inspect(id, message) : undefined;
    const duplicate = this.ctx.log.record({
      id,
      from: sender.user.phone,
      to: dest.user.phone,
      text: message ? textOf(message) : null,
      type: node.attrs.type ?? "text",
      kind: media ? "media" : "text",
      ...media,
      at: Date.now(),
    });
    this.ctx.logger.debug({ conn: conn.id, id, from: sender.user.phone, duplicate }, "message received");
    if (dest.user.activeDevices.length === 0 && !duplicate) this.scheduleReceipts(sender, id, to);
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
      const attrs: Record<string, string> = {
        id: node.attrs.id!,
        from: sender.jid,
        t: now(),
        type: node.attrs.type ?? "text",
        ...(ownDevice ? { recipient: node.attrs.to! } : { sender_lid: sender.user.lidJid }),
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
   * receipts go (see `scheduleReceipts`).
   */
  receipt(request: ReceiptRequest): { devices: number } {
    const fromPhone = normalizePhone(String(request.from ?? ""));
    if (!fromPhone) throw new ControlError(400, "from must be a phone number");
    const sent = this.ctx.log.messages(fromPhone).find((m) => m.id === request.id);
    if (!sent) throw new ControlError(404, `no message ${request.id} from ${fromPhone}`);
    const devices = this.ctx.registry.findByPhone(fromPhone)?.activeDevices ?? [];
    const chatJid = normalizePhone(sent.to) ? `${sent.to}@s.whatsapp.net` : sent.to;
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
    if (!target || target.user === device.user || type === "sender" || type === "peer_msg" || type === "hist_sync")
      return;
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

  /** Delivers a message from a simulated contact to every device of a linked account. */
  async inbound(request: InboundRequest): Promise<{ id: string }> {
    const fromPhone = normalizePhone(String(request.from ?? ""));
    const toPhone = normalizePhone(String(request.to ?? ""));
    if (!fromPhone || !toPhone) throw new ControlError(400, "from and to must be phone numbers");
    if (request.text !== undefined && typeof request.text !== "string") {
      throw new ControlError(400, "text must be a string");
    }
    if (request.text === undefined && request.media === undefined)
      throw new ControlError(400, "text or media is needed");
    const media = request.media === undefined ? undefined : parseInboundMedia(request.media, request.text);
    const recipient = this.ctx.registry.findByPhone(toPhone);
    const devices = recipient?.activeDevices ?? [];
    if (devices.length === 0) throw new ControlError(404, `no linked account ${toPhone}`);
    const sender = this.ctx.registry.user(fromPhone);
    const id = request.id ?? generateMessageID();
    const message: proto.IMessage = media
      ? await this.ctx.media.inbound(id, media.media, media.bytes)
      : { conversation: request.text ?? "" };
    for (const device of devices) {
      const content = request.encrypted === false ? undefined : await this.encryptFor(sender, device, message);
      device.deliver(
        {
          tag: "message",
          attrs: {
            id,
            from: sender.jid,
            t: now(),
            type: media ? "media" : "text",
            sender_lid: sender.lidJid,
            ...(request.pushName ? { notify: request.pushName } : {}),
          },
          content: content ?? [{ tag: "plaintext", attrs: {}, content: proto.Message.encode(message).finish() }],
        },
        id,
      );
    }
    return { id };
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
