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
import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import type { Groups, SenderKeyState, SimGroup } from "./groups.ts";
import { composeInbound } from "./inbound-content.ts";
import type { InboundContent } from "./inbound-content.ts";
import { decodeContent } from "./message-decode.ts";
import type { ReceivedMessage } from "./message-log.ts";
import type { MessageMemory } from "./message-memory.ts";
import type { RealDevice, SimUser } from "./registry.ts";

/** Pairwise Signal encryption of a message from a simulated phone to a real device (undefined: no session possible). */
export type Seal = (sender: SimUser, device: RealDevice, message: proto.IMessage) => Promise<BinaryNode[] | undefined>;

/** A group message a simulated member sends (`POST /control/inbound` with `group`). */
export interface GroupInbound {
  from: string;
  group: string;
  content: InboundContent;
  /** The sender writes as its LID even in a group addressed by phone number. */
  fromLid?: boolean;
  id?: string;
  pushName?: string;
  /** The stanza type WhatsApp gives this content. */
  type: string;
  /** `edit` attribute of an edit ("1") or a delete ("7"). */
  edit?: string;
}

const now = (): string => String(unixTimestampSeconds());

/**
 * Group traffic. From a linked client: one `skmsg` for the group plus, for
 * each member device still without the sender's key, a pairwise
 * SenderKeyDistributionMessage; every member's simulated phone takes its
 * key and decrypts the `skmsg` with a real group cipher, and the stanza is
 * fanned out to the members' linked devices. From a simulated member: the
 * same, built by the member's phone, to every linked member device.
 */
export class GroupMessages {
  constructor(
    private readonly ctx: SimContext,
    private readonly groups: Groups,
    private readonly memory: MessageMemory,
    private readonly seal: Seal,
  ) {}

  /** The error code of the ack for a group message `sender` may not send; undefined when it may. */
  refusal(sender: RealDevice, to: string): number | undefined {
    const group = this.groups.find(to);
    if (!group) return 404;
    if (!group.has(sender.user)) return 403;
    if (group.announce && !group.isAdmin(sender.user)) return 403;
    return undefined;
  }

  /** A group message a linked client sent (already acked). */
  async fromClient(sender: RealDevice, node: BinaryNode): Promise<void> {
    const id = node.attrs.id!;
    const group = this.groups.find(node.attrs.to ?? "");
    if (!group) return;
    const skmsg = getBinaryNodeChildren(node, "enc").find((e) => e.attrs.type === "skmsg");
    const copies = getBinaryNodeChildren(getBinaryNodeChild(node, "participants"), "to").flatMap((to) => {
      const enc = getBinaryNodeChild(to, "enc");
      const target = to.attrs.jid ? this.ctx.registry.resolve(to.attrs.jid) : undefined;
      return enc && target ? [{ ...target, enc }] : [];
    });
    this.fanOut(sender, node, group, copies, skmsg);
    const decryptedBy: string[] = [];
    let message: proto.IMessage | null = null;
    for (const member of group.users()) {
      if (member === sender.user) continue;
      const copy = copies.find((c) => c.user === member && c.device === 0)?.enc;
      const opened = await this.openOnPhone(member, sender, group, copy, skmsg, id);
      if (!opened) continue;
      decryptedBy.push(member.phone);
      message ??= opened;
    }
    if (message) this.memory.remember(id, { message, author: sender.user.phone });
    const media = message ? await this.ctx.media.inspect(id, message) : undefined;
    const content = message ? decodeContent(message) : { kind: "text" as const, text: null };
    const duplicate = this.ctx.log.record({
      id,
      from: sender.user.phone,
      to: group.jid,
      group: group.id,
      decryptedBy,
      addressing: node.attrs.addressing_mode === "pn" ? "pn" : "lid",
      type: node.attrs.type ?? "text",
      ...content,
      ...media,
      at: Date.now(),
    });
    this.ctx.logger.debug({ id, group: group.id, decryptedBy, duplicate }, "group message received");
    if (!duplicate) this.scheduleReceipts(sender, id, group, decryptedBy);
  }

  /**
   * What one member's simulated phone makes of the message: it takes the
   * sender key from its pairwise copy, if it got one, then decrypts the
   * `skmsg`. Null when it cannot (it never got the sender's key).
   */
  private async openOnPhone(
    member: SimUser,
    sender: RealDevice,
    group: SimGroup,
    copy: BinaryNode | undefined,
    skmsg: BinaryNode | undefined,
    id: string,
  ): Promise<proto.IMessage | null> {
    const phone = member.phoneDevice;
    // Sender keys are named by the sending device on the phone's side: one key per device.
    const author = sender.lidJid;
    const type = copy?.attrs.type;
    if (copy && (type === "pkmsg" || type === "msg") && copy.content instanceof Uint8Array) {
      try {
        const plain = await phone.decrypt(sender.lidJid, type, copy.content);
        const distribution = proto.Message.decode(unpadRandomMax16(plain)).senderKeyDistributionMessage;
        const key = distribution?.axolotlSenderKeyDistributionMessage;
        if (key) await phone.acceptSenderKey(group.jid, author, key);
      } catch (err) {
        this.ctx.logger.warn({ id, member: member.phone, err: String(err) }, "could not open a sender key copy");
      }
    }
    if (!(skmsg?.content instanceof Uint8Array)) return null;
    try {
      return proto.Message.decode(unpadRandomMax16(await phone.decryptGroup(group.jid, author, skmsg.content)));
    } catch (err) {
      this.ctx.logger.debug({ id, member: member.phone, err: String(err) }, "member could not decrypt group message");
      return null;
    }
  }

  /**
   * Delivers the message to every linked device of every member (the
   * sender's other devices too): the `skmsg`, with the device's own
   * pairwise copy (its sender key) when the sender made one.
   */
  private fanOut(
    sender: RealDevice,
    node: BinaryNode,
    group: SimGroup,
    copies: Array<{ user: SimUser; device: number; enc: BinaryNode }>,
    skmsg: BinaryNode | undefined,
  ): void {
    const lid = node.attrs.addressing_mode !== "pn";
    const identity = getBinaryNodeChild(node, "device-identity");
    const attrs: Record<string, string> = {
      id: node.attrs.id!,
      from: group.jid,
      type: node.attrs.type ?? "text",
      participant: lid ? sender.lidJid : sender.jid,
      ...(lid ? { participant_pn: sender.user.jid } : { participant_lid: sender.user.lidJid }),
      addressing_mode: lid ? "lid" : "pn",
      ...(node.attrs.edit ? { edit: node.attrs.edit } : {}),
    };
    for (const member of group.users()) {
      for (const device of member.activeDevices) {
        if (device === sender) continue;
        const own = copies.find((c) => c.user === member && c.device === device.device)?.enc;
        const content: BinaryNode[] = [];
        if (own) content.push(own);
        if (skmsg) content.push(skmsg);
        if (own?.attrs.type === "pkmsg" && identity) content.push(identity);
        if (content.length > 0) device.deliver({ tag: "message", attrs: { ...attrs, t: now() }, content }, attrs.id);
      }
    }
  }

  /** Each member whose phone read the message reports it delivered, then read, as `setReceipts` says. */
  private scheduleReceipts(sender: RealDevice, id: string, group: SimGroup, readers: string[]): void {
    const { delivery, read, delayMs } = this.ctx.receipts;
    const at = (ms: number, fn: () => void): void => (ms > 0 ? this.ctx.timers.after(ms, fn) : fn());
    if (delivery) at(delayMs, () => this.receipts([sender], id, group, readers, "delivery"));
    if (read) at(delivery ? 2 * delayMs : delayMs, () => this.receipts([sender], id, group, readers, "read"));
  }

  /**
   * Receipts of the simulated phones among `readers` (members with linked
   * devices send their own) to `devices`: one per member, naming it as
   * `participant`. Returns how many members reported.
   */
  private receipts(
    devices: RealDevice[],
    id: string,
    group: SimGroup,
    readers: string[],
    type: "delivery" | "read",
  ): number {
    let reported = 0;
    for (const phone of readers) {
      const member = this.ctx.registry.findByPhone(phone);
      if (!member || member.activeDevices.length > 0) continue;
      reported++;
      const attrs = { id, from: group.jid, participant: group.jidOf(member), t: now() };
      for (const device of devices) {
        device.deliver({ tag: "receipt", attrs: type === "read" ? { ...attrs, type: "read" } : attrs });
      }
    }
    return reported;
  }

  /** `POST /control/receipt` for a group message: every simulated phone that decrypted it reports now. */
  receiptsNow(devices: RealDevice[], sent: ReceivedMessage, type: "delivery" | "read"): void {
    const group = sent.group === undefined ? undefined : this.groups.find(sent.group);
    if (group) this.receipts(devices, sent.id, group, sent.decryptedBy ?? [], type);
  }

  /**
   * A linked member's receipt for a group message (`to` the group,
   * `participant` its author) goes to the author's devices, naming the
   * member, as WhatsApp passes group receipts on.
   */
  relayReceipt(reader: RealDevice, node: BinaryNode, ids: string[]): void {
    const group = this.groups.find(node.attrs.to ?? "");
    const author = node.attrs.participant ? this.ctx.registry.resolve(node.attrs.participant)?.user : undefined;
    if (!group || !author || author === reader.user || node.attrs.type === "server-error") return;
    for (const id of ids) {
      for (const device of author.activeDevices) {
        device.deliver({
          tag: "receipt",
          attrs: {
            id,
            from: group.jid,
            participant: group.jidOf(reader.user),
            t: now(),
            ...(node.attrs.type && node.attrs.type !== "inactive" ? { type: node.attrs.type } : {}),
          },
        });
      }
    }
  }

  /**
   * A simulated member sends to the group, as its phone does: one `skmsg`
   * under its sender key, plus the key itself (pairwise) to each linked
   * device that lacks it; `participant` names the sender.
   */
  async inbound(request: GroupInbound): Promise<{ id: string }> {
    const group = this.groups.find(request.group);
    if (!group) throw new ControlError(404, `no group ${request.group}`);
    if (!this.ctx.registry.isOnWhatsApp(request.from))
      throw new ControlError(409, `${request.from} is not on WhatsApp`);
    const sender = this.ctx.registry.user(request.from);
    if (!group.has(sender)) throw new ControlError(409, `${request.from} is not a member of group ${group.id}`);
    if (group.announce && !group.isAdmin(sender)) {
      throw new ControlError(409, `only admins send to group ${group.id} (announcement)`);
    }
    const id = request.id ?? generateMessageID();
    const lid = group.addressingMode === "lid" || request.fromLid === true;
    const message = await composeInbound(request.content, {
      sender,
      chat: group.jid,
      fromLid: lid,
      memory: this.memory,
      upload: (media, bytes) => this.ctx.media.inbound(id, media, bytes),
      userOf: (phone) => this.ctx.registry.findByPhone(phone),
    });
    this.memory.remember(id, { message, author: sender.phone });
    const participant = lid ? sender.lidJid : sender.jid;
    const state = this.senderKey(group, sender);
    const { ciphertext, distribution } = await sender.phoneDevice.encryptGroup(
      `${group.jid}#${state.generation}`,
      sender.lidJid,
      encodeWAMessage(message),
    );
    const attrs: Record<string, string> = {
      id,
      from: group.jid,
      type: request.type,
      participant,
      ...(lid ? { participant_pn: sender.jid } : { participant_lid: sender.lidJid }),
      addressing_mode: lid ? "lid" : "pn",
      ...(request.edit ? { edit: request.edit } : {}),
      ...(request.pushName ? { notify: request.pushName } : {}),
    };
    const keyMessage: proto.IMessage = {
      senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: distribution },
    };
    for (const member of group.users()) {
      if (member === sender) continue;
      for (const device of member.activeDevices) {
        const content: BinaryNode[] = [];
        // Baileys files the key under the participant jid: a device that got it under another name needs it again.
        const holder = `${device.lidJid}#${device.registrationId}#${participant}`;
        if (!state.holders.has(holder)) {
          const sealed = await this.seal(sender, device, keyMessage);
          if (sealed) {
            content.push(...sealed);
            state.holders.add(holder);
          }
        }
        content.push({ tag: "enc", attrs: { v: "2", type: "skmsg" }, content: ciphertext });
        device.deliver({ tag: "message", attrs: { ...attrs, t: now() }, content }, id);
      }
    }
    return { id };
  }

  private senderKey(group: SimGroup, sender: SimUser): SenderKeyState {
    let state = group.senderKeys.get(sender.phone);
    if (!state) group.senderKeys.set(sender.phone, (state = { generation: 0, holders: new Set() }));
    return state;
  }
}
