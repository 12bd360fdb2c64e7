import { ProviderError } from "../../src/domain/errors.ts";
import type { Message } from "../../src/domain/message.ts";
import type {
  ContactLookup,
  ConversationControl,
  MessagingProvider,
  ProviderEvent,
  ProviderEventListener,
  SendProgress,
  SendReceipt,
} from "../../src/domain/ports/messaging-provider.port.ts";
import type { Channel } from "../../src/domain/address.ts";

/**
 * An in-memory MessagingProvider for tests only: sessions that can be made
 * ready or not, a record of what was sent, scripted failures, and events that
 * tests can emit as if the network had spoken.
 */
export class MemoryMessagingProvider implements MessagingProvider {
  readonly sent: Message[] = [];
  /** Read marks, presence updates and lookups asked of this provider, in order. */
  readonly chatActions: string[] = [];
  /** Numbers (`whatsapp:+E164`) this provider says are not on WhatsApp. */
  readonly notOnWhatsApp = new Set<string>();
  readonly conversations: ConversationControl = {
    markRead: async (message) => {
      this.chatActions.push(`read ${message.providerMessageId ?? message.id}`);
    },
    presence: async (session, to, state) => {
      if (!this.isReady(session)) throw new ProviderError(this.id, `session "${session}" is not connected`, true);
      this.chatActions.push(`${state} ${session} ${to}`);
    },
    lookup: async (session, address): Promise<ContactLookup> => {
      this.chatActions.push(`lookup ${session} ${address}`);
      return { address, onWhatsApp: !this.notOnWhatsApp.has(address), lid: null };
    },
  };
  /**
   * Set above 1 to behave like a provider with a send window: a send is
   * written at once (recorded in `written`, `progress.written()` called) and
   * only its confirmation waits on `holdSends`; a scripted failure then
   * fails it before it is written.
   */
  sendWindow: number | undefined;
  readonly written: Message[] = [];
  /** Sends currently waiting on `holdSends`. */
  inFlight = 0;
  maxInFlight = 0;
  private readonly ready = new Map<string, boolean>();
  private readonly listeners = new Set<ProviderEventListener>();
  private readonly failures: Error[] = [];
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  /** Like the real providers, a stopped one has no ready session and refuses to send (retryably). */
  private running = true;

  constructor(
    readonly id: string = "memory",
    readonly channels: readonly Channel[] = ["whatsapp", "sms"],
    sessions: Record<string, boolean> = { default: true },
  ) {
    for (const [session, isReady] of Object.entries(sessions)) this.ready.set(session, isReady);
  }

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  hasSession(session: string): boolean {
    return this.ready.has(session);
  }

  isReady(session: string): boolean {
    return this.running && this.ready.get(session) === true;
  }

  setReady(session: string, isReady: boolean): void {
    this.ready.set(session, isReady);
    this.emit({ type: "session", session, state: isReady ? "open" : "reconnecting", ready: isReady });
  }

  /** The next sends fail with these errors, in order. */
  failWith(...errors: Error[]): void {
    this.failures.push(...errors);
  }

  failRetryable(times: number, message = "temporarily unavailable"): void {
    for (let i = 0; i < times; i++) this.failures.push(new ProviderError(this.id, message, true));
  }

  /** Sends wait until `release()`; lets tests observe concurrency and in-flight state. */
  holdSends(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  /** The id the recipient sees: derived from our message id, so sending it again is the same message. */
  providerMessageId(message: Message): string {
    return `${this.id}-${message.id}`;
  }

  async send(message: Message, progress?: SendProgress): Promise<SendReceipt> {
    if (!this.running) throw new ProviderError(this.id, "the provider is stopped", true);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.sendWindow !== undefined) return await this.sendWritingFirst(message, progress);
      if (this.gate) await this.gate;
      const failure = this.failures.shift();
      if (failure) throw failure;
      this.sent.push(message);
      return { providerMessageId: this.providerMessageId(message) };
    } finally {
      this.inFlight--;
    }
  }

  private async sendWritingFirst(message: Message, progress: SendProgress | undefined): Promise<SendReceipt> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.written.push(message);
    progress?.written();
    if (this.gate) await this.gate;
    this.sent.push(message);
    return { providerMessageId: this.providerMessageId(message) };
  }

  subscribe(listener: ProviderEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ProviderEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
