/**
 * Spaces the restarts that follow pairings across every session of a
 * provider. A pairing ends with the server asking for a restart (515), and
 * the new socket's handshake costs ~50 ms of the event loop (Baileys checks
 * the server's certificates in plain JavaScript): twenty phones that scan
 * at once would otherwise restart in one turn of the loop and hold it for a
 * second. A lone restart starts at once; a burst starts `spacingMs` apart.
 */
export class RestartPacing {
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly spacingMs: number,
    private readonly now: () => number,
  ) {}

  /** How long the restart asked for now waits: 0 unless another one started within `spacingMs`. */
  delayMs(): number {
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.spacingMs;
    return at - now;
  }
}
