import { createHash } from "node:crypto";
import { formatAddress, isGroupAddress, parseAddress, type Channel } from "../../domain/address.ts";
import { plainConversation, type Conversation } from "../../domain/conversation.ts";
import { DomainError } from "../../domain/errors.ts";
import type { Message } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import { newMessageId } from "../message-id.ts";
import type { Router } from "../routing.ts";
import { chatOf } from "./conversation-actions.ts";
import type { AttachmentRequest, OutboundMedia } from "../media/outbound-media.ts";

export interface SendMessageRequest {
  readonly to: string;
  readonly text: string;
  readonly channel?: Channel | undefined;
  readonly provider?: string | undefined;
  readonly session?: string | undefined;
  readonly from?: string | undefined;
  /** Attachments: held files (`id`) or URLs the gateway fetches when it sends. */
  readonly media?: readonly AttachmentRequest[] | undefined;
  /** A shortcut for `media: [{url}, ...]`, as the API took it before media was first-class. */
  readonly mediaUrls?: readonly string[] | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  /** The message this one answers: our id, or a provider's id (WhatsApp). */
  readonly replyTo?: string | undefined;
  readonly location?:
    { latitude: number; longitude: number; name?: string | undefined; address?: string | undefined } | undefined;
  readonly contacts?: ReadonlyArray<{ name: string; phones: readonly string[] }> | undefined;
}

export interface SendMessageResult {
  readonly message: Message;
  /** False when an Idempotency-Key replay returned the message accepted before. */
  readonly created: boolean;
}

/**
 * Accepts an outbound message: validates the addresses, resolves the route,
 * commits the message to the durable queue. It resolves only after the commit,
 * so a 202 always means "will be delivered". A new message is announced as
 * `message.accepted` (the dispatcher wakes its route, telemetry counts it);
 * an Idempotency-Key replay is not.
 */
export class SendMessage {
  constructor(
    private readonly store: MessageStore,
    private readonly router: Router,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    private readonly defaultChannel: Channel,
    private readonly media?: OutboundMedia,
  ) {}

  async execute(request: SendMessageRequest, idempotencyKey?: string): Promise<SendMessageResult> {
    const to = parseAddress(request.to, "to", request.channel, this.defaultChannel);
    const from = request.from === undefined ? null : parseAddress(request.from, "from", to.channel, to.channel);
    const attachments = [...(request.media ?? []), ...(request.mediaUrls ?? []).map((url) => ({ url }))];
    const conversation = await this.conversation(request, to.channel, formatAddress(to), attachments.length > 0);
    const route = this.router.resolve(to.channel, request);
    if (attachments.length > 0 && !this.media) {
      throw new DomainError("REQUEST.INVALID", "media: this gateway keeps no media", [
        { field: "media", message: "not available" },
      ]);
    }
    const media =
      this.media && attachments.length > 0 ? await this.media.accept(attachments, to.channel, request.text) : [];
    const now = this.clock.now();
    const result = await this.store.enqueue({
      id: newMessageId(now.getTime()),
      ...route,
      channel: to.channel,
      to: formatAddress(to),
      from: from ? formatAddress(from) : null,
      text: request.text,
      media,
      conversation,
      metadata: request.metadata ?? null,
      idempotency: idempotencyKey ? { key: idempotencyKey, fingerprint: fingerprint(request) } : null,
      at: now,
    });
    if (result.kind === "conflict") {
      throw new DomainError(
        "IDEMPOTENCY.CONFLICT",
        "this Idempotency-Key was already used with a different request body",
      );
    }
    if (result.kind === "created") this.events.publish({ type: "message.accepted", message: result.message });
    return { message: result.message, created: result.kind === "created" };
  }

  /** The conversation facts of a new message: its kind, and the reply, place or cards it carries. */
  private async conversation(
    request: SendMessageRequest,
    channel: Channel,
    to: string,
    hasMedia: boolean,
  ): Promise<Conversation> {
    const { replyTo, location, contacts } = request;
    if ((replyTo !== undefined || location || contacts) && channel !== "whatsapp") {
      throw new DomainError("MESSAGE.NOT_SUPPORTED", `${WHATSAPP_ONLY}; this message goes by ${channel}`);
    }
    if (replyTo !== undefined) {
      // One of ours must be in this chat; anything else is taken as the provider's id.
      const quoted = await this.store.get(replyTo);
      if (quoted && chatOf(quoted) !== to) {
        throw new DomainError("REQUEST.INVALID", "replyTo: that message is in another chat", [
          { field: "replyTo", message: "not a message of this chat" },
        ]);
      }
    }
    const kind = location ? "location" : contacts ? "contacts" : hasMedia ? "media" : "text";
    return {
      ...plainConversation(kind),
      replyTo: replyTo ?? null,
      location: location
        ? {
            latitude: location.latitude,
            longitude: location.longitude,
            name: location.name ?? null,
            address: location.address ?? null,
          }
        : null,
      contacts: contacts ? contacts.map((card) => ({ name: card.name, phones: [...card.phones] })) : null,
      group: isGroupAddress(to) ? to : null,
    };
  }
}

const WHATSAPP_ONLY = "replies, locations and contacts are WhatsApp features";

/** A digest of the request that ignores key order, so equal bodies match. */
function fingerprint(request: SendMessageRequest): string {
  return createHash("sha256").update(canonicalJson(request)).digest("base64url");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
