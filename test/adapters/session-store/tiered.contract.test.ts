import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import { TieredSessionStore } from "../../../src/adapters/session-store/tiered/tiered.session-store.ts";
import type { FirestoreAuthStateMode } from "../../../src/domain/ports/session-store.port.ts";
import { runSessionStoreContract } from "../../contracts/session-store.contract.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

let emulator: Promise<FirestoreEmulator> | null = null;
afterAll(async () => {
  if (emulator !== null) await (await emulator).stop();
});

function makeTiered(mode: FirestoreAuthStateMode) {
  return async () => {
    const dataDir = await mkdtemp(join(tmpdir(), `tiered-${mode}-`));
    const emu = mode === "off" ? null : await (emulator ??= startFirestoreEmulator());
    const store = new TieredSessionStore({
      mode,
      local: new SqliteSessionStore({ path: join(dataDir, "sessions.db") }),
      remote: () => {
        if (emu === null) throw new Error("mode off must never create the Firestore store");
        return new FirestoreSessionStore({
          projectId: emu.projectId,
          emulatorHost: emu.host,
          collection: `contract_${mode}`,
        });
      },
      outboxDir: join(dataDir, "session-outbox"),
    });
    await store.open();
    return {
      store,
      async dispose() {
        await store.flush();
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  };
}

runSessionStoreContract("tiered, mode off", makeTiered("off"));
describe.skipIf(!firestoreEmulatorAvailable())("tiered with the emulator", () => {
  runSessionStoreContract("tiered, mode creds_only", makeTiered("creds_only"));
  runSessionStoreContract("tiered, mode full", makeTiered("full"));
});
