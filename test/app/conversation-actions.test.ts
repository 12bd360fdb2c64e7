import { describe, expect, it } from "vitest";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { createLogger } from "../../src/app/logger.ts";
import { ConversationActions } from "../../src/app/use-cases/conversation-actions.ts";
import { EDIT_WINDOW_MS } from "../../src/domain/conversation.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { anOutbound } from "../contracts/message-store.fixtures.ts";

describe("ConversationActions: the edit window", () => {
  it("edits a sent message up to 15 minutes after it was sent, and refuses with 409 after", async () => {
    let now = new Date("2030-01-01T10:00:00Z");
    const clock = { now: () => now };
    const store = new MemoryMessageStore();
    const provider = new MemoryMessagingProvider("baileys", ["whatsapp"]);
    const actions = new ConversationActions(
      store,
      [provider],
      new InProcessDomainEvents(createLogger("silent")),
      clock,
    );
    const message = anOutbound({ provider: "baileys", session: "default", text: "see you at 5", at: now });
    await store.enqueue(message);
    await store.claim({ provider: "baileys", session: "default" }, 1, 60_000, now);
    await store.recordAttempt(message.id, { kind: "sent", providerMessageId: "wa-1" }, now);

    now = new Date(now.getTime() + EDIT_WINDOW_MS);
    expect((await actions.edit(message.id, "see you at 6")).kind).toBe("edit");
    now = new Date(now.getTime() + 1);
    await expect(actions.edit(message.id, "see you at 7")).rejects.toMatchObject({
      code: "MESSAGE.EDIT_WINDOW_CLOSED",
    });
  });
});
