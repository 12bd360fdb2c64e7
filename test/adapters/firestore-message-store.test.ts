import { afterAll, beforeAll, describe } from "vitest";
import { FirestoreMessageStore } from "../../src/adapters/message-store/firestore/firestore.message-store.ts";
import { runMessageStoreContract } from "../contracts/message-store.contract.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("FirestoreMessageStore (emulator)", () => {
  let emulator: FirestoreEmulator;
  let stores = 0;
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  }, 90_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  // One emulator for the file; each store gets a namespace of its own, so it starts empty.
  runMessageStoreContract("FirestoreMessageStore", async (options) => {
    stores += 1;
    const store = new FirestoreMessageStore({
      ...options,
      projectId: emulator.projectId,
      emulatorHost: emulator.host,
      namespace: `contract-${stores}`,
    });
    return { store, cleanup: () => store.close() };
  });
});
