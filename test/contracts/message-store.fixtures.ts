import type { HeldMedia } from "../../src/domain/media.ts";
import { expect } from "vitest";
import type { MessageError } from "../../src/domain/errors.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../src/domain/message.ts";
import type { MessageStore } from "../../src/domain/ports/message-store.port.ts";

export const BASE = Date.parse("2026-01-01T00:00:00.000Z");
/** A moment `ms` after the suite's fixed origin. */
export const t = (ms: number): Date => new Date(BASE + ms);
export const iso = (ms: number): string => t(ms).toISOString();

export const ROUTE: Route = { provider: "baileys", session: "main" };
export const ALICE = "whatsapp:+40700000001";
export const BOB = "whatsapp:+40700000002";
export const CAROL = "whatsapp:+40700000003";
export const TIMEOUT: MessageError = { code: "PROVIDER.UNAVAILABLE", message: "socket closed", retryable: true };
export const REJECTED: MessageError = {
  code: "PROVIDER.REJECTED",
  message: "not on WhatsApp",
  retryable: false,
  providerCode: "404",
};

let counter = 0;
/** Test data builder: a valid outbound message, unique id, overridable field by field. */
/** A held attachment, as POST /media would have stored it. */
export const HELD_PNG: HeldMedia = {
  id: "m-held-png",
  kind: "image",
  mimeType: "image/png",
  size: 1234,
  sha256: "ab".repeat(32),
  filename: "a.png",
  caption: "a photo",
  sourceUrl: null,
  error: null,
};

export function anOutbound(overrides: Partial<NewOutboundMessage> = {}): NewOutboundMessage {
  counter += 1;
  return {
    id: `msg-${counter}`,
    provider: ROUTE.provider,
    session: ROUTE.session,
    channel: "whatsapp",
    to: ALICE,
    from: null,
    text: `hello ${counter}`,
    media: [],
    metadata: null,
    idempotency: null,
    at: t(0),
    ...overrides,
  };
}

export function anInbound(overrides: Partial<NewInboundMessage> = {}): NewInboundMessage {
  counter += 1;
  return {
    id: `in-${counter}`,
    provider: ROUTE.provider,
    session: ROUTE.session,
    channel: "whatsapp",
    from: BOB,
    to: ALICE,
    text: `reply ${counter}`,
    media: [],
    providerMessageId: `wa-${counter}`,
    at: t(0),
    ...overrides,
  };
}

export const ids = (messages: readonly Message[]): string[] => messages.map((m) => m.id);
export const statuses = (message: Message | undefined): string[] => message?.history.map((h) => h.status) ?? [];
/** Adapter settings the contract pins down; every adapter takes them under these names. */
export interface StoreOptions {
  readonly earlyStatusRetentionMs?: number;
  readonly maxEarlyStatuses?: number;
}

/** What the contract's test cases share: the store under test, fresh per test, and helpers. */
export interface ContractContext {
  store: MessageStore;
  /** Enqueues a built message and asserts it was created. */
  enqueue(overrides?: Partial<NewOutboundMessage>): Promise<Message>;
  /** Another fresh store, with these settings, disposed of after the test. */
  open(options?: StoreOptions): Promise<MessageStore>;
}

export async function enqueueCreated(
  store: MessageStore,
  overrides: Partial<NewOutboundMessage> = {},
): Promise<Message> {
  const result = await store.enqueue(anOutbound(overrides));
  expect(result.kind).toBe("created");
  return result.message;
}
