/**
 * Spaces sends of one session at least `intervalMs` apart (0 = no pacing).
 * Each caller reserves the next free slot, so concurrent callers queue up
 * in order instead of all waking at the same moment.
 */
export class Pacer {
  private nextSlot = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async wait(): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }
}
