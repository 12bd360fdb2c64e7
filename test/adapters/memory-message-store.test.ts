import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { runMessageStoreContract } from "../contracts/message-store.contract.ts";

runMessageStoreContract("MemoryMessageStore", async (options) => {
  const store = new MemoryMessageStore(options);
  return { store, cleanup: () => store.close() };
});
