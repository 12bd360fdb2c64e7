import { DomainError } from "../../domain/errors.ts";
import type { Message } from "../../domain/message.ts";
import type { ListFilter, MessageStore, Page } from "../../domain/ports/message-store.port.ts";

export async function getMessage(store: MessageStore, id: string): Promise<Message> {
  const message = await store.get(id);
  if (!message) throw new DomainError("MESSAGE.NOT_FOUND", `no message with id "${id}"`);
  return message;
}

export async function listMessages(store: MessageStore, filter: ListFilter): Promise<Page<Message>> {
  return store.list(filter);
}
