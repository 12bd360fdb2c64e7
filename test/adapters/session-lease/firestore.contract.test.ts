import { describe } from "vitest";
import { FirestoreInstanceRegistry } from "../../../src/adapters/session-lease/firestore/firestore.instance-registry.ts";
import { FirestoreSessionLease } from "../../../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { runSessionLeaseContract } from "../../contracts/session-lease.contract.ts";
import { firestoreEmulatorAvailable, startFirestoreEmulator } from "../../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("firestore (emulator)", () => {
  runSessionLeaseContract("firestore", async () => {
    const emulator = await startFirestoreEmulator();
    const where = { projectId: emulator.projectId, emulatorHost: emulator.host };
    // Each group of contenders shares a fresh collection, as instances of one cluster share `leases`.
    let group = 0;
    return {
      contenders(ids, leaseMs, clock) {
        const collection = `leases-${++group}`;
        return ids.map((instanceId) => new FirestoreSessionLease({ ...where, instanceId, leaseMs, clock, collection }));
      },
      registries(ids, ttlMs, clock) {
        const collection = `instances-${++group}`;
        return ids.map(
          (instanceId) => new FirestoreInstanceRegistry({ ...where, instanceId, ttlMs, clock, collection }),
        );
      },
      async dispose() {
        await emulator.stop();
      },
    };
  });
});
