import { createSignalIdentity, Curve, initAuthCreds } from "@whiskeysockets/baileys";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { deviceSignatureMessage, signDeviceIdentity } from "./adv.ts";
import type { SimUser } from "./registry.ts";

/** An account linked without a QR: creds ready for Baileys' auth state. */
export interface ProvisionedAccount {
  phone: string;
  /** Device jid, e.g. `15550001:1@s.whatsapp.net`. */
  jid: string;
  /** Device LID, e.g. `123456789012345:1@lid`. */
  lid: string;
  creds: AuthenticationCreds;
}

/**
 * Creates a new linked device for `user` with fresh Baileys creds, signed as
 * the phone would sign it, and registers its signed prekey with the
 * simulator. `accountSyncCounter = 1` skips Baileys' 20 s initial-sync wait.
 */
export function provisionDevice(user: SimUser, name?: string): ProvisionedAccount {
  const creds = initAuthCreds();
  const device = user.addDevice();
  const accountKey = user.phoneDevice.identityKey;
  const account = signDeviceIdentity({
    accountKey,
    deviceIdentityKey: creds.signedIdentityKey.public,
    keyIndex: device.keyIndex,
  });
  account.deviceSignature = Curve.sign(
    creds.signedIdentityKey.private,
    deviceSignatureMessage(account.details!, creds.signedIdentityKey.public, accountKey.public),
  );
  creds.me = { id: device.jid, lid: device.lidJid, ...(name ? { name } : {}) };
  creds.account = account;
  creds.signalIdentities = [createSignalIdentity(device.lidJid, accountKey.public)];
  creds.platform = "android";
  creds.registered = true;
  creds.accountSyncCounter = 1;
  device.registrationId = creds.registrationId;
  device.identityKey = creds.signedIdentityKey.public;
  device.signedPreKey = {
    keyId: creds.signedPreKey.keyId,
    publicKey: creds.signedPreKey.keyPair.public,
    signature: creds.signedPreKey.signature,
  };
  return { phone: user.phone, jid: device.jid, lid: device.lidJid, creds };
}
