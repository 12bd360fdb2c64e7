import type { EventLog, LoggedEvent } from "../../domain/ports/event-log.port.ts";

/** Where live events come from: the recorder, in id order, once durable. */
export interface LiveEvents {
  /** `onEnd`: the source stops (the gateway shuts down); the stream ends so the server can close. */
  subscribe(listener: (event: LoggedEvent) => void, onEnd: () => void): () => void;
}

export interface EventStreamOptions {
  /** The client's `Last-Event-ID`: replay what came after it; undefined: only new events. */
  readonly lastEventId: string | undefined;
  /** Only these event types (the `types` query); undefined: all. */
  readonly types: ReadonlySet<string> | undefined;
  /** A `: ping` comment this often, so proxies and clients see the stream alive. */
  readonly heartbeatMs: number;
  /** The most chunks (events, pings) waiting for a slow client before it is dropped. */
  readonly maxPendingEvents: number;
  /** The most bytes waiting for a slow client before it is dropped. */
  readonly maxPendingBytes: number;
}

const REPLAY_PAGE = 200;
const encoder = new TextEncoder();

/**
 * One client's server-sent event stream: the events after its
 * `Last-Event-ID` from the log, then live ones, without gaps or repeats.
 * What waits for the client is bounded: the stream is pulled (the server
 * reads the next chunk only once the socket drained), and a client that
 * falls more than the bounds behind gets `event: dropped` and the end of
 * the stream, so it can resume from the id it saw last.
 */
export class EventStream {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly #queue: Uint8Array[] = [];
  #pendingBytes = 0;
  #readerWaiting = false;
  /** The id of the newest event handed towards the client (queued or sent). */
  #lastQueuedId: string;
  /** The id of the newest event handed to the server (what the client will have seen). */
  #lastSentId: string;
  /** Live events that arrive during the replay, sent after it. */
  #held: LoggedEvent[] | undefined = [];
  #unsubscribe: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #dropped = false;
  #drainWaiter: (() => void) | undefined;

  constructor(
    private readonly log: EventLog,
    live: LiveEvents,
    private readonly options: EventStreamOptions,
  ) {
    this.#lastQueuedId = options.lastEventId ?? "0";
    this.#lastSentId = this.#lastQueuedId;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#pull(),
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
    this.#unsubscribe = live.subscribe(
      (event) => this.#onLive(event),
      () => this.end(),
    );
    this.#push(encoder.encode(": connected\n\n"));
    this.#heartbeat = setInterval(() => this.#push(encoder.encode(": ping\n\n")), options.heartbeatMs);
    this.#heartbeat.unref?.();
  }

  /** What waits for the client: chunks and bytes (bounded by the options). */
  get pending(): { readonly events: number; readonly bytes: number } {
    return { events: this.#queue.length, bytes: this.#pendingBytes };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get dropped(): boolean {
    return this.#dropped;
  }

  /** Replays the events after `Last-Event-ID` (if given), then lets the live ones through. */
  async run(): Promise<void> {
    const after = this.options.lastEventId;
    if (after !== undefined) {
      const lost = await this.#lostSince(after);
      if (lost === "unknown id") {
        // An id this log never gave (its database was replaced): the ids
        // start over, so the client's would hide the new events.
        this.#lastQueuedId = "0";
        this.#push(
          sseEvent("reset", {
            reason: "the given id is unknown to this gateway; what is kept follows",
            lastEventId: after,
          }),
        );
      } else if (lost)
        this.#push(
          sseEvent("reset", {
            reason: "events after the given id are no longer kept (retention); what is kept follows",
            lastEventId: after,
          }),
        );
      let cursor = this.#lastQueuedId;
      while (!this.#closed) {
        await this.#waitForRoom();
        const page = await this.log.since(cursor, REPLAY_PAGE);
        for (const event of page) this.#send(event);
        if (page.length < REPLAY_PAGE) break;
        cursor = page[page.length - 1]!.id;
      }
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#send(event);
  }

  /** Ends the stream from our side: the client sees its end (and can resume from the last id). */
  end(): void {
    if (this.#closed) return;
    // What waits is bounded; it goes ahead of the end so the client's last id is the newest it got.
    const waiting = this.#queue.splice(0);
    this.close();
    for (const chunk of waiting) this.#hand(chunk);
    this.#controller.close();
  }

  /** Stops listening and discards what waits (the client went away). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearInterval(this.#heartbeat);
    this.#queue.length = 0;
    this.#pendingBytes = 0;
    this.#held = undefined;
    this.#drainWaiter?.();
  }

  /** Whether events after `after` were pruned, or `after` is newer than any id this log gave. */
  async #lostSince(after: string): Promise<boolean | "unknown id"> {
    const last = Number(after);
    if (last > Number(await this.log.newestId())) return "unknown id";
    const oldest = await this.log.oldestId();
    if (oldest !== undefined) return Number(oldest) > last + 1;
    return Number(await this.log.newestId()) > last;
  }

  #onLive(event: LoggedEvent): void {
    if (this.#held) {
      this.#held.push(event);
      if (this.#held.length > this.options.maxPendingEvents) this.#drop();
      return;
    }
    this.#send(event);
  }

  #send(event: LoggedEvent): void {
    // A live event may also have been read from the log during the replay.
    if (Number(event.id) <= Number(this.#lastQueuedId)) return;
    this.#lastQueuedId = event.id;
    if (this.options.types && !this.options.types.has(event.type)) return;
    const chunk = encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${event.body}\n\n`);
    this.#push(chunk, event.id);
  }

  #push(chunk: Uint8Array, id?: string): void {
    if (this.#closed) return;
    const entry = id === undefined ? chunk : Object.assign(chunk, { eventId: id });
    if (this.#readerWaiting) {
      this.#readerWaiting = false;
      this.#hand(entry);
      return;
    }
    this.#queue.push(entry);
    this.#pendingBytes += chunk.byteLength;
    if (this.#queue.length > this.options.maxPendingEvents || this.#pendingBytes > this.options.maxPendingBytes)
      this.#drop();
  }

  #pull(): void {
    const next = this.#queue.shift();
    if (!next) {
      this.#readerWaiting = !this.#closed;
      this.#drainWaiter?.();
      return;
    }
    this.#pendingBytes -= next.byteLength;
    this.#hand(next);
    if (this.#queue.length < REPLAY_PAGE) this.#drainWaiter?.();
  }

  #hand(chunk: Uint8Array & { eventId?: string }): void {
    if (chunk.eventId !== undefined) this.#lastSentId = chunk.eventId;
    this.#controller.enqueue(chunk);
  }

  /** Resolves once the queue has room for another replay page (or the stream closed). */
  #waitForRoom(): Promise<void> {
    if (this.#closed || this.#queue.length < REPLAY_PAGE) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drainWaiter = () => {
        this.#drainWaiter = undefined;
        resolve();
      };
    });
  }

  /** The client is too slow: what waits is discarded, it is told why and where to resume, and the stream ends. */
  #drop(): void {
    if (this.#closed) return;
    const lastEventId = this.#lastSentId;
    this.#dropped = true;
    this.close();
    this.#controller.enqueue(sseEvent("dropped", { reason: "slow consumer", lastEventId }));
    this.#controller.close();
  }
}

/** An event with no id (so the client's Last-Event-ID stays the last real event's). */
function sseEvent(type: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
