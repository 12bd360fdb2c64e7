import { plainConversation } from "../../src/domain/conversation.ts";
import type { Message } from "../../src/domain/message.ts";

let counter = 0;

/**
 * An outbound message as the dispatcher hands it to a provider (status
 * `sending`, no attempt recorded yet): WhatsApp, session `main`, a fresh id
 * each call. Tests override what they care about.
 */
export function aSendingMessage(overrides: Partial<Message> = {}): Message {
  counter += 1;
  const now = new Date().toISOString();
  return {
    id: `msg-${process.pid}-${Date.now().toString(36)}-${counter}`,
    direction: "outbound",
    status: "sending",
    channel: "whatsapp",
    provider: "baileys",
    session: "main",
    to: "whatsapp:+15550000001",
    from: null,
    text: "hello",
    media: [],
    ...plainConversation(overrides.media?.length ? "media" : "text"),
    metadata: null,
    providerMessageId: null,
    attempts: 0,
    error: null,
    createdAt: now,
    updatedAt: now,
    history: [],
    ...overrides,
  };
}
