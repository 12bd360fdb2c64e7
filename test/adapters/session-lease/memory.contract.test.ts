import {
  MemoryInstanceRegistry,
  MemoryInstanceTable,
} from "../../../src/adapters/session-lease/memory/memory.instance-registry.ts";
import {
  MemoryLeaseTable,
  MemorySessionLease,
} from "../../../src/adapters/session-lease/memory/memory.session-lease.ts";
import { runSessionLeaseContract } from "../../contracts/session-lease.contract.ts";

runSessionLeaseContract("memory", async () => ({
  contenders(ids, leaseMs, clock) {
    const table = new MemoryLeaseTable();
    return ids.map((instanceId) => new MemorySessionLease({ instanceId, leaseMs, clock, table }));
  },
  registries(ids, ttlMs, clock) {
    const table = new MemoryInstanceTable();
    return ids.map((instanceId) => new MemoryInstanceRegistry({ instanceId, ttlMs, clock, table }));
  },
  async dispose() {},
}));
