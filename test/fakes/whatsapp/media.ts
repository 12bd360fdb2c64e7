import { getBinaryNodeChild, getBinaryNodeChildBuffer, proto, unixTimestampSeconds } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimLogger } from "./logger.ts";
import { encryptMedia, openRetryPayload, sealRetryPayload } from "./media-crypto.ts";
import type { MediaKeyFamily } from "./media-crypto.ts";
import { FAMILY, mediaMessage } from "./media-inbound.ts";
import type { InboundMedia } from "./media-inbound.ts";
import { MediaServer } from "./media-server.ts";
import type { MediaFaultKind, MediaStats } from "./media-server.ts";
import type { StoredBlob } from "./media-store.ts";
import { findMedia, verifyMedia } from "./media-verify.ts";
import type { ReceivedMedia } from "./media-verify.ts";
import type { RealDevice } from "./registry.ts";

/** What a simulated phone keeps of a media message so it can upload it again when asked. */
interface KnownMedia {
  mediaKey: Uint8Array;
  family: MediaKeyFamily;
  blob: StoredBlob;
}

const MAX_KNOWN = 10_000;
const { ResultType } = proto.MediaRetryNotification;

/**
 * The media side of the simulator: the media server, verification of what
 * linked accounts send, encryption of what simulated contacts send, and the
 * phone's answer to a re-upload request (`updateMediaMessage`).
 */
export class SimMedia {
  /** Media keys by message id: messages the simulator sent or verified. */
  private readonly known = new Map<string, KnownMedia>();

  private constructor(
    readonly server: MediaServer,
    private readonly logger: SimLogger,
  ) {}

  static async start(options: { maxBytes: number; logger: SimLogger }): Promise<SimMedia> {
    return new SimMedia(await MediaServer.start(options), options.logger);
  }

  get caFile(): string {
    return this.server.caFile;
  }

  get stats(): MediaStats {
    return { ...this.server.stats };
  }

  /** The `<media_conn>` child of the answer to `w:m` `media_conn`. */
  connNode(): BinaryNode {
    return this.server.connNode();
  }

  /**
   * Verifies the media of a message a linked account sent, if it has any:
   * undefined for a message without media, else `media` or `mediaError`.
   */
  async inspect(
    id: string,
    message: proto.IMessage,
  ): Promise<{ media: ReceivedMedia } | { mediaError: string } | undefined> {
    const found = findMedia(message);
    if (!found) return undefined;
    const verified = await verifyMedia(found, this.server.store);
    if ("mediaError" in verified) {
      this.server.stats.verifyFailures++;
      this.logger.warn({ id, kind: found.kind, reason: verified.mediaError }, "media failed verification");
      return { mediaError: verified.mediaError };
    }
    this.server.stats.verified++;
    this.remember(id, { mediaKey: found.fields.mediaKey!, family: found.family, blob: verified.blob });
    return { media: verified.media };
  }

  /** Encrypts and stores a simulated contact's file; returns the message that announces it. */
  async inbound(id: string, media: InboundMedia, bytes: Buffer): Promise<proto.IMessage> {
    const family = FAMILY[media.kind];
    const encrypted = encryptMedia(bytes, family);
    const blob = await this.server.store.putBytes(encrypted.blob, encrypted.fileSha256.toString("hex"));
    this.server.stats.phoneUploads++;
    this.remember(id, { mediaKey: encrypted.mediaKey, family, blob });
    return mediaMessage(media, bytes.length, encrypted, {
      url: this.server.urlOf(blob),
      directPath: blob.directPath,
    });
  }

  /** Downloads of blobs with this plaintext hash (all when absent) answer 410 until re-uploaded. */
  expire(sha256?: string): number {
    return this.server.store.expire(sha256?.toLowerCase());
  }

  fault(kind: MediaFaultKind, times?: number): number {
    return this.server.fault(kind, times);
  }

  reset(): void {
    this.server.reset();
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /**
   * A `receipt type="server-error"` from `device`: its client asks the phone
   * to upload a message's media again. The phone checks the request (sealed
   * under the media's retry key), uploads the same bytes under a new path
   * and answers with a `mediaretry` notification carrying the sealed new
   * directPath; an unknown message gets an error code instead.
   */
  onRetryRequest(device: RealDevice, receipt: BinaryNode): void {
    const id = receipt.attrs.id;
    if (!id) return;
    const rmr = getBinaryNodeChild(receipt, "rmr");
    const answer = (content: BinaryNode[]): void =>
      device.deliver({
        tag: "notification",
        attrs: { from: device.user.jid, type: "mediaretry", id, t: String(unixTimestampSeconds()) },
        content: [...content, { tag: "rmr", attrs: { ...rmr?.attrs } }],
      });
    const known = this.known.get(id);
    if (!known) {
      this.logger.info({ id }, "re-upload asked for unknown media");
      answer([{ tag: "error", attrs: { code: String(ResultType.NOT_FOUND) } }]);
      return;
    }
    const sealed = (notification: proto.IMediaRetryNotification): BinaryNode => {
      const plain = proto.MediaRetryNotification.encode(notification).finish();
      const { ciphertext, iv } = sealRetryPayload(known.mediaKey, id, plain);
      return {
        tag: "encrypt",
        attrs: {},
        content: [
          { tag: "enc_p", attrs: {}, content: ciphertext },
          { tag: "enc_iv", attrs: {}, content: iv },
        ],
      };
    };
    if (!this.requestOpens(known, id, receipt)) {
      answer([sealed({ stanzaId: id, result: ResultType.DECRYPTION_ERROR })]);
      return;
    }
    known.blob = this.server.store.reupload(known.blob);
    this.server.stats.reuploads++;
    this.logger.info({ id, directPath: known.blob.directPath }, "media uploaded again");
    answer([sealed({ stanzaId: id, directPath: known.blob.directPath, result: ResultType.SUCCESS })]);
  }

  /** The request's sealed ServerErrorReceipt must open under the media's key and name this message. */
  private requestOpens(known: KnownMedia, id: string, receipt: BinaryNode): boolean {
    const encrypt = getBinaryNodeChild(receipt, "encrypt");
    const ciphertext = getBinaryNodeChildBuffer(encrypt, "enc_p");
    const iv = getBinaryNodeChildBuffer(encrypt, "enc_iv");
    if (!ciphertext || !iv) return false;
    try {
      const request = proto.ServerErrorReceipt.decode(openRetryPayload(known.mediaKey, id, ciphertext, iv));
      return request.stanzaId === id;
    } catch (err) {
      this.logger.warn({ id, err: String(err) }, "re-upload request does not open");
      return false;
    }
  }

  private remember(id: string, media: KnownMedia): void {
    this.known.set(id, media);
    if (this.known.size > MAX_KNOWN) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}
