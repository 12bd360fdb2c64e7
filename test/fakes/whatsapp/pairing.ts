import { randomBytes } from "node:crypto";
import { getBinaryNodeChild, getBinaryNodeChildBuffer, S_WHATSAPP_NET } from "@whiskeysockets/baileys";
import type { BinaryNode, proto } from "@whiskeysockets/baileys";
import { hmacEnvelope, parseQr, signDeviceIdentity, verifyDeviceSignature } from "./adv.ts";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import { normalizePhone } from "./registry.ts";
import type { RealDevice, SimUser } from "./registry.ts";

const PAIR_REPLY_TIMEOUT_MS = 10_000;

/** Where a device was linked to. */
export interface LinkResult {
  jid: string;
  lid: string;
}

/**
 * Linking a fresh client: hands it QR refs, then plays the phone that scans
 * one (pair-success with a signed device identity), checks the client's
 * counter-signature and asks it to restart (515).
 */
export class Pairing {
  private readonly byRef = new Map<string, SimConnection>();

  constructor(private readonly ctx: SimContext) {}

  /** A client without `me` connected: remember its keys and send QR refs. */
  startRegistration(conn: SimConnection, payload: proto.ClientPayload): void {
    const data = payload.devicePairingData;
    if (!data?.eRegid || !data.eIdent || !data.eSkeyId || !data.eSkeyVal || !data.eSkeySig) {
      conn.sendAndEnd({ tag: "failure", attrs: { reason: "400" } });
      return;
    }
    conn.registration = {
      registrationId: Buffer.from(data.eRegid).readUInt32BE(0),
      identityKey: Buffer.from(data.eIdent),
      signedPreKey: {
        keyId: Buffer.from(data.eSkeyId).readUIntBE(0, 3),
        publicKey: Buffer.from(data.eSkeyVal),
        signature: Buffer.from(data.eSkeySig),
      },
    };
    const refs: BinaryNode[] = [];
    for (let i = 0; i < this.ctx.qrRefs; i++) {
      const ref = `2@${randomBytes(24).toString("base64")}`;
      this.byRef.set(ref, conn);
      refs.push({ tag: "ref", attrs: {}, content: Buffer.from(ref) });
    }
    conn.sendIq(
      {
        tag: "iq",
        attrs: { from: S_WHATSAPP_NET, type: "set", xmlns: "md" },
        content: [{ tag: "pair-device", attrs: {}, content: refs }],
      },
      () => undefined,
    );
  }

  /** Drops the refs of a closed connection. */
  forget(conn: SimConnection): void {
    for (const [ref, owner] of this.byRef) if (owner === conn) this.byRef.delete(ref);
  }

  /** The simulated phone `phone` scans `qr`; resolves once the client accepted the link. */
  async scan(qr: string, phoneInput: string): Promise<LinkResult> {
    const phone = normalizePhone(String(phoneInput ?? ""));
    if (!phone) throw new ControlError(400, "phone must be a phone number");
    let data;
    try {
      data = parseQr(String(qr ?? ""));
    } catch (err) {
      throw new ControlError(400, `bad QR string: ${(err as Error).message}`);
    }
    const conn = this.byRef.get(data.ref);
    if (!conn?.isOpen() || !conn.registration) throw new ControlError(404, "no connected client shows this QR");
    if (!Buffer.from(conn.registration.identityKey).equals(data.identityKey)) {
      throw new ControlError(400, "QR identity key does not match the registering client");
    }
    if (conn.clientStaticKey && !Buffer.from(conn.clientStaticKey).equals(data.noiseKey)) {
      throw new ControlError(400, "QR noise key does not match the registering client");
    }
    this.forget(conn);
    return this.link(conn, this.ctx.registry.user(phone), data.advSecret);
  }

  /**
   * Sends pair-success for a new device of `user` and waits for the client's
   * pair-device-sign. Shared by QR and pairing-code linking.
   */
  link(conn: SimConnection, user: SimUser, advSecret: Uint8Array): Promise<LinkResult> {
    const registration = conn.registration!;
    const device = user.addDevice();
    device.removed = true; // invisible until the client signs
    const accountKey = user.phoneDevice.identityKey;
    const signed = signDeviceIdentity({
      accountKey,
      deviceIdentityKey: registration.identityKey,
      keyIndex: device.keyIndex,
    });
    return new Promise<LinkResult>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ControlError(504, "client did not answer pair-success")),
        PAIR_REPLY_TIMEOUT_MS,
      );
      conn.sendIq(
        {
          tag: "iq",
          attrs: { from: S_WHATSAPP_NET, type: "set", t: String(Math.floor(Date.now() / 1000)) },
          content: [
            {
              tag: "pair-success",
              attrs: {},
              content: [
                { tag: "device-identity", attrs: {}, content: hmacEnvelope(signed, advSecret) },
                { tag: "platform", attrs: { name: "android" } },
                { tag: "device", attrs: { jid: device.jid, lid: device.lidJid } },
              ],
            },
          ],
        },
        (reply) => {
          clearTimeout(timer);
          this.onPairReply(conn, device, reply, accountKey.public).then(resolve, reject);
        },
      );
    });
  }

  private async onPairReply(
    conn: SimConnection,
    device: RealDevice,
    reply: BinaryNode,
    accountKey: Uint8Array,
  ): Promise<LinkResult> {
    const registration = conn.registration!;
    const identity = getBinaryNodeChildBuffer(getBinaryNodeChild(reply, "pair-device-sign"), "device-identity");
    const check = identity
      ? await verifyDeviceSignature(identity, registration.identityKey, accountKey)
      : { ok: false };
    if (!check.ok) {
      device.user.devices.delete(device.device);
      conn.sendAndEnd({ tag: "failure", attrs: { reason: "401" } });
      throw new ControlError(502, "client's pair-device-sign did not verify");
    }
    device.removed = false;
    device.registrationId = registration.registrationId;
    device.identityKey = registration.identityKey;
    device.signedPreKey = registration.signedPreKey;
    this.ctx.logger.info({ conn: conn.id, jid: device.jid }, "device linked");
    conn.sendAndEnd({ tag: "stream:error", attrs: { code: "515" } });
    return { jid: device.jid, lid: device.lidJid };
  }
}
