import type { WriteHealth } from "../errors.ts";
import { injectionToken, type InjectionToken } from "../injection-token.ts";

/** A public event as recorded: its webhook body, kept byte for byte. */
export interface NewLoggedEvent {
  /** The webhook event type (`message.inbound`, `session.state`, ...). */
  readonly type: string;
  /** `{type, timestamp, data}`, exactly the webhook payload. */
  readonly body: string;
  /** When it was recorded: what the retention counts from. */
  readonly at: Date;
}

export interface LoggedEvent extends NewLoggedEvent {
  /** Monotonic: a decimal integer, greater than every id before it, never reused. */
  readonly id: string;
}

/**
 * The durable record of public events that the event stream replays from
 * (`Last-Event-ID`), bounded by a retention.
 */
export interface EventLog {
  /** Records an event; resolves once it is durable, with its id. */
  append(event: NewLoggedEvent): Promise<LoggedEvent>;
  /**
   * Up to `limit` events recorded after `afterId`, oldest first.
   * `afterId` "0" means from the first event kept.
   */
  since(afterId: string, limit: number): Promise<LoggedEvent[]>;
  /** The id of the oldest event kept, or undefined when none is. */
  oldestId(): Promise<string | undefined>;
  /** The id of the newest event ever recorded ("0" when none was), even if pruned since. */
  newestId(): Promise<string>;
  /** Removes events recorded before `olderThan`; resolves with how many went. */
  prune(olderThan: Date): Promise<number>;
  /**
   * Whether the store can write: `down` with the reason while its storage
   * fails (disk full, I/O errors); may try a tiny write to find out, so it
   * turns `ok` by itself once the storage recovers. Optional: a store with
   * no storage of its own (an in-memory fake) leaves it out.
   */
  health?(): Promise<WriteHealth>;

  close(): Promise<void>;
}

export const EventLog: InjectionToken<EventLog> = injectionToken("EventLog");
