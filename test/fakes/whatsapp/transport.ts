import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { NOISE_WA_HEADER } from "@whiskeysockets/baileys";

/** The slice of a `ws` WebSocket the simulator uses. */
export interface WsSocket {
  readonly readyState: number;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): this;
  on(event: "close", listener: () => void): this;
  on(event: "error", listener: (err: Error) => void): this;
}

/** The slice of a `ws` WebSocketServer (noServer mode) the simulator uses. */
export interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
  close(cb?: () => void): void;
  /** Every open client (client tracking is on by default). */
  readonly clients: ReadonlySet<WsSocket>;
}

interface WsModule {
  WebSocketServer: new (opts: { noServer: true; maxPayload?: number }) => WsServer;
}

export const WS_OPEN = 1;

/**
 * Loads `ws` (a Baileys dependency) through a dynamic import so this code needs
 * no `@types/ws`; the shape we rely on is typed by the interfaces above.
 */
export async function createWsServer(): Promise<WsServer> {
  const specifier: string = "ws";
  const mod = (await import(specifier)) as WsModule & { default?: WsModule };
  const ctor = mod.WebSocketServer ?? mod.default?.WebSocketServer;
  if (!ctor) throw new Error("the ws module exports no WebSocketServer");
  return new ctor({ noServer: true, maxPayload: 16 * 1024 * 1024 });
}

export function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Frames a payload with the 3-byte big-endian length the protocol uses. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.byteLength + 3);
  frame[0] = (payload.byteLength >>> 16) & 0xff;
  frame[1] = (payload.byteLength >>> 8) & 0xff;
  frame[2] = payload.byteLength & 0xff;
  frame.set(payload, 3);
  return frame;
}

/**
 * Splits the client's byte stream into frames. The stream opens with an
 * optional routing prefix (`ED`, 0, 1, 3-byte length, routing info) and the
 * intro header `WA 6 3`; both are consumed here and never reach the caller.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private introDone = false;
  routingInfo: Buffer | undefined;

  /** Feeds bytes; returns the complete frames now available. Throws on a bad intro. */
  push(data: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    if (!this.introDone && !this.consumeIntro()) return [];
    const frames: Buffer[] = [];
    while (this.pending.length >= 3) {
      const size = (this.pending[0]! << 16) | (this.pending[1]! << 8) | this.pending[2]!;
      if (this.pending.length < size + 3) break;
      frames.push(this.pending.subarray(3, size + 3));
      this.pending = this.pending.subarray(size + 3);
    }
    return frames;
  }

  private consumeIntro(): boolean {
    let offset = 0;
    if (this.pending.length >= 2 && this.pending[0] === 0x45 && this.pending[1] === 0x44) {
      if (this.pending.length < 7) return false;
      const len = (this.pending[4]! << 16) | this.pending.readUInt16BE(5);
      if (this.pending.length < 7 + len) return false;
      this.routingInfo = Buffer.from(this.pending.subarray(7, 7 + len));
      offset = 7 + len;
    }
    if (this.pending.length < offset + NOISE_WA_HEADER.length) return false;
    const header = this.pending.subarray(offset, offset + NOISE_WA_HEADER.length);
    if (!header.equals(NOISE_WA_HEADER)) {
      throw new Error(`bad intro header ${header.toString("hex")}`);
    }
    this.pending = this.pending.subarray(offset + NOISE_WA_HEADER.length);
    this.introDone = true;
    return true;
  }
}
