import type { SimLogger } from "./logger.ts";
import type { MessageLog } from "./message-log.ts";
import type { SimMedia } from "./media.ts";
import type { ServerIdentity } from "./noise.ts";
import type { Registry } from "./registry.ts";

/** Receipts the simulated contacts send for messages they receive. */
export interface ReceiptSettings {
  delivery: boolean;
  read: boolean;
  /** Delay before the delivery receipt, and again before the read receipt. */
  delayMs: number;
}

export const DEFAULT_RECEIPTS: ReceiptSettings = { delivery: true, read: true, delayMs: 0 };

/** An IQ the simulator had no answer for (answered with an error). */
export interface UnknownIq {
  xmlns: string;
  type: string;
  child: string;
  at: number;
}

/** Timers that die with the simulator. */
export class TimerSet {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** State shared by every part of one simulator instance. */
export interface SimContext {
  readonly registry: Registry;
  readonly log: MessageLog;
  readonly logger: SimLogger;
  readonly identity: ServerIdentity;
  /** The media server, media verification and the simulated phones' uploads. */
  readonly media: SimMedia;
  readonly timers: TimerSet;
  readonly unknownIqs: UnknownIq[];
  receipts: ReceiptSettings;
  /** One-way latency of the server's frames: each leaves this long after it was made, in order. */
  frameDelayMs: number;
  /** Epoch ms until which every connection is refused. */
  outageUntil: number;
  /** Log in devices the simulator never saw (e.g. after a simulator restart). */
  acceptUnknownDevices: boolean;
  /** How many QR refs a registering client gets. */
  qrRefs: number;
  /** Per linked account's phone: codes of the negative acks its next messages get, in order. */
  readonly refusals: Map<string, number[]>;
}
