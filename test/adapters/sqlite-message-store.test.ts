import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteMessageStore } from "../../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import { runMessageStoreContract } from "../contracts/message-store.contract.ts";

runMessageStoreContract("SqliteMessageStore", async (options) => {
  const dir = await mkdtemp(join(tmpdir(), "gateway-sqlite-contract-"));
  const store = new SqliteMessageStore({ ...options, path: join(dir, "data", "messages.db") });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
