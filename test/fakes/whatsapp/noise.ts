import {
  aesDecryptGCM,
  aesEncryptGCM,
  Curve,
  hkdf,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  sha256,
  WA_CERT_DETAILS,
} from "@whiskeysockets/baileys";
import type { KeyPair } from "@whiskeysockets/baileys";

const EMPTY = Buffer.alloc(0);

function counterIv(counter: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

/**
 * The simulator's server identity: a Noise static key and a two-level
 * certificate chain (root -> intermediate -> leaf) signed with its own root.
 */
export interface ServerIdentity {
  staticKey: KeyPair;
  rootKey: KeyPair;
  certChain: Uint8Array;
}

/** Creates a fresh server identity; the root is ours, not WhatsApp's. */
export function createServerIdentity(): ServerIdentity {
  const rootKey = Curve.generateKeyPair();
  const intermediateKey = Curve.generateKeyPair();
  const staticKey = Curve.generateKeyPair();
  const notAfter = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
  // Baileys checks that the intermediate names issuer serial 0 (the root).
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 1,
    issuerSerial: WA_CERT_DETAILS.SERIAL,
    key: intermediateKey.public,
    notAfter,
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: 1,
    key: staticKey.public,
    notAfter,
  }).finish();
  const certChain = proto.CertChain.encode({
    intermediate: {
      details: intermediateDetails,
      signature: Curve.sign(rootKey.private, intermediateDetails),
    },
    leaf: { details: leafDetails, signature: Curve.sign(intermediateKey.private, leafDetails) },
  }).finish();
  return { staticKey, rootKey, certChain };
}

/** Symmetric keys of an established Noise session, server side. */
export class NoiseTransport {
  private readCounter = 0;
  private writeCounter = 0;

  constructor(
    private readonly encKey: Buffer,
    private readonly decKey: Buffer,
  ) {}

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.encKey, counterIv(this.writeCounter++), EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.decKey, counterIv(this.readCounter++), EMPTY);
  }
}

/** What the client revealed when it finished the handshake. */
export interface HandshakeResult {
  clientStaticKey: Buffer;
  payload: proto.ClientPayload;
  transport: NoiseTransport;
}

/**
 * Noise XX, responder side, mirroring Baileys' `makeNoiseHandler` step by
 * step: same running hash, same single counter shared by encrypt/decrypt,
 * reset by every key mix.
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private readonly ephemeral = Curve.generateKeyPair();

  constructor(private readonly identity: ServerIdentity) {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.byteLength === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
    this.authenticate(NOISE_WA_HEADER);
  }

  /** Answers `clientHello` with `serverHello`; returns the bytes to frame. */
  respondToHello(helloFrame: Uint8Array): Uint8Array {
    const hello = proto.HandshakeMessage.decode(helloFrame).clientHello;
    if (!hello?.ephemeral || hello.ephemeral.length !== 32) {
      throw new Error("noise: clientHello without a 32-byte ephemeral key");
    }
    const clientEphemeral = Buffer.from(hello.ephemeral);
    this.clientEphemeral = clientEphemeral;
    this.authenticate(clientEphemeral);
    this.authenticate(this.ephemeral.public);
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientEphemeral));
    const encStatic = this.encrypt(this.identity.staticKey.public);
    this.mixIntoKey(Curve.sharedKey(this.identity.staticKey.private, clientEphemeral));
    const encPayload = this.encrypt(this.identity.certChain);
    return proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encStatic, payload: encPayload },
    }).finish();
  }

  private clientEphemeral: Buffer | undefined;

  /** Processes `clientFinish`; returns the client payload and transport keys. */
  finish(finishFrame: Uint8Array): HandshakeResult {
    const finish = proto.HandshakeMessage.decode(finishFrame).clientFinish;
    if (!finish?.static || !finish.payload || !this.clientEphemeral) {
      throw new Error("noise: clientFinish missing static or payload");
    }
    const clientStaticKey = this.decrypt(finish.static);
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStaticKey));
    const payload = proto.ClientPayload.decode(this.decrypt(finish.payload));
    const keys = hkdf(EMPTY, 64, { salt: this.salt, info: "" });
    // The client writes with the first half and reads with the second.
    const clientWrite = Buffer.from(keys.subarray(0, 32));
    const clientRead = Buffer.from(keys.subarray(32));
    return { clientStaticKey, payload, transport: new NoiseTransport(clientRead, clientWrite) };
  }

  private authenticate(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  private mixIntoKey(material: Uint8Array): void {
    const out = hkdf(Buffer.from(material), 64, { salt: this.salt, info: "" });
    this.salt = Buffer.from(out.subarray(0, 32));
    this.key = Buffer.from(out.subarray(32));
    this.counter = 0;
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const out = aesEncryptGCM(plaintext, this.key, counterIv(this.counter++), this.hash);
    this.authenticate(out);
    return out;
  }

  private decrypt(ciphertext: Uint8Array): Buffer {
    const out = aesDecryptGCM(ciphertext, this.key, counterIv(this.counter++), this.hash);
    this.authenticate(ciphertext);
    return out;
  }
}
