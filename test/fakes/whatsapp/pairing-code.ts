import { randomBytes } from "node:crypto";
import {
  aesDecryptCTR,
  aesDecryptGCM,
  aesEncryptCTR,
  Curve,
  derivePairingCodeKey,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  hkdf,
  S_WHATSAPP_NET,
} from "@whiskeysockets/baileys";
import type { BinaryNode, KeyPair } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import { ControlError } from "./errors.ts";
import type { ExtraIqHandlers } from "./iq-handlers.ts";
import { IqError } from "./iq-handlers.ts";
import type { LinkResult, Pairing } from "./pairing.ts";
import { normalizePhone } from "./registry.ts";

interface PendingCode {
  conn: SimConnection;
  ref: string;
  wrappedCompanionKey: Buffer;
  /** Set once the phone entered the code. */
  entered?: {
    primaryEphemeral: KeyPair;
    companionEphemeral: Buffer;
    resolve: (r: LinkResult) => void;
    reject: (e: Error) => void;
  };
}

const FINISH_TIMEOUT_MS = 10_000;
const HELLO_WAIT_MS = 5_000;

/** Wraps/unwraps a 32-byte key as `salt(32) || iv(16) || AES-CTR(key)` under a code-derived key. */
async function wrapKey(code: string, key: Uint8Array): Promise<Buffer> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  return Buffer.concat([salt, iv, aesEncryptCTR(key, await derivePairingCodeKey(code, salt), iv)]);
}

async function unwrapKey(code: string, wrapped: Buffer): Promise<Buffer> {
  const secret = await derivePairingCodeKey(code, wrapped.subarray(0, 32));
  return aesDecryptCTR(wrapped.subarray(48, 80), secret, wrapped.subarray(32, 48));
}

/**
 * Linking by pairing code (`sock.requestPairingCode(phone)`): the client's
 * companion_hello, the phone entering the code (primary_hello
 * notification), the client's companion_finish, then the same pair-success
 * exchange as a QR scan, with the adv secret both sides derive.
 */
export class PairingCodes {
  private readonly byPhone = new Map<string, PendingCode>();

  constructor(
    private readonly ctx: SimContext,
    private readonly pairing: Pairing,
  ) {}

  iqHandlers(): ExtraIqHandlers {
    return { "md:set:link_code_companion_reg": (conn, iq) => this.onCompanionIq(conn, iq) };
  }

  private async onCompanionIq(conn: SimConnection, iq: BinaryNode): Promise<BinaryNode[] | undefined> {
    const reg = getBinaryNodeChild(iq, "link_code_companion_reg")!;
    const phone = normalizePhone(reg.attrs.jid ?? "");
    if (!phone || !conn.registration) throw new IqError(400, "bad-request");
    if (reg.attrs.stage === "companion_hello") {
      const wrapped = getBinaryNodeChildBuffer(reg, "link_code_pairing_wrapped_companion_ephemeral_pub");
      if (!wrapped || wrapped.length < 80) throw new IqError(400, "bad-request");
      const ref = randomBytes(16).toString("hex");
      this.byPhone.set(phone, { conn, ref, wrappedCompanionKey: Buffer.from(wrapped) });
      return [
        {
          tag: "link_code_companion_reg",
          attrs: {},
          content: [{ tag: "link_code_pairing_ref", attrs: {}, content: Buffer.from(ref) }],
        },
      ];
    }
    if (reg.attrs.stage === "companion_finish") {
      const pending = this.byPhone.get(phone);
      if (!pending?.entered || pending.conn !== conn) throw new IqError(404, "item-not-found");
      this.byPhone.delete(phone);
      const { entered } = pending;
      try {
        const advSecret = this.deriveAdvSecret(reg, entered.primaryEphemeral, entered.companionEphemeral, phone);
        this.pairing.link(conn, this.ctx.registry.user(phone), advSecret).then(entered.resolve, entered.reject);
      } catch (err) {
        entered.reject(new ControlError(400, `pairing failed (wrong code?): ${(err as Error).message}`));
        throw new IqError(400, "bad-request");
      }
      return undefined;
    }
    throw new IqError(400, "bad-request");
  }

  private deriveAdvSecret(
    reg: BinaryNode,
    primaryEphemeral: KeyPair,
    companionEphemeral: Buffer,
    phone: string,
  ): Uint8Array {
    const bundle = getBinaryNodeChildBuffer(reg, "link_code_pairing_wrapped_key_bundle");
    const companionIdentity = getBinaryNodeChildBuffer(reg, "companion_identity_public");
    if (!bundle || !companionIdentity) throw new Error("companion_finish without key bundle");
    const companionShared = Curve.sharedKey(primaryEphemeral.private, companionEphemeral);
    const wrapped = Buffer.from(bundle);
    const key = hkdf(companionShared, 32, {
      salt: wrapped.subarray(0, 32),
      info: "link_code_pairing_key_bundle_encryption_key",
    });
    // GCM authentication fails here when the code was wrong.
    const plain = aesDecryptGCM(wrapped.subarray(44), Buffer.from(key), wrapped.subarray(32, 44), Buffer.alloc(0));
    const random = plain.subarray(64, 96);
    const accountKey = this.ctx.registry.user(phone).phoneDevice.identityKey;
    const identityShared = Curve.sharedKey(accountKey.private, companionIdentity);
    return hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: "adv_secret" });
  }

  /** The phone `phone` types `code`; resolves once the client is linked. */
  async enter(phoneInput: string, code: string): Promise<LinkResult> {
    const phone = normalizePhone(phoneInput);
    if (!phone) throw new ControlError(400, "phone must be a phone number");
    if (!/^[A-Z0-9]{8}$/.test(code.replace("-", ""))) throw new ControlError(400, "code must be 8 characters");
    // requestPairingCode() does not wait for the server: give its IQ a moment.
    const deadline = Date.now() + HELLO_WAIT_MS;
    while (!this.byPhone.get(phone)?.conn.isOpen() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const pending = this.byPhone.get(phone);
    if (!pending?.conn.isOpen()) throw new ControlError(404, `no client requested a pairing code for ${phone}`);
    const cleanCode = code.replace("-", "");
    const companionEphemeral = await unwrapKey(cleanCode, pending.wrappedCompanionKey);
    const primaryEphemeral = Curve.generateKeyPair();
    const accountKey = this.ctx.registry.user(phone).phoneDevice.identityKey;
    const result = new Promise<LinkResult>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ControlError(504, "client did not finish code pairing")),
        FINISH_TIMEOUT_MS,
      );
      pending.entered = {
        primaryEphemeral,
        companionEphemeral,
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
    pending.conn.send({
      tag: "notification",
      attrs: {
        from: S_WHATSAPP_NET,
        type: "link_code_companion_reg",
        id: randomBytes(8).toString("hex"),
        t: String(Math.floor(Date.now() / 1000)),
      },
      content: [
        {
          tag: "link_code_companion_reg",
          attrs: { stage: "primary_hello" },
          content: [
            { tag: "link_code_pairing_ref", attrs: {}, content: Buffer.from(pending.ref) },
            { tag: "primary_identity_pub", attrs: {}, content: accountKey.public },
            {
              tag: "link_code_pairing_wrapped_primary_ephemeral_pub",
              attrs: {},
              content: await wrapKey(cleanCode, primaryEphemeral.public),
            },
          ],
        },
      ],
    });
    return result;
  }
}
