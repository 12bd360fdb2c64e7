import { randomUUID } from "node:crypto";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { Conversation } from "../../domain/conversation.ts";
import type { MessageMedia } from "../../domain/media.ts";
import type {
  InboundMedia,
  MessagingProvider,
  ProviderEvent,
  ReportedInboundMessage,
} from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import type { InboundMediaIntake } from "../media/inbound-media-intake.ts";
import { isStorageOutage, outageRetryDelayMs, pause } from "../store-outage.ts";

/** Most provider events waiting for a store outage to end; past it they are logged and dropped. */
const MAX_WAITING_FOR_STORE = 10_000;

/** When a file that could not be downloaded is tried again, after the message was recorded with its `error`. */
const REPAIR_DELAYS_MS = [30_000, 120_000, 600_000];

export interface RecordProviderEventOptions {
  /** Keeps inbound files in the MediaStore; absent: they are recorded with an error. */
  readonly media?: InboundMediaIntake;
  /** When files that failed are tried again (default 30 s, 2 min, 10 min). */
  readonly repairDelaysMs?: readonly number[];
  /** WA_AUTO_READ: every inbound message is marked read once recorded. */
  readonly autoRead?: boolean;
}

/**
 * Turns what a provider reports into stored facts and domain events: inbound
 * messages (recorded once, however often the provider redelivers them),
 * status reports (never moving a status backwards), and session changes
 * (`session.ready` first when the session can send, which wakes the
 * dispatcher, then `session.state` for the webhook). An inbound message's
 * files are brought into the MediaStore before it is recorded; a file that
 * cannot be downloaded is recorded with its `error` and tried again a few
 * times in the background (while the process runs).
 */
export class RecordProviderEvent {
  constructor(
    private readonly store: MessageStore,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: RecordProviderEventOptions = {},
  ) {
    this.media = options.media;
    this.repairDelaysMs = options.repairDelaysMs ?? REPAIR_DELAYS_MS;
    this.autoRead = options.autoRead ?? false;
  }

  private readonly media: InboundMediaIntake | undefined;
  private readonly repairDelaysMs: readonly number[];
  private readonly autoRead: boolean;
  private waitingForStore = 0;

  /**
   * Subscribes to a provider; returns the unsubscribe. An event the store
   * refused because its storage failed (disk full) is handled again with
   * backoff until it is recorded (recording is idempotent: an inbound message
   * by its provider id, a status never moves backwards), up to a bound.
   */
  attach(provider: MessagingProvider): () => void {
    return provider.subscribe((event) => void this.handleUntilStored(provider, event));
  }

  private async handleUntilStored(provider: MessagingProvider, event: ProviderEvent): Promise<void> {
    let waiting = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.handle(provider, event);
        } catch (error) {
          if (!isStorageOutage(error) || (!waiting && this.waitingForStore >= MAX_WAITING_FOR_STORE)) throw error;
          if (!waiting) {
            waiting = true;
            this.waitingForStore++;
            this.logger.warn(
              { err: error, provider: provider.id, event: event.type },
              "events: the store cannot record a provider event; trying again until it can",
            );
          }
          await pause(outageRetryDelayMs(attempt));
        }
      }
    } catch (error) {
      this.logger.error(
        { err: error, provider: provider.id, event: event.type },
        "events: recording a provider event failed",
      );
    } finally {
      if (waiting) this.waitingForStore--;
    }
  }

  async handle(provider: MessagingProvider, event: ProviderEvent): Promise<void> {
    switch (event.type) {
      case "inbound":
        return this.recordInbound(provider, event.message);
      case "status": {
        const applied = await this.store.applyStatus(
          {
            provider: provider.id,
            providerMessageId: event.providerMessageId,
            status: event.status,
            ...(event.error ? { error: event.error } : {}),
          },
          this.clock.now(),
        );
        // A report the message had already passed, or a repeated one, changes nothing and is not announced.
        if (applied && applied.reached.length > 0) {
          this.events.publish({ type: "message.status", message: applied.message, reached: applied.reached });
        }
        return;
      }
      case "group":
        this.events.publish({ type: "group.updated", session: event.session, update: event.update });
        return;
      case "session": {
        if (event.ready) this.events.publish({ type: "session.ready", provider: provider.id, session: event.session });
        const info = provider.sessions?.get(event.session);
        if (info) this.events.publish({ type: "session.state", session: info });
        return;
      }
    }
  }

  private async recordInbound(provider: MessagingProvider, reported: ReportedInboundMessage): Promise<void> {
    const { media: files, conversation: reportedConversation, ...rest } = reported;
    const conversation = reportedConversation && (await this.ourIds(provider.id, reportedConversation));
    // An edit or a delete changes the message it names; it is no message of its own.
    if (conversation?.kind === "edit" || conversation?.kind === "revoke") {
      return this.applyToTarget(provider.id, rest.from, conversation);
    }
    const taken = await this.takeMedia(files);
    const { message, created } = await this.store.recordInbound({
      id: randomUUID(),
      ...rest,
      media: taken.media,
      ...(conversation ? { conversation } : {}),
    });
    if (!created) {
      // A redelivery: the first one's files are the message's.
      await this.media?.release(taken.media);
      return;
    }
    if (message.kind === "reaction") {
      this.events.publish({ type: "message.reaction", message });
      return;
    }
    this.events.publish({ type: "message.inbound", message });
    if (taken.failed.length > 0) this.repairLater(message.id, files, taken.media, 0);
    if (this.autoRead && provider.conversations) {
      provider.conversations
        .markRead(message)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, messageId: message.id }, "events: marking an inbound message read failed"),
        );
    }
  }

  /** The provider's message ids in a reported conversation, replaced by ours where we hold the message. */
  private async ourIds(provider: string, conversation: Conversation): Promise<Conversation> {
    const ours = async (providerId: string): Promise<string> =>
      (await this.store.findByProviderMessageId(provider, providerId))?.id ?? providerId;
    return {
      ...conversation,
      replyTo: conversation.replyTo === null ? null : await ours(conversation.replyTo),
      reaction: conversation.reaction && {
        ...conversation.reaction,
        messageId: await ours(conversation.reaction.messageId),
      },
      edit: conversation.edit && { ...conversation.edit, messageId: await ours(conversation.edit.messageId) },
      revoke: conversation.revoke && { messageId: await ours(conversation.revoke.messageId) },
    };
  }

  /** A received edit or delete, applied to the message it names (announced when it changed something). */
  private async applyToTarget(provider: string, from: string, conversation: Conversation): Promise<void> {
    const now = this.clock.now();
    const edit = conversation.edit;
    const targetId = edit?.messageId ?? conversation.revoke?.messageId;
    if (!targetId) return;
    // Only the sender of a message can change it.
    const target = await this.store.get(targetId);
    if (target && (target.direction !== "inbound" || target.from !== from)) {
      this.logger.warn(
        { provider, targetId, from },
        "events: ignored an edit or delete of a message its sender did not send",
      );
      return;
    }
    const result = await this.store.amend(
      targetId,
      edit ? { kind: "edited", text: edit.text } : { kind: "deleted" },
      now,
    );
    if (!result) {
      this.logger.info(
        { provider, targetId, kind: conversation.kind },
        "events: an edit or delete of a message never recorded",
      );
      return;
    }
    if (result.changed) {
      this.events.publish({ type: edit ? "message.edited" : "message.deleted", message: result.message });
    }
  }

  private async takeMedia(
    files: readonly InboundMedia[],
  ): Promise<{ media: readonly MessageMedia[]; failed: number[] }> {
    if (files.length === 0) return { media: [], failed: [] };
    if (this.media) {
      const taken = await this.media.take(files);
      return { media: taken.media, failed: [...taken.failed] };
    }
    const error = { code: "media.not_kept", message: "this gateway keeps no media" };
    const media = files.map((file) => ({
      id: null,
      kind: file.kind,
      mimeType: file.mimeType ?? null,
      size: null,
      sha256: null,
      filename: file.filename ?? null,
      caption: file.caption ?? null,
      sourceUrl: null,
      error,
    }));
    return { media, failed: [] };
  }

  /** Tries the files recorded with an `error` again after a pause, and stores what it got. */
  private repairLater(
    messageId: string,
    files: readonly InboundMedia[],
    media: readonly MessageMedia[],
    round: number,
  ): void {
    const delay = this.repairDelaysMs[round];
    const intake = this.media;
    if (delay === undefined || !intake) return;
    const timer = setTimeout(() => {
      void (async () => {
        const next = [...media];
        let stillFailing = false;
        for (const [index, file] of files.entries()) {
          if (next[index]?.error === null) continue;
          const retried = await intake.take([file], 1 + (round + 1) * 3);
          const attachment = retried.media[0];
          if (attachment) next[index] = attachment;
          if (retried.failed.length > 0) stillFailing = true;
        }
        const updated = await this.store.updateMedia(messageId, next, this.clock.now());
        if (updated) this.logger.info({ messageId, complete: !stillFailing }, "media: inbound files tried again");
        if (stillFailing) this.repairLater(messageId, files, next, round + 1);
      })().catch((error: unknown) =>
        this.logger.error({ err: error, messageId }, "media: trying inbound files again failed"),
      );
    }, delay);
    timer.unref?.();
  }
}
