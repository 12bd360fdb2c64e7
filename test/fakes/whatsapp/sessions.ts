import { S_WHATSAPP_NET } from "@whiskeysockets/baileys";
import type { BinaryNode, proto } from "@whiskeysockets/baileys";
import type { ConnectionEvents, SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import { streamErrorNode } from "./faults.ts";
import { answerIq } from "./iq-handlers.ts";
import type { ExtraIqHandlers } from "./iq-handlers.ts";
import type { Messaging } from "./messaging.ts";
import type { Pairing } from "./pairing.ts";
import { recordPresence } from "./presence.ts";
import type { RealDevice } from "./registry.ts";

/**
 * The life of each connection after its Noise handshake: registration (QR)
 * or login, then every node the client sends, routed to its handler.
 */
export class Sessions implements ConnectionEvents {
  readonly connections = new Set<SimConnection>();

  constructor(
    private readonly ctx: SimContext,
    private readonly pairing: Pairing,
    private readonly messaging: Messaging,
    private readonly extraIqs: ExtraIqHandlers,
  ) {}

  onPayload(conn: SimConnection, payload: proto.ClientPayload): void {
    if (Date.now() < this.ctx.outageUntil) {
      conn.close();
      return;
    }
    if (payload.username === null || payload.username === undefined) {
      this.pairing.startRegistration(conn, payload);
      return;
    }
    this.login(conn, String(payload.username), payload.device ?? 0);
  }

  private login(conn: SimConnection, phone: string, deviceId: number): void {
    const { registry, acceptUnknownDevices } = this.ctx;
    const user = acceptUnknownDevices ? registry.user(phone) : registry.findByPhone(phone);
    let device = user?.devices.get(deviceId);
    if (!device && user && acceptUnknownDevices && deviceId > 0) device = user.addDevice(deviceId);
    if (!device || device.removed) {
      this.ctx.logger.info({ conn: conn.id, phone, deviceId }, "login refused: device not linked");
      conn.sendAndEnd({ tag: "failure", attrs: { reason: "401", location: "simulator" } });
      return;
    }
    const previous = device.connection;
    if (previous && previous !== conn && previous.isOpen()) {
      (previous as SimConnection).sendAndEnd(streamErrorNode(440));
    }
    conn.device = device;
    device.connection = conn;
    this.ctx.log.connected(phone);
    this.ctx.logger.info({ conn: conn.id, jid: device.jid }, "logged in");
    conn.send({
      tag: "success",
      attrs: {
        t: String(Math.floor(Date.now() / 1000)),
        lid: device.lidJid,
        props: "1",
        abprops: "1",
        location: "simulator",
        creation: "0",
      },
    });
    this.flushMailbox(conn, device);
  }

  /** Redelivers what the device missed, flagged offline, then the offline marker. */
  private flushMailbox(conn: SimConnection, device: RealDevice): void {
    let count = 0;
    for (const node of device.unacked.values()) {
      conn.send({ ...node, attrs: { ...node.attrs, offline: "1" } });
      count++;
    }
    for (const node of device.mailbox.splice(0)) {
      conn.send({ ...node, attrs: { ...node.attrs, offline: "1" } });
      count++;
    }
    conn.send({
      tag: "ib",
      attrs: { from: S_WHATSAPP_NET },
      content: [{ tag: "offline", attrs: { count: String(count) } }],
    });
  }

  async onNode(conn: SimConnection, node: BinaryNode): Promise<void> {
    switch (node.tag) {
      case "iq":
        if (node.attrs.type === "get" || node.attrs.type === "set") {
          await answerIq(conn, node, this.ctx, this.extraIqs);
        }
        return;
      case "message":
        await this.messaging.onClientMessage(conn, node);
        return;
      case "receipt":
        this.messaging.onClientReceipt(conn, node);
        return;
      case "ack":
        this.messaging.onClientAck(conn, node);
        return;
      case "presence":
      case "chatstate":
        if (conn.device) recordPresence(this.ctx, conn.device, node);
        return;
      default:
        // ib (unified_session), call...: nothing to answer.
        this.ctx.logger.debug({ conn: conn.id, tag: node.tag }, "ignored node");
    }
  }

  onClose(conn: SimConnection): void {
    this.connections.delete(conn);
    this.pairing.forget(conn);
    if (conn.device?.connection === conn) conn.device.connection = undefined;
  }

  /** Open connections logged in as `phone`, or all connections. */
  select(phone?: string): SimConnection[] {
    return [...this.connections].filter((c) => phone === undefined || c.device?.user.phone === phone);
  }
}
