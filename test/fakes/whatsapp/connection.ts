import { decodeBinaryNode, encodeBinaryNode } from "@whiskeysockets/baileys";
import type { BinaryNode, proto } from "@whiskeysockets/baileys";
import type { SimContext } from "./context.ts";
import { NoiseResponder } from "./noise.ts";
import type { NoiseTransport } from "./noise.ts";
import type { ConnectionHandle, RealDevice } from "./registry.ts";
import { encodeFrame, FrameReader, toBuffer, WS_OPEN } from "./transport.ts";
import type { WsSocket } from "./transport.ts";

/** What a connection hands upwards once the Noise handshake is done. */
export interface ConnectionEvents {
  onPayload(conn: SimConnection, payload: proto.ClientPayload): void | Promise<void>;
  onNode(conn: SimConnection, node: BinaryNode): void | Promise<void>;
  onClose(conn: SimConnection): void;
}

/** Signed-prekey material a registering client sent in its ClientPayload. */
export interface Registration {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
}

let nextConnectionId = 1;

/**
 * One client WebSocket: intro header, Noise handshake, then encrypted binary
 * nodes in both directions. Incoming nodes are handled one at a time, in
 * order; outgoing frames honour the simulator's per-frame delay.
 */
export class SimConnection implements ConnectionHandle {
  readonly id = nextConnectionId++;
  /** Set once logged in. */
  device: RealDevice | undefined;
  /** Set while a fresh client waits to be linked. */
  registration: Registration | undefined;
  clientStaticKey: Uint8Array | undefined;
  /** The "stop answering" fault: drop everything both ways. */
  silent = false;
  private phase: "hello" | "finish" | "open" | "closed" = "hello";
  private readonly reader = new FrameReader();
  private readonly noise: NoiseResponder;
  private transport: NoiseTransport | undefined;
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  /** Frames waiting in `outbound`: a frame made while some wait goes behind them even once the delay is off. */
  private delayed = 0;
  private readonly pendingIqs = new Map<string, (node: BinaryNode) => void>();
  private nextTag = 1;

  constructor(
    private readonly ws: WsSocket,
    private readonly ctx: SimContext,
    private readonly events: ConnectionEvents,
  ) {
    this.noise = new NoiseResponder(ctx.identity);
    ws.on("message", (data) => this.onData(toBuffer(data)));
    ws.on("close", () => this.onClosed());
    ws.on("error", (err) => ctx.logger.debug({ conn: this.id, err: err.message }, "ws error"));
  }

  isOpen(): boolean {
    return this.phase === "open" && this.ws.readyState === WS_OPEN;
  }

  /** Encodes, encrypts and sends a node (dropped when silent or closed). */
  send(node: BinaryNode): void {
    if (this.silent || !this.transport || this.phase === "closed") return;
    const bytes = encodeBinaryNode(node);
    if (this.ctx.frameDelayMs > 0 || this.delayed > 0) {
      // Latency, not bandwidth: every frame leaves frameDelayMs after it was
      // made, behind the frames made before it, not frameDelayMs after them.
      const due = Date.now() + this.ctx.frameDelayMs;
      this.delayed++;
      this.outbound = this.outbound
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => this.writeEncrypted(bytes))
        // A frame that can no longer be written (the socket closed) is dropped, as without a delay.
        .catch(() => undefined)
        .finally(() => this.delayed--);
    } else {
      this.writeEncrypted(bytes);
    }
  }

  /** Sends an IQ and calls `onReply` with the client's result/error. */
  sendIq(node: BinaryNode, onReply: (reply: BinaryNode) => void): string {
    const id = node.attrs.id ?? `sim-${this.id}-${this.nextTag++}`;
    node.attrs.id = id;
    this.pendingIqs.set(id, onReply);
    this.send(node);
    return id;
  }

  /** Sends a terminal stanza, then closes unless the client hangs up first. */
  sendAndEnd(node: BinaryNode, graceMs = 1_000): void {
    this.send(node);
    this.ctx.timers.after(graceMs, () => this.close());
  }

  /** Closes the socket: a close handshake, or a TCP reset when `reset`. */
  close(reset = false): void {
    if (this.ws.readyState > WS_OPEN) return;
    if (reset) this.ws.terminate();
    else this.ws.close(1000);
    // ws fires "close" later; detach from the device at once so a
    // reconnect racing the close handshake finds the device free.
    this.onClosed();
  }

  private writeEncrypted(bytes: Uint8Array): void {
    if (this.phase === "closed" || this.ws.readyState !== WS_OPEN || !this.transport) return;
    this.ws.send(encodeFrame(this.transport.encrypt(bytes)));
  }

  private onData(data: Buffer): void {
    if (this.silent || this.phase === "closed") return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(data);
    } catch (err) {
      this.fail("bad stream start", err);
      return;
    }
    for (const frame of frames) {
      if (this.phase === "hello") this.onHello(frame);
      else if (this.phase === "finish") this.onFinish(frame);
      else if (this.phase === "open") this.onEncryptedFrame(frame);
    }
  }

  private onHello(frame: Buffer): void {
    try {
      const reply = this.noise.respondToHello(frame);
      this.phase = "finish";
      if (this.ws.readyState === WS_OPEN) this.ws.send(encodeFrame(reply));
    } catch (err) {
      this.fail("noise hello failed", err);
    }
  }

  private onFinish(frame: Buffer): void {
    try {
      const result = this.noise.finish(frame);
      this.transport = result.transport;
      this.clientStaticKey = result.clientStaticKey;
      this.phase = "open";
      this.enqueue(() => this.events.onPayload(this, result.payload));
    } catch (err) {
      this.fail("noise finish failed", err);
    }
  }

  private onEncryptedFrame(frame: Buffer): void {
    let plain: Buffer;
    try {
      plain = this.transport!.decrypt(frame);
    } catch (err) {
      this.fail("frame decryption failed", err);
      return;
    }
    this.enqueue(async () => {
      const node = await decodeBinaryNode(plain);
      if (this.silent) return;
      const waiter = node.tag === "iq" && node.attrs.id ? this.pendingIqs.get(node.attrs.id) : undefined;
      if (waiter && (node.attrs.type === "result" || node.attrs.type === "error")) {
        this.pendingIqs.delete(node.attrs.id!);
        waiter(node);
        return;
      }
      await this.events.onNode(this, node);
    });
  }

  private enqueue(task: () => void | Promise<void>): void {
    this.inbound = this.inbound.then(task).catch((err: unknown) => {
      this.ctx.logger.error({ conn: this.id, err: String(err) }, "node handler failed");
    });
  }

  private fail(what: string, err: unknown): void {
    this.ctx.logger.warn({ conn: this.id, err: String(err) }, what);
    this.close(true);
  }

  private onClosed(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.pendingIqs.clear();
    this.events.onClose(this);
  }
}
