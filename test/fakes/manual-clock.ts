import type { Clock } from "../../src/domain/ports/clock.port.ts";

/** A clock that moves only when a test moves it (several instances may share one). */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
