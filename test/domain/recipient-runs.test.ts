import { describe, expect, it } from "vitest";
import {
  dueAt,
  followersToRead,
  isDue,
  nextDueAt,
  selectRuns,
  type RunCandidate,
} from "../../src/domain/recipient-runs.ts";

let seq = 0;
/** A queued message due at `due` (ms), accepted after every one built before it. */
const queued = (due = 0): RunCandidate => ({
  seq: ++seq,
  message: { status: "queued" },
  nextAttemptAt: due,
  leaseUntil: null,
});
/** An in-flight message whose lease runs out at `until` (ms). */
const sending = (until: number): RunCandidate => ({
  seq: ++seq,
  message: { status: "sending" },
  nextAttemptAt: 0,
  leaseUntil: until,
});
const at = (ms: number): Date => new Date(ms);
const seqs = (picked: readonly RunCandidate[]): number[] => picked.map((c) => c.seq);

describe("due times", () => {
  it("a queued message is due at its next attempt, an in-flight one when its lease runs out", () => {
    expect(dueAt({ seq: 1, message: { status: "queued" }, nextAttemptAt: 50, leaseUntil: 999 })).toBe(50);
    expect(dueAt({ seq: 1, message: { status: "sending" }, nextAttemptAt: 50, leaseUntil: 999 })).toBe(999);
    expect(isDue(queued(10), at(10))).toBe(true);
    expect(isDue(queued(10), at(9))).toBe(false);
    expect(isDue(sending(10), at(10))).toBe(true);
    expect(isDue(sending(10), at(9))).toBe(false);
  });

  it("nextDueAt is the soonest head's due time, none without heads", () => {
    expect(nextDueAt([])).toBeUndefined();
    expect(nextDueAt([queued(300), sending(120), queued(200)])).toEqual(at(120));
  });
});

describe("selectRuns", () => {
  it("hands out each recipient's head, in acceptance order, one per recipient by default", () => {
    const alice = [queued(), queued()];
    const bob = [queued(), queued()];
    const carol = [queued()];
    expect(seqs(selectRuns([carol, bob, alice], 10, 1, at(0)))).toEqual(seqs([alice[0]!, bob[0]!, carol[0]!]));
  });

  it("hands out nothing for a limit below one", () => {
    expect(selectRuns([[queued()]], 0, 1, at(0))).toEqual([]);
    expect(selectRuns([[queued()]], 0.5, 1, at(0))).toEqual([]);
    expect(selectRuns([[queued()]], Number.NaN, 1, at(0))).toEqual([]);
  });

  it("respects the limit: the oldest due heads first", () => {
    const queues = [[queued()], [queued()], [queued()]];
    expect(seqs(selectRuns(queues, 2, 1, at(0)))).toEqual([queues[0]![0]!.seq, queues[1]![0]!.seq]);
  });

  it("hands out up to `window` of a recipient's messages, in acceptance order", () => {
    const alice = [queued(), queued(), queued(), queued(), queued()];
    expect(seqs(selectRuns([alice], 10, 3, at(0)))).toEqual(seqs(alice.slice(0, 3)));
  });

  it("gives every due recipient its head before lengthening runs, oldest recipient's run first", () => {
    const a1 = queued();
    const a2 = queued();
    const a3 = queued();
    const b1 = queued();
    const b2 = queued();
    expect(
      seqs(
        selectRuns(
          [
            [a1, a2, a3],
            [b1, b2],
          ],
          3,
          8,
          at(0),
        ),
      ),
    ).toEqual(seqs([a1, a2, b1]));
  });

  it("holds a recipient whose head is not due: waiting for its retry, or in flight", () => {
    const retrying = [queued(100), queued(0)];
    const inFlight = [sending(100), queued(0)];
    const free = [queued(0)];
    expect(seqs(selectRuns([retrying, inFlight, free], 10, 5, at(50)))).toEqual(seqs(free));
  });

  it("ends a run before the first message that is not due", () => {
    const alice = [queued(0), queued(500), queued(0)];
    expect(seqs(selectRuns([alice], 10, 3, at(100)))).toEqual([alice[0]!.seq]);
    const bob = [queued(0), queued(0), sending(500), queued(0)];
    expect(seqs(selectRuns([bob], 10, 4, at(100)))).toEqual(seqs(bob.slice(0, 2)));
  });

  it("hands a run whose lease ran out out again, whole", () => {
    const alice = [sending(1_000), sending(1_000), sending(1_000)];
    expect(selectRuns([alice], 10, 3, at(999))).toEqual([]);
    expect(seqs(selectRuns([alice], 10, 3, at(1_000)))).toEqual(seqs(alice));
  });

  it("treats a window below one as one", () => {
    const alice = [queued(), queued()];
    expect(seqs(selectRuns([alice], 10, 0, at(0)))).toEqual([alice[0]!.seq]);
  });

  it("skips recipients without messages", () => {
    const alice = [queued()];
    expect(seqs(selectRuns([[], alice], 10, 2, at(0)))).toEqual([alice[0]!.seq]);
  });

  it("needs no more followers than followersToRead says", () => {
    expect(followersToRead(10, 3, 1)).toBe(0);
    expect(followersToRead(10, 3, 4)).toBe(3);
    expect(followersToRead(10, 8, 4)).toBe(2);
    expect(followersToRead(10, 10, 4)).toBe(0);
    // A store that passes only that many after each head gets the same runs.
    const queues = [0, 1, 2].map(() => [queued(), queued(), queued(), queued(), queued()]);
    for (const window of [1, 2, 3, 8]) {
      for (const limit of [1, 3, 4, 7, 20]) {
        const read = followersToRead(limit, queues.length, window);
        const cut = queues.map((queue) => queue.slice(0, 1 + read));
        expect(seqs(selectRuns(cut, limit, window, at(0)))).toEqual(seqs(selectRuns(queues, limit, window, at(0))));
      }
    }
  });
});
