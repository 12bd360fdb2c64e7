/**
 * Paces the WhatsApp connections this process opens: at most `perSecond` a
 * second, after a burst of as many at once. One session connects at once;
 * a thousand that lost their sockets together (a network cut, a server
 * restart) come back spread over seconds instead of hammering the server in
 * the same instant. The generic cell rate algorithm: a theoretical arrival
 * time advanced by one interval per connection, each waiting for its slot.
 */
export class ConnectPacer {
  readonly #intervalMs: number;
  readonly #burst: number;
  /** When the next connection would go if there were no burst allowance. */
  #theoreticalArrival = 0;

  constructor(
    /** Connections a second; 0 paces nothing. */
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    /** Connections that may go at once (default: one second's worth). */
    burst = Math.round(perSecond),
  ) {
    this.#intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.#burst = Math.max(1, burst);
  }

  /**
   * No burst, one every `intervalMs`: a lone caller goes at once, a crowd is
   * spaced (the restarts after pairing: each handshake holds the event loop
   * ~50 ms, twenty at once held it for a second).
   */
  static spaced(intervalMs: number, now: () => number): ConnectPacer {
    return new ConnectPacer(1000 / intervalMs, now, undefined, 1);
  }

  /** Takes the next slot: how long the caller must wait for it, in ms (0: go now). */
  reserve(): number {
    if (this.#intervalMs === 0) return 0;
    const now = this.now();
    const arrival = Math.max(this.#theoreticalArrival, now);
    const waitMs = Math.max(0, arrival - now - (this.#burst - 1) * this.#intervalMs);
    this.#theoreticalArrival = arrival + this.#intervalMs;
    return waitMs;
  }

  /** How long the caller waited, in ms, once its turn to connect came. */
  async turn(): Promise<number> {
    const waitMs = this.reserve();
    if (waitMs > 0) await this.sleep(waitMs);
    return waitMs;
  }
}
