import { systemClock, type Clock } from "../../../domain/ports/clock.port.ts";
import { liveInstanceIds, type InstanceRegistry } from "../../../domain/ports/instance-registry.port.ts";

/** The heartbeats of the instances of one process (tests give several registries one table). */
export class MemoryInstanceTable {
  readonly expiries = new Map<string, Date>();
}

export interface MemoryInstanceRegistryOptions {
  readonly instanceId: string;
  /** A heartbeat keeps the instance live this long. */
  readonly ttlMs: number;
  readonly table?: MemoryInstanceTable;
  readonly clock?: Clock;
}

/** The instance registry in memory: a single process, or tests. */
export class MemoryInstanceRegistry implements InstanceRegistry {
  readonly instanceId: string;
  private readonly ttlMs: number;
  private readonly table: MemoryInstanceTable;
  private readonly clock: Clock;

  constructor(options: MemoryInstanceRegistryOptions) {
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs;
    this.table = options.table ?? new MemoryInstanceTable();
    this.clock = options.clock ?? systemClock;
  }

  async heartbeat(): Promise<void> {
    await Promise.resolve();
    this.table.expiries.set(this.instanceId, new Date(this.clock.now().getTime() + this.ttlMs));
  }

  async live(): Promise<string[]> {
    await Promise.resolve();
    const records = [...this.table.expiries].map(([id, expiresAt]) => ({ id, expiresAt }));
    return liveInstanceIds(records, this.clock.now());
  }

  async leave(): Promise<void> {
    await Promise.resolve();
    this.table.expiries.delete(this.instanceId);
  }

  async close(): Promise<void> {}
}
