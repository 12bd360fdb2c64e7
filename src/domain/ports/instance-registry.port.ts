import { injectionToken, type InjectionToken } from "../injection-token.ts";

/**
 * The live instances of a cluster, each announcing itself with heartbeats.
 * Every instance reads the same list, so each computes the same spread of
 * sessions (`spreadSessions` in `src/domain/session-spread.ts`).
 */
export interface InstanceRegistry {
  /** This instance's id (`INSTANCE_ID`). */
  readonly instanceId: string;

  /**
   * Announces this instance alive for `ttlMs` from now (the registry's
   * setting, `SESSION_LEASE_MS` in the gateway); call it well within that.
   */
  heartbeat(): Promise<void>;

  /** Ids of the instances whose last heartbeat has not expired, sorted. */
  live(): Promise<string[]>;

  /** Leaves at once (graceful stop), so the others rebalance without waiting for the heartbeat to expire. */
  leave(): Promise<void>;

  close(): Promise<void>;
}

export const InstanceRegistry: InjectionToken<InstanceRegistry> = injectionToken("InstanceRegistry");

/** An instance as the registry keeps it. */
export interface InstanceRecord {
  readonly id: string;
  /** Live until then, unless it beats again. */
  readonly expiresAt: Date;
}

/** The ids of the records that are live at `now`, sorted. */
export function liveInstanceIds(records: readonly InstanceRecord[], now: Date): string[] {
  return records
    .filter((record) => record.expiresAt.getTime() > now.getTime())
    .map((record) => record.id)
    .sort();
}
