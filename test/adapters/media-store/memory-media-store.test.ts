import { mediaStoreContract } from "../../contracts/media-store.contract.ts";
import { MemoryMediaStore } from "../../fakes/memory-media-store.ts";

mediaStoreContract("memory", async (clock) => {
  const store = new MemoryMediaStore(clock);
  return { store, heldFiles: async () => store.blobCount, cleanup: () => store.close() };
});
