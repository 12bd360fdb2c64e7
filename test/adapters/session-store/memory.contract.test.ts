import { runSessionStoreContract } from "../../contracts/session-store.contract.ts";
import { MemorySessionStore } from "../../fakes/memory-session-store.ts";

// The fake must keep the port's promises too: tests built on it would otherwise prove nothing.
runSessionStoreContract("memory (test fake)", async () => {
  const store = new MemorySessionStore();
  return { store, dispose: () => store.close() };
});
