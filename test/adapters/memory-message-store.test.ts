import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { runMessageStoreContract } from "../contracts/message-store.contract.ts";

runMessageStoreContract("MemoryMessageStore", async () => {
  const store = new MemoryMessageStore();
  return { store, cleanup: () => store.close() };
});
