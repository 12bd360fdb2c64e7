import { injectionToken, type InjectionToken } from "../injection-token.ts";

/** Time, injectable so tests can control it. */
export interface Clock {
  now(): Date;
}

export const Clock: InjectionToken<Clock> = injectionToken("Clock");

export const systemClock: Clock = { now: () => new Date() };
