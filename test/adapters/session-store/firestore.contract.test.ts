import { describe } from "vitest";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import { runSessionStoreContract } from "../../contracts/session-store.contract.ts";
import { firestoreEmulatorAvailable, startFirestoreEmulator } from "../../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("firestore (emulator)", () => {
  runSessionStoreContract("firestore", async () => {
    const emulator = await startFirestoreEmulator();
    const store = new FirestoreSessionStore({ projectId: emulator.projectId, emulatorHost: emulator.host });
    return {
      store,
      async dispose() {
        await store.close();
        await emulator.stop();
      },
    };
  });
});
