import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { runSessionStoreContract } from "../../contracts/session-store.contract.ts";

runSessionStoreContract("sqlite", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sqlite-sessions-contract-"));
  const store = new SqliteSessionStore({ path: join(dataDir, "sessions.db") });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
