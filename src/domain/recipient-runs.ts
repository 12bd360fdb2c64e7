import type { StoredMessage } from "./message-lifecycle.ts";
import type { MessageStatus } from "./message-status.ts";

// Which messages a claim hands out. A recipient's messages go out in
// acceptance order, one run at a time: its oldest unfinished (queued or
// sending) message, its head, and the ones right after it. Stores query the
// candidates (they know how to find a route's heads without reading the
// whole queue); these functions decide which of them form the runs.

/**
 * An unfinished message as run selection sees it: what it reads of a
 * {@link StoredMessage}, and the message's place in acceptance order.
 */
export interface RunCandidate extends Pick<StoredMessage, "nextAttemptAt" | "leaseUntil"> {
  /** Acceptance order among the route's messages: lower was accepted first. */
  readonly seq: number;
  readonly message: { readonly status: MessageStatus };
}

/**
 * When a claim could hand the message out: a queued message's next attempt,
 * an in-flight one's lease expiry (a worker that died holds it until then).
 */
export function dueAt(candidate: RunCandidate): number {
  return (candidate.message.status === "queued" ? candidate.nextAttemptAt : candidate.leaseUntil) ?? 0;
}

/** Whether a claim at `now` may hand the message out. */
export function isDue(candidate: RunCandidate, now: Date): boolean {
  return dueAt(candidate) <= now.getTime();
}

/**
 * How many of each recipient's messages after its head a store must pass to
 * {@link selectRuns}, when `dueHeads` recipients have a due head: a run takes
 * at most `window - 1` after its head, and no more than the room the heads
 * leave under `limit`. Lets a store read only what a claim may hand out.
 */
export function followersToRead(limit: number, dueHeads: number, window: number): number {
  const runLength = Math.max(1, Math.floor(window));
  return Math.max(0, Math.min(runLength - 1, Math.floor(limit) - dueHeads));
}

/**
 * The messages a claim hands out, at most `limit`, in acceptance order.
 *
 * `queues` holds, per recipient of the route, its unfinished messages in
 * acceptance order, its head first. A store may leave out recipients whose
 * head is not due, pass only the oldest `limit` due heads, and pass after
 * each head only {@link followersToRead} messages: the result is the same.
 *
 * Every recipient whose head is due gets its head first, oldest head first
 * up to `limit`. A head not due (waiting for its retry, or in flight under a
 * lease) holds its whole recipient back. What room the limit leaves then goes
 * to the messages right after the heads, oldest recipient first: each run is
 * at most `window` long (default and minimum 1) and ends before the first
 * message that is not due. A message whose lease ran out is due: it is handed
 * out again, with the rest of its run.
 */
export function selectRuns<T extends RunCandidate>(
  queues: readonly (readonly T[])[],
  limit: number,
  window: number,
  now: Date,
): T[] {
  const count = Math.floor(limit);
  if (!(count >= 1)) return [];
  const due = queues
    .filter((queue) => queue[0] !== undefined && isDue(queue[0], now))
    .sort((a, b) => a[0]!.seq - b[0]!.seq)
    .slice(0, count);
  const picked = due.map((queue) => queue[0]!);
  const room = followersToRead(count, due.length, window);
  let left = count - picked.length;
  for (const queue of due) {
    if (left < 1 || room < 1) break;
    const after = queue.slice(1, 1 + Math.min(room, left));
    const notDue = after.findIndex((candidate) => !isDue(candidate, now));
    const run = notDue === -1 ? after : after.slice(0, notDue);
    picked.push(...run);
    left -= run.length;
  }
  return picked.sort((a, b) => a.seq - b.seq);
}

/**
 * The earliest moment a claim could hand out one of these heads (each
 * recipient's oldest unfinished message), or undefined when there are none.
 * Messages behind a head are not claimable before it, so they never count.
 */
export function nextDueAt(heads: readonly RunCandidate[]): Date | undefined {
  if (heads.length === 0) return undefined;
  return new Date(heads.reduce((soonest, head) => Math.min(soonest, dueAt(head)), Number.POSITIVE_INFINITY));
}
