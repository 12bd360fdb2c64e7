import type { Message, Route } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { AttemptOutcome, MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../logger.ts";
import { classifyFailure, SendTimeoutError, type FailurePolicy } from "./classify-failure.ts";
import { Pacer } from "./pacer.ts";

export interface RouteWorkerOptions extends FailurePolicy {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly sendTimeoutMs: number;
  readonly minIntervalMs: number;
}

export interface RouteWorkerDeps {
  readonly store: MessageStore;
  readonly provider: MessagingProvider;
  readonly events: DomainEvents;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: () => number;
  /** Wraps each send attempt (tracing); runs it as is when absent. */
  readonly instrumentSend?: <T>(message: Message, send: () => Promise<T>) => Promise<T>;
}

/**
 * Drains the queue of one (provider, session): claims due messages while the
 * session is ready, sends up to `concurrency` at once (the store hands out
 * one message per recipient at a time, which keeps FIFO per recipient), and
 * records every outcome. Idle until woken: by a new message, by the session
 * becoming ready, or by the timer of the next retry.
 */
export class RouteWorker {
  private inFlight = new Set<Promise<boolean>>();
  /** The pump under way, if any: `stop` waits for it, since a claim it awaits may still hand out messages. */
  private pumpRun: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pacer: Pacer;

  constructor(
    readonly route: Route,
    private readonly deps: RouteWorkerDeps,
    private readonly options: RouteWorkerOptions,
  ) {
    this.pacer = new Pacer(options.minIntervalMs);
  }

  wake(): void {
    if (this.stopped) return;
    if (this.pumpRun !== undefined) {
      this.wakeAgain = true;
      return;
    }
    this.pumpRun = this.pump().finally(() => {
      this.pumpRun = undefined;
      if (this.wakeAgain) this.wake();
    });
  }

  /**
   * Stops claiming; resolves when in-flight sends have finished or `timeoutMs`
   * passed. A claim already under way may still hand out messages: they are
   * sent and waited for too, rather than left `sending` behind.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const drained = (async () => {
      await this.pumpRun;
      await Promise.allSettled([...this.inFlight]);
    })();
    await Promise.race([drained, timeout]);
    clearTimeout(timer);
  }

  private async pump(): Promise<void> {
    const { store, provider, logger } = this.deps;
    try {
      do {
        this.wakeAgain = false;
        while (!this.stopped && provider.isReady(this.route.session) && this.inFlight.size < this.options.concurrency) {
          const free = this.options.concurrency - this.inFlight.size;
          const batch = await store.claim(this.route, free, this.options.leaseMs, this.deps.clock.now());
          for (const message of batch) this.track(this.deliver(message));
          // Fewer than asked: nothing else is due now. Whatever makes more due
          // (a new message, a recorded attempt, a retry timer) wakes the pump,
          // so claiming again at once would only cost an empty transaction.
          if (batch.length < free) break;
        }
      } while (this.wakeAgain && !this.stopped);
      if (this.inFlight.size === 0) await this.armRetryTimer();
    } catch (error) {
      // The store failed (disk full, locked): nothing was lost, the messages stay
      // queued; try again a little later rather than spinning.
      logger.error({ err: error, ...this.route }, "dispatch: claiming from the queue failed");
      this.armTimer(1_000);
    }
  }

  private track(delivery: Promise<boolean>): void {
    this.inFlight.add(delivery);
    const settle = (claimedNext: boolean): void => {
      this.inFlight.delete(delivery);
      // A freed slot may let another message go, unless the next claim already ran.
      if (!claimedNext) this.wake();
    };
    void delivery.then(settle, () => settle(false));
  }

  /** Sends one message and records the outcome; true when it already woke the pump to claim the next one. */
  private async deliver(message: Message): Promise<boolean> {
    const { store, provider, events, clock, logger } = this.deps;
    const attempt = message.attempts + 1;
    let outcome: AttemptOutcome;
    let claimedNext = false;
    try {
      await this.pacer.wait();
      const attemptSend = () => withTimeout(provider.send(message), this.options.sendTimeoutMs);
      const receipt = await (this.deps.instrumentSend ? this.deps.instrumentSend(message, attemptSend) : attemptSend());
      outcome = {
        kind: "sent" as const,
        providerMessageId: receipt.providerMessageId,
        ...(receipt.status ? { status: receipt.status } : {}),
      };
    } catch (error) {
      const failure = classifyFailure(error, attempt, provider.isReady(this.route.session), this.options, clock.now(), this.deps.random);
      const log = failure.kind === "failed" ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ messageId: message.id, ...this.route, attempt, outcome: failure.kind, error: failure.error }, "dispatch: attempt failed");
      outcome = failure;
    }
    try {
      const recorded = store.recordAttempt(message.id, outcome, clock.now());
      // Claim the recipient's next message now: the claim joins the group
      // transaction of this record, right after it (which hands the head of
      // line on), instead of costing a transaction of its own afterwards.
      // Only with a slot free beside this one: else the wake after it does.
      claimedNext = outcome.kind === "sent" && this.inFlight.size < this.options.concurrency;
      if (claimedNext) this.wake();
      const updated = await recorded;
      const reached = updated.history.slice(message.history.length).map((h) => h.status);
      events.publish({ type: "message.status", message: updated, reached });
    } catch (error) {
      // The lease keeps the message safe: it is handed out again once it expires.
      logger.error({ err: error, messageId: message.id, ...this.route }, "dispatch: recording the attempt failed");
    }
    return claimedNext;
  }

  private async armRetryTimer(): Promise<void> {
    if (this.stopped || !this.deps.provider.isReady(this.route.session)) return;
    const due = await this.deps.store.nextDueAt(this.route);
    if (due) this.armTimer(Math.max(0, due.getTime() - this.deps.clock.now().getTime()));
  }

  private armTimer(delayMs: number): void {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.wake(), Math.min(delayMs, 2_147_483_647));
    this.retryTimer.unref?.();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeoutError(`provider did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
