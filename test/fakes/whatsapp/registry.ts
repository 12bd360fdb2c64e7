import { createHash } from "node:crypto";
import { jidDecode } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import { SignalPeer } from "./signal-peer.ts";
import type { PublicBundle } from "./signal-peer.ts";

/** What a device needs from its live connection. */
export interface ConnectionHandle {
  readonly id: number;
  isOpen(): boolean;
  send(node: BinaryNode): void;
}

/** Stanzas kept for a device until it acknowledges them (bounded). */
const MAX_PENDING_PER_DEVICE = 5_000;

/** A companion device run by a real client (Baileys): its uploaded keys and mailbox. */
export class RealDevice {
  registrationId: number | undefined;
  identityKey: Uint8Array | undefined;
  signedPreKey: PublicBundle["signedPreKey"] | undefined;
  /** One-time prekeys uploaded and not yet handed out, oldest first. */
  preKeys: Array<{ keyId: number; publicKey: Uint8Array }> = [];
  removed = false;
  connection: ConnectionHandle | undefined;
  /** Messages sent to this device and not yet receipted/acked, by id. */
  readonly unacked = new Map<string, BinaryNode>();
  /** Other stanzas (receipts) produced while the device was offline. */
  readonly mailbox: BinaryNode[] = [];

  constructor(
    readonly user: SimUser,
    readonly device: number,
    readonly keyIndex: number,
  ) {}

  get jid(): string {
    return `${this.user.phone}:${this.device}@s.whatsapp.net`;
  }

  get lidJid(): string {
    return `${this.user.lid}:${this.device}@lid`;
  }

  get online(): boolean {
    return !!this.connection?.isOpen();
  }

  /** The device's bundle with one one-time prekey taken off the list. */
  takeBundle(): PublicBundle | undefined {
    if (this.registrationId === undefined || !this.identityKey || !this.signedPreKey) return undefined;
    return {
      registrationId: this.registrationId,
      identityKey: this.identityKey,
      signedPreKey: this.signedPreKey,
      preKey: this.preKeys.shift(),
    };
  }

  /** Sends now when online; keeps messages (those with an id) until acknowledged. */
  deliver(node: BinaryNode, trackId?: string): void {
    if (trackId) {
      this.unacked.set(trackId, node);
      if (this.unacked.size > MAX_PENDING_PER_DEVICE) {
        const oldest = this.unacked.keys().next().value;
        if (oldest !== undefined) this.unacked.delete(oldest);
      }
    } else if (!this.online) {
      this.mailbox.push(node);
      if (this.mailbox.length > MAX_PENDING_PER_DEVICE) this.mailbox.shift();
      return;
    }
    if (this.online) this.connection!.send(node);
  }
}

/** A WhatsApp user: a phone number, its LID, its simulated phone and its linked devices. */
export class SimUser {
  readonly devices = new Map<number, RealDevice>();
  private nextDeviceId = 1;
  private peer: SignalPeer | undefined;

  constructor(
    readonly phone: string,
    readonly lid: string,
  ) {}

  get jid(): string {
    return `${this.phone}@s.whatsapp.net`;
  }

  get lidJid(): string {
    return `${this.lid}@lid`;
  }

  /** The simulated primary phone (device 0): also the account's ADV signing key. */
  get phoneDevice(): SignalPeer {
    return (this.peer ??= new SignalPeer());
  }

  /** Linked devices still registered. */
  get activeDevices(): RealDevice[] {
    return [...this.devices.values()].filter((d) => !d.removed);
  }

  addDevice(device?: number): RealDevice {
    const id = device ?? this.nextDeviceId;
    this.nextDeviceId = Math.max(this.nextDeviceId, id + 1);
    const created = new RealDevice(this, id, id);
    this.devices.set(id, created);
    return created;
  }
}

/** Phone numbers: digits only, as WhatsApp user parts are. */
export function normalizePhone(input: string): string | undefined {
  const digits = input.replace(/^\+/, "").split("@")[0]!.split(":")[0]!;
  return /^\d{5,20}$/.test(digits) ? digits : undefined;
}

/** A stable 15-digit LID for a phone number (same number, same LID, every run). */
export function lidForPhone(phone: string): string {
  const hash = createHash("sha256").update(`lid:${phone}`).digest();
  const n = hash.readBigUInt64BE(0) % 90_000_000_000_000n;
  return (10_000_000_000_000n + n).toString();
}

/** Every user the simulator knows; users are created on first mention. */
export class Registry {
  private readonly byPhone = new Map<string, SimUser>();
  private readonly byLid = new Map<string, SimUser>();
  /** Numbers made unknown to WhatsApp (`POST /control/contacts`); every other number has an account. */
  private readonly offWhatsApp = new Set<string>();

  user(phone: string): SimUser {
    let user = this.byPhone.get(phone);
    if (!user) {
      user = new SimUser(phone, lidForPhone(phone));
      this.byPhone.set(phone, user);
      this.byLid.set(user.lid, user);
    }
    return user;
  }

  /** Existing users only. */
  findByPhone(phone: string): SimUser | undefined {
    return this.byPhone.get(phone);
  }

  /**
   * Resolves a PN or LID jid to a user and device number. PN users are created
   * on demand (every number "is on WhatsApp"); unknown LIDs resolve to nothing.
   */
  resolve(jid: string): { user: SimUser; device: number } | undefined {
    const decoded = jidDecode(jid);
    if (!decoded?.user) return undefined;
    const device = decoded.device ?? 0;
    if (decoded.server === "lid") {
      const user = this.byLid.get(decoded.user);
      return user ? { user, device } : undefined;
    }
    if (decoded.server !== "s.whatsapp.net" && decoded.server !== "c.us") return undefined;
    const phone = normalizePhone(decoded.user);
    return phone ? { user: this.user(phone), device } : undefined;
  }

  isOnWhatsApp(phone: string): boolean {
    return !this.offWhatsApp.has(phone);
  }

  setOnWhatsApp(phone: string, on: boolean): void {
    if (on) this.offWhatsApp.delete(phone);
    else this.offWhatsApp.add(phone);
  }

  /** Every number is on WhatsApp again. */
  resetOnWhatsApp(): void {
    this.offWhatsApp.clear();
  }

  /** Users that have at least one linked device. */
  linkedUsers(): SimUser[] {
    return [...this.byPhone.values()].filter((u) => u.devices.size > 0);
  }
}
