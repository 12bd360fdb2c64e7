import { Curve, hmacSign, proto, WA_ADV_ACCOUNT_SIG_PREFIX, WA_ADV_DEVICE_SIG_PREFIX } from "@whiskeysockets/baileys";
import type { KeyPair } from "@whiskeysockets/baileys";

interface CurveModule {
  verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

let curveModule: Promise<CurveModule> | undefined;

/**
 * A signature check that really checks. Baileys' `Curve.verify` only reports
 * a throw, and libsignal 6 returns false instead of throwing, so we call
 * libsignal's curve directly (loaded dynamically: it ships no types).
 */
export async function verifyCurveSignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const specifier: string = "libsignal/src/curve.js";
  curveModule ??= import(specifier) as Promise<CurveModule>;
  const curve = await curveModule;
  const prefixed = publicKey.length === 33 ? publicKey : Buffer.concat([Buffer.from([5]), publicKey]);
  try {
    return curve.verifySignature(prefixed, message, signature) === true;
  } catch {
    return false;
  }
}

/** The fields of a v7 QR string: `https://wa.me/settings/linked_devices#ref,noise,identity,adv,platform`. */
export interface QrData {
  ref: string;
  noiseKey: Buffer;
  identityKey: Buffer;
  advSecret: Buffer;
  platformId: string;
}

/** Parses a QR string as Baileys 7 builds it; throws on anything else. */
export function parseQr(qr: string): QrData {
  const hashAt = qr.indexOf("#");
  const body = qr.startsWith("https://wa.me/settings/linked_devices#") ? qr.slice(hashAt + 1) : qr;
  const parts = body.split(",");
  if (parts.length < 4) throw new Error("QR string must have at least 4 comma-separated fields");
  const [ref, noise, identity, adv, platformId] = parts as [string, string, string, string, string?];
  const noiseKey = Buffer.from(noise, "base64");
  const identityKey = Buffer.from(identity, "base64");
  const advSecret = Buffer.from(adv, "base64");
  if (!ref || noiseKey.length !== 32 || identityKey.length !== 32 || advSecret.length !== 32) {
    throw new Error("QR string fields are not ref + three 32-byte base64 keys");
  }
  return { ref, noiseKey, identityKey, advSecret, platformId: platformId ?? "" };
}

/** The account's signature over a new device, as the phone produces it when linking. */
export function signDeviceIdentity(opts: {
  accountKey: KeyPair;
  deviceIdentityKey: Uint8Array;
  keyIndex: number;
}): proto.ADVSignedDeviceIdentity {
  const details = proto.ADVDeviceIdentity.encode({
    rawId: Math.floor(Math.random() * 2 ** 31),
    timestamp: Math.floor(Date.now() / 1000),
    keyIndex: opts.keyIndex,
  }).finish();
  const accountSignature = Curve.sign(
    opts.accountKey.private,
    Buffer.concat([WA_ADV_ACCOUNT_SIG_PREFIX, details, opts.deviceIdentityKey]),
  );
  return proto.ADVSignedDeviceIdentity.create({
    details,
    accountSignatureKey: opts.accountKey.public,
    accountSignature,
  });
}

/** Wraps a signed identity in the HMAC envelope keyed by the QR's adv secret. */
export function hmacEnvelope(signed: proto.IADVSignedDeviceIdentity, advSecret: Uint8Array): Uint8Array {
  const details = proto.ADVSignedDeviceIdentity.encode(signed).finish();
  return proto.ADVSignedDeviceIdentityHMAC.encode({
    details,
    hmac: hmacSign(details, Buffer.from(advSecret)),
  }).finish();
}

/** The message a device signs to accept its account: `[6,1] || details || identity || accountKey`. */
export function deviceSignatureMessage(
  details: Uint8Array,
  deviceIdentityKey: Uint8Array,
  accountKey: Uint8Array,
): Buffer {
  return Buffer.concat([WA_ADV_DEVICE_SIG_PREFIX, details, deviceIdentityKey, accountKey]);
}

/** Checks the `<pair-device-sign>` identity a client sends back after pair-success. */
export async function verifyDeviceSignature(
  encoded: Uint8Array,
  deviceIdentityKey: Uint8Array,
  accountKey: Uint8Array,
): Promise<{ ok: boolean; keyIndex: number }> {
  const signed = proto.ADVSignedDeviceIdentity.decode(encoded);
  if (!signed.details || !signed.deviceSignature) return { ok: false, keyIndex: 0 };
  const { keyIndex } = proto.ADVDeviceIdentity.decode(signed.details);
  const ok = await verifyCurveSignature(
    deviceIdentityKey,
    deviceSignatureMessage(signed.details, deviceIdentityKey, accountKey),
    signed.deviceSignature,
  );
  return { ok, keyIndex: keyIndex ?? 0 };
}
