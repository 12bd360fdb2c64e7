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
  ) {
    this.#intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
    this.#burst = Math.max(1, Math.round(perSecond));
  }

  /** How long the caller waited, in ms, once its turn to connect came. */
  async turn(): Promise<number> {
    if (this.#intervalMs === 0) return 0;
    const now = this.now();
    const arrival = Math.max(this.#theoreticalArrival, now);
    const waitMs = Math.max(0, arrival - now - (this.#burst - 1) * this.#intervalMs);
    this.#theoreticalArrival = arrival + this.#intervalMs;
    if (waitMs > 0) await this.sleep(waitMs);
    return waitMs;
  }
}
