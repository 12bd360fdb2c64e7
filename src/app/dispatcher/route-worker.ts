import type { Message, Route } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { AttemptOutcome, MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { withTimeout } from "../../domain/timeout.ts";
import { isStorageOutage, outageRetryDelayMs, pause } from "../store-outage.ts";
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
  /**
   * Makes a message ready before it is sent (fetches files given by URL,
   * finds the message a reply or reaction points at), within the send
   * timeout; throws `PreparationError`. Absent: messages go as they are.
   */
  readonly prepare?: (message: Message, signal: AbortSignal) => Promise<Message>;
  /** Called once a message's `sent` is recorded (an edit or delete applies to its target then). */
  readonly afterSent?: (message: Message) => Promise<void>;
  /** Wraps each send attempt (tracing); runs it as is when absent. */
  readonly instrumentSend?: <T>(message: Message, send: () => Promise<T>) => Promise<T>;
}

/** A recipient's messages handed out by one claim: they go out one after another, in order. */
interface Run {
  /** Members whose outcome is not being recorded yet. */
  unrecorded: number;
}

/** What a settled delivery asks of the pump. */
interface Settled {
  /** The delivery already woke the pump to claim, joined to its record. */
  readonly claimedNext: boolean;
  /** Its record was the run's last: the recipient may have more to claim. */
  readonly closedRun: boolean;
}

/**
 * Drains the queue of one (provider, session): claims due messages while the
 * session is ready, sends up to `concurrency` at once, and records every
 * outcome. Per recipient the store hands out a run of at most the provider's
 * `sendWindow` messages (one by default); a run's messages are sent one
 * after another, each once the one before it is on the wire, and a message
 * whose predecessor did not go out is released unsent, so nothing overtakes
 * an earlier message to the same recipient. Idle until woken: by a new
 * message, by the session becoming ready, or by the timer of the next retry.
 */
export class RouteWorker {
  private inFlight = new Set<Promise<Settled>>();
  /** The pump under way, if any: `stop` waits for it, since a claim it awaits may still hand out messages. */
  private pumpRun: Promise<void> | undefined;
  private wakeAgain = false;
  /** The last claim filled every free slot: more may be due as soon as one frees. */
  private saturated = false;
  private stopped = false;
  /** Outcomes a storage outage kept from being recorded, being tried again: no claim until they are written. */
  private recordsWaiting = 0;
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
    // Paced sends go one at a time: their spacing already dwarfs an ack's
    // round trip, and a run's later messages would wait out the pacing of
    // the ones before them while their lease runs.
    const window = this.options.minIntervalMs > 0 ? 1 : (provider.sendWindow ?? 1);
    try {
      do {
        this.wakeAgain = false;
        while (
          !this.stopped &&
          this.recordsWaiting === 0 &&
          provider.isReady(this.route.session) &&
          this.inFlight.size < this.options.concurrency
        ) {
          const free = this.options.concurrency - this.inFlight.size;
          const batch = await store.claim(this.route, free, this.options.leaseMs, this.deps.clock.now(), window);
          this.startRuns(batch);
          this.saturated = batch.length >= free;
          // Fewer than asked: nothing else is due now. Whatever makes more due
          // (a new message, a recorded attempt, a retry timer) wakes the pump,
          // so claiming again at once would only cost an empty transaction.
          if (!this.saturated) break;
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

  /** Starts the claimed messages: recipients side by side, each recipient's run in order. */
  private startRuns(batch: readonly Message[]): void {
    const runs = new Map<string, Message[]>();
    for (const message of batch) {
      const run = runs.get(message.to);
      if (run) run.push(message);
      else runs.set(message.to, [message]);
    }
    for (const messages of runs.values()) {
      const run: Run = { unrecorded: messages.length };
      let turn: Promise<boolean> = Promise.resolve(true);
      for (const message of messages) {
        let written!: (wentOut: boolean) => void;
        const next = new Promise<boolean>((resolve) => (written = resolve));
        this.track(this.deliver(message, run, turn, written));
        turn = next;
      }
    }
  }

  private track(delivery: Promise<Settled>): void {
    this.inFlight.add(delivery);
    const settle = ({ claimedNext, closedRun }: Settled): void => {
      this.inFlight.delete(delivery);
      // A closed run frees its recipient, a freed slot may let another message
      // go, and the last one out arms the retry timer; unless the claim after
      // this record already ran.
      if (!claimedNext && (closedRun || this.saturated || this.inFlight.size === 0)) this.wake();
    };
    void delivery.then(settle, () => settle({ claimedNext: false, closedRun: true }));
  }

  /**
   * Sends one message once `turn` says the one before it in its run went out
   * (else releases it unsent), and records the outcome. `written` tells the
   * next message of the run whether this one went out.
   */
  private async deliver(
    message: Message,
    run: Run,
    turn: Promise<boolean>,
    written: (wentOut: boolean) => void,
  ): Promise<Settled> {
    const { store, events, clock, logger } = this.deps;
    let outcome: AttemptOutcome;
    if (await turn) {
      outcome = await this.attempt(message, written);
    } else {
      written(false);
      outcome = { kind: "released" };
    }
    run.unrecorded--;
    const closedRun = run.unrecorded === 0;
    let claimedNext = false;
    try {
      const recorded = store.recordAttempt(message.id, outcome, clock.now());
      // The run's last record hands its recipient on: claim the next message
      // now, and the claim joins the group transaction of this record, right
      // after it, instead of costing a transaction of its own afterwards.
      // Only with a slot free beside this one: else the wake after it does.
      claimedNext = closedRun && outcome.kind === "sent" && this.inFlight.size < this.options.concurrency;
      if (claimedNext) this.wake();
      const updated = await recorded.catch((error: unknown) => this.recordAfterOutage(message, outcome, error));
      const reached = updated.history.slice(message.history.length).map((h) => h.status);
      events.publish({ type: "message.status", message: updated, reached });
      if (outcome.kind === "sent" && this.deps.afterSent) {
        await this.deps
          .afterSent(updated)
          .catch((error: unknown) =>
            logger.error({ err: error, messageId: message.id }, "dispatch: applying a sent message's effects failed"),
          );
      }
    } catch (error) {
      // The lease keeps the message safe: it is handed out again once it expires.
      logger.error({ err: error, messageId: message.id, ...this.route }, "dispatch: recording the attempt failed");
    }
    return { claimedNext, closedRun };
  }

  /**
   * Records an outcome the store refused because its storage failed (disk
   * full): tried again with backoff until it is written or the worker stops,
   * and no message of this route is claimed meanwhile, so a sent message is
   * never handed out again because its `sent` could not be written. Any
   * other error is thrown as it is.
   */
  private async recordAfterOutage(message: Message, outcome: AttemptOutcome, error: unknown): Promise<Message> {
    if (!isStorageOutage(error) || this.stopped) throw error;
    const { store, clock, logger } = this.deps;
    logger.warn(
      { err: error, messageId: message.id, ...this.route, outcome: outcome.kind },
      "dispatch: the store cannot record an attempt; trying again until it can",
    );
    this.recordsWaiting++;
    try {
      for (let attempt = 1; ; attempt++) {
        await pause(outageRetryDelayMs(attempt));
        if (this.stopped) throw error;
        try {
          const updated = await store.recordAttempt(message.id, outcome, clock.now());
          logger.info(
            { messageId: message.id, ...this.route, attempts: attempt },
            "dispatch: attempt recorded after the outage",
          );
          return updated;
        } catch (again) {
          if (!isStorageOutage(again)) throw again;
        }
      }
    } finally {
      this.recordsWaiting--;
      if (this.recordsWaiting === 0) this.wake();
    }
  }

  /** One send attempt; `written(true)` once the message is on the wire, `written(false)` when it never got there. */
  private async attempt(message: Message, written: (wentOut: boolean) => void): Promise<AttemptOutcome> {
    const { provider, clock, logger } = this.deps;
    const attempt = message.attempts + 1;
    try {
      const ready = await this.prepare(message);
      await this.pacer.wait();
      const attemptSend = () =>
        withTimeout(
          provider.send(ready, { written: () => written(true) }),
          this.options.sendTimeoutMs,
          () => new SendTimeoutError(`provider did not answer within ${this.options.sendTimeoutMs} ms`),
        );
      const receipt = await (this.deps.instrumentSend ? this.deps.instrumentSend(message, attemptSend) : attemptSend());
      written(true);
      return {
        kind: "sent" as const,
        providerMessageId: receipt.providerMessageId,
        ...(receipt.status ? { status: receipt.status } : {}),
      };
    } catch (error) {
      // Does nothing when the message already went out.
      written(false);
      const failure = classifyFailure(error, attempt, provider.isReady(this.route.session), this.options, clock.now());
      const log = failure.kind === "failed" ? logger.warn.bind(logger) : logger.info.bind(logger);
      log(
        { messageId: message.id, ...this.route, attempt, outcome: failure.kind, error: failure.error },
        "dispatch: attempt failed",
      );
      return failure;
    }
  }

  /** The message with its files ready to send; aborted (and retried later) past the send timeout. */
  private async prepare(message: Message): Promise<Message> {
    const prepare = this.deps.prepare;
    if (!prepare) return message;
    const abort = new AbortController();
    const ms = this.options.sendTimeoutMs;
    try {
      return await withTimeout(prepare(message, abort.signal), ms, () => {
        const error = new SendTimeoutError(`the message was not ready to send within ${ms} ms`);
        abort.abort(error);
        return error;
      });
    } finally {
      abort.abort();
    }
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
