import { addTransactionCapability, DEFAULT_CONNECTION_CONFIG } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { loadAuthState } from "../../../src/adapters/messaging/baileys/auth-state.ts";
import { storedLidForPn } from "../../../src/adapters/messaging/baileys/chat-actions.ts";
import { ChatAddressing } from "../../../src/adapters/messaging/baileys/chat-addressing.ts";
import { SessionWrites } from "../../../src/adapters/messaging/baileys/session-writes.ts";
import type { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { sessionStore, silentLogger } from "./harness.ts";

const PN = "15550002222@s.whatsapp.net";
const LID = "987654321012345@lid";
const OTHER_PN = "15550003333@s.whatsapp.net";

/** A session's login as one connection loads it: auth state, Baileys' signal repository over it, chat addressing. */
async function load(store: SqliteSessionStore) {
  const writes = new SessionWrites(store, "main", silentLogger);
  const auth = await loadAuthState(store, writes, silentLogger);
  const keys = addTransactionCapability(auth.keys, silentLogger, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
  // No usync function: whatever resolves here comes from the store.
  const signal = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: auth.creds, keys }, silentLogger);
  const chats = new ChatAddressing({ store, writes, sealed: () => auth.isSealed(), logger: silentLogger });
  return { auth, writes, signal, chats };
}

describe("LID state kept in the session store", () => {
  it("Baileys' phone-LID mapping resolves both ways after a restart", async () => {
    const { store } = await sessionStore();
    const before = await load(store);
    await before.signal.lidMapping.storeLIDPNMappings([{ lid: LID, pn: PN }]);
    await before.writes.flush();

    const after = await load(store);

    expect(await after.signal.lidMapping.getPNForLID(LID)).toBe("15550002222:0@s.whatsapp.net");
    expect(await after.signal.lidMapping.getLIDForPN(PN)).toBe(LID);
    expect(await storedLidForPn(after.auth.keys, PN)).toBe(LID);
    expect(await storedLidForPn(after.auth.keys, OTHER_PN)).toBeNull();
  });

  it("a chat addressed by LID is answered by LID, also after a restart, until the contact writes by number", async () => {
    const { store } = await sessionStore();
    const first = await load(store);

    first.chats.note(PN, LID);
    expect(await first.chats.chatJid(PN)).toBe(LID);
    expect(await first.chats.chatJid(OTHER_PN)).toBe(OTHER_PN);
    await first.writes.flush();

    const second = await load(store);
    expect(await second.chats.chatJid(PN)).toBe(LID);
    second.chats.note(PN, undefined);
    expect(await second.chats.chatJid(PN)).toBe(PN);
    await second.writes.flush();

    const third = await load(store);
    expect(await third.chats.chatJid(PN)).toBe(PN);
  });

  it("writes nothing for chats addressed by number, and nothing once the login is sealed", async () => {
    const { store } = await sessionStore();
    const { chats, writes, auth } = await load(store);

    chats.note(OTHER_PN, undefined);
    await writes.flush();
    auth.seal();
    chats.note(PN, LID);
    await writes.flush();

    expect([...(await store.entries("main")).keys()].filter((key) => key.startsWith("chat-"))).toEqual([]);
    expect(await chats.chatJid(PN)).toBe(LID);
  });

  it("the last of quick notes is the one stored", async () => {
    const { store } = await sessionStore();
    const { chats, writes } = await load(store);

    chats.note(PN, LID);
    chats.note(PN, undefined);
    chats.note(PN, "111111111111111:4@lid");
    await writes.flush();

    expect(await (await load(store)).chats.chatJid(PN)).toBe("111111111111111@lid");
  });
});
