import {
  addTransactionCapability,
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  encodeBigEndian,
  generateSignalPubKey,
  KEY_BUNDLE_TYPE,
  signedKeyPair,
  xmppPreKey,
  xmppSignedPreKey,
} from "@whiskeysockets/baileys";
import type {
  BinaryNode,
  KeyPair,
  SignalDataSet,
  SignalDataTypeMap,
  SignalKeyStore,
  SignalRepositoryWithLIDStore,
  SignedKeyPair,
} from "@whiskeysockets/baileys";
import { randomInt } from "node:crypto";
import { silentLogger } from "./logger.ts";

/** A Signal key store held in memory: the simulated devices own no files. */
export function createMemoryKeyStore(): SignalKeyStore {
  const data = new Map<string, Map<string, unknown>>();
  return {
    get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const bucket = data.get(type);
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const value = bucket?.get(id);
        if (value !== undefined) out[id] = value as SignalDataTypeMap[T];
      }
      return out;
    },
    set(update: SignalDataSet) {
      for (const [type, entries] of Object.entries(update)) {
        let bucket = data.get(type);
        if (!bucket) data.set(type, (bucket = new Map()));
        for (const [id, value] of Object.entries(entries ?? {})) {
          if (value === null || value === undefined) bucket.delete(id);
          else bucket.set(id, value);
        }
      }
    },
    clear() {
      data.clear();
    },
  };
}

/** The public half of a device's Signal bundle, as the server hands it out. */
export interface PublicBundle {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  preKey?: { keyId: number; publicKey: Uint8Array } | undefined;
}

/** Renders a bundle as the `<user>` node of an `encrypt get <key>` answer. */
export function bundleToNode(jid: string, bundle: PublicBundle): BinaryNode {
  const content: BinaryNode[] = [
    { tag: "registration", attrs: {}, content: encodeBigEndian(bundle.registrationId) },
    { tag: "type", attrs: {}, content: KEY_BUNDLE_TYPE },
    { tag: "identity", attrs: {}, content: bundle.identityKey },
    xmppSignedPreKey({
      keyId: bundle.signedPreKey.keyId,
      signature: bundle.signedPreKey.signature,
      keyPair: { public: bundle.signedPreKey.publicKey, private: new Uint8Array(0) },
    }),
  ];
  if (bundle.preKey) {
    const pair = { public: bundle.preKey.publicKey, private: new Uint8Array(0) };
    content.splice(3, 0, xmppPreKey(pair, bundle.preKey.keyId));
  }
  return { tag: "user", attrs: { jid }, content };
}

/**
 * A device the simulator plays itself (a contact's phone, or the primary
 * phone of a linked account): a real Signal identity driven by Baileys' own
 * `makeLibSignalRepository`, so it can hand out bundles with fresh one-time
 * prekeys, decrypt what real clients send it and encrypt what it sends them.
 * Sessions are addressed by the remote device's LID jid.
 */
export class SignalPeer {
  readonly identityKey: KeyPair = Curve.generateKeyPair();
  readonly registrationId = randomInt(1, 16380);
  private readonly signedPreKey: SignedKeyPair = signedKeyPair(this.identityKey, 1);
  private readonly keys = addTransactionCapability(createMemoryKeyStore(), silentLogger, {
    maxCommitRetries: 1,
    delayBetweenTriesMs: 0,
  });
  private readonly repo: SignalRepositoryWithLIDStore;
  private nextPreKeyId = 1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor() {
    this.repo = DEFAULT_CONNECTION_CONFIG.makeSignalRepository(
      {
        creds: {
          signedIdentityKey: this.identityKey,
          signedPreKey: this.signedPreKey,
          registrationId: this.registrationId,
        },
        keys: this.keys,
      },
      silentLogger,
    );
  }

  /** A bundle with a one-time prekey never handed out before. */
  async freshBundle(): Promise<PublicBundle> {
    const keyId = this.nextPreKeyId++;
    const pair = Curve.generateKeyPair();
    await this.keys.set({ "pre-key": { [String(keyId)]: pair } });
    return {
      registrationId: this.registrationId,
      identityKey: this.identityKey.public,
      signedPreKey: {
        keyId: this.signedPreKey.keyId,
        publicKey: this.signedPreKey.keyPair.public,
        signature: this.signedPreKey.signature,
      },
      preKey: { keyId, publicKey: pair.public },
    };
  }

  /** Decrypts a `pkmsg`/`msg` from `fromJid`; returns the unpadded plaintext. */
  decrypt(fromJid: string, type: "pkmsg" | "msg", ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.serialize(() => this.repo.decryptMessage({ jid: fromJid, type, ciphertext }));
  }

  /**
   * Encrypts padded message bytes for `toJid`, first building a session from
   * `bundle()` when there is none yet (the message is then a `pkmsg`).
   */
  encrypt(
    toJid: string,
    data: Uint8Array,
    bundle: () => PublicBundle | undefined,
  ): Promise<{ type: "pkmsg" | "msg"; ciphertext: Uint8Array }> {
    return this.serialize(async () => {
      const { exists } = await this.repo.validateSession(toJid);
      if (!exists) {
        const remote = bundle();
        if (!remote) throw new Error(`no prekey bundle for ${toJid}`);
        await this.repo.injectE2ESession({
          jid: toJid,
          session: {
            registrationId: remote.registrationId,
            identityKey: generateSignalPubKey(remote.identityKey),
            signedPreKey: {
              keyId: remote.signedPreKey.keyId,
              publicKey: generateSignalPubKey(remote.signedPreKey.publicKey),
              signature: remote.signedPreKey.signature,
            },
            ...(remote.preKey
              ? {
                  preKey: {
                    keyId: remote.preKey.keyId,
                    publicKey: generateSignalPubKey(remote.preKey.publicKey),
                  },
                }
              : {}),
          },
        });
      }
      return this.repo.encryptMessage({ jid: toJid, data });
    });
  }

  /**
   * Encrypts padded message bytes for a group with this device's own sender
   * key under the local name `keyName` (created on first use): one `skmsg`
   * for every member, and the distribution message that lets them read it.
   */
  encryptGroup(
    keyName: string,
    meJid: string,
    data: Uint8Array,
  ): Promise<{ ciphertext: Uint8Array; distribution: Uint8Array }> {
    return this.serialize(async () => {
      const { ciphertext, senderKeyDistributionMessage } = await this.repo.encryptGroupMessage({
        group: keyName,
        meId: meJid,
        data,
      });
      return { ciphertext, distribution: senderKeyDistributionMessage };
    });
  }

  /** Stores the sender key `authorJid` distributed for group `groupJid` (a SenderKeyDistributionMessage). */
  acceptSenderKey(groupJid: string, authorJid: string, distribution: Uint8Array): Promise<void> {
    return this.serialize(() =>
      this.repo.processSenderKeyDistributionMessage({
        authorJid,
        item: { groupId: groupJid, axolotlSenderKeyDistributionMessage: distribution },
      }),
    );
  }

  /** Decrypts a `skmsg` `authorJid` sent to group `groupJid`; returns the plaintext, still padded. */
  decryptGroup(groupJid: string, authorJid: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.serialize(() => this.repo.decryptGroupMessage({ group: groupJid, authorJid, msg: ciphertext }));
  }

  /** Forgets the session with `jid` (after the remote device re-registered). */
  dropSession(jid: string): Promise<void> {
    return this.serialize(() => this.repo.deleteSession([jid]));
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
