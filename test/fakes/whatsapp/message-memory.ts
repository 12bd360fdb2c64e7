import { proto } from "@whiskeysockets/baileys";
import { unwrapMessage } from "./message-decode.ts";

/** A message that went through the simulator, kept so a later one can quote, edit or react to it. */
export interface RememberedMessage {
  message: proto.IMessage;
  /** Phone number of whoever wrote it. */
  author: string;
}

const MAX_REMEMBERED = 10_000;

/**
 * Messages by id, both ways (what linked accounts sent and what simulated
 * contacts sent), bounded: the oldest are forgotten first.
 */
export class MessageMemory {
  private readonly byId = new Map<string, RememberedMessage>();

  remember(id: string, entry: RememberedMessage): void {
    this.byId.delete(id);
    this.byId.set(id, entry);
    if (this.byId.size > MAX_REMEMBERED) {
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
  }

  find(id: string): RememberedMessage | undefined {
    return this.byId.get(id);
  }
}

/**
 * The message as a reply quotes it: its content alone, without wrappers and
 * without the content's own contextInfo (a quote does not carry the quote's
 * quote), as WhatsApp clients build `quotedMessage`.
 */
export function quotable(message: proto.IMessage): proto.IMessage {
  const copy = proto.Message.decode(proto.Message.encode(unwrapMessage(message)).finish());
  copy.messageContextInfo = null;
  for (const value of Object.values(copy)) {
    if (typeof value === "object" && value !== null && "contextInfo" in value) {
      (value as { contextInfo?: unknown }).contextInfo = null;
    }
  }
  return copy;
}
