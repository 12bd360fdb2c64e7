import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskSessionStore } from "../../../src/adapters/session-store/disk/disk.session-store.ts";
import { runSessionStoreContract } from "../../contracts/session-store.contract.ts";

runSessionStoreContract("disk", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "disk-contract-"));
  const store = new DiskSessionStore({ dataDir });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
