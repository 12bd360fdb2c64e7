import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { spreadSessions } from "../../src/domain/session-spread.ts";

function loads(target: Map<string, string>, instances: readonly string[]): number[] {
  const count = new Map(instances.map((i) => [i, 0]));
  for (const owner of target.values()) count.set(owner, (count.get(owner) ?? 0) + 1);
  return [...count.values()];
}

function moved(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([session, owner]) => before.get(session) !== owner).map(([session]) => session);
}

/** A cluster: 1..8 distinct instances and 0..60 distinct sessions. */
const cluster = fc.record({
  instances: fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { minLength: 1, maxLength: 8 }),
  sessions: fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), { maxLength: 60 }),
});

describe("spreadSessions", () => {
  it("is empty without live instances, and puts everything on a lone instance", () => {
    expect(spreadSessions({ instances: [], sessions: ["a"] }).size).toBe(0);
    expect([...spreadSessions({ instances: ["x"], sessions: ["a", "b"] })]).toEqual([
      ["a", "x"],
      ["b", "x"],
    ]);
  });

  it("keeps sessions with their live owners when that is already even, and moves a dead owner's only", () => {
    const current = new Map([
      ["s1", "a"],
      ["s2", "b"],
      ["s3", "dead"],
      ["s4", "a"],
    ]);
    const target = spreadSessions({ instances: ["a", "b"], sessions: ["s1", "s2", "s3", "s4"], current });
    expect(target.get("s1")).toBe("a");
    expect(target.get("s4")).toBe("a");
    expect(target.get("s2")).toBe("b");
    expect(target.get("s3")).toBe("b");
  });

  it("property: every session goes to a live instance and loads differ by at most one", () => {
    fc.assert(
      fc.property(cluster, ({ instances, sessions }) => {
        const target = spreadSessions({ instances, sessions });
        expect([...target.keys()].sort()).toEqual([...sessions].sort());
        for (const owner of target.values()) expect(instances).toContain(owner);
        const counts = loads(target, instances);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("property: the same inputs in any order give the same spread (every instance computes the same)", () => {
    fc.assert(
      fc.property(cluster, fc.nat(), ({ instances, sessions }, seed) => {
        const first = spreadSessions({ instances, sessions });
        const shuffled = (list: readonly string[]) =>
          [...list].map((v, i) => ({ v, k: (i * 7919 + seed) % 104729 })).sort((x, y) => x.k - y.k);
        const again = spreadSessions({
          instances: shuffled(instances).map((e) => e.v),
          sessions: shuffled(sessions).map((e) => e.v),
          current: new Map(first),
        });
        expect(again).toEqual(first);
        expect(spreadSessions({ instances: [...instances].reverse(), sessions: [...sessions].reverse() })).toEqual(
          first,
        );
      }),
    );
  });

  it("property: when an instance joins, only the sessions it receives move, and it receives its even share", () => {
    fc.assert(
      fc.property(cluster, ({ instances, sessions }) => {
        const before = spreadSessions({ instances, sessions });
        const joined = [...instances, "joiner!"];
        const after = spreadSessions({ instances: joined, sessions, current: before });
        const moves = moved(before, after);
        for (const session of moves) expect(after.get(session)).toBe("joiner!");
        const share = moves.length;
        expect(share).toBeGreaterThanOrEqual(Math.floor(sessions.length / joined.length));
        expect(share).toBeLessThanOrEqual(Math.ceil(sessions.length / joined.length));
      }),
    );
  });

  it("property: when an instance leaves, only its sessions move", () => {
    fc.assert(
      fc.property(cluster, fc.nat(), ({ instances, sessions }, pick) => {
        fc.pre(instances.length >= 2);
        const before = spreadSessions({ instances, sessions });
        const leaving = instances[pick % instances.length]!;
        const after = spreadSessions({ instances: instances.filter((i) => i !== leaving), sessions, current: before });
        expect(moved(before, after).sort()).toEqual(
          [...before]
            .filter(([, owner]) => owner === leaving)
            .map(([session]) => session)
            .sort(),
        );
      }),
    );
  });

  it("property: from any starting owners, it moves no more sessions than an even spread must", () => {
    fc.assert(
      fc.property(cluster, fc.array(fc.nat()), ({ instances, sessions }, picks) => {
        // Arbitrary (uneven, partly dead) current owners.
        const owners = [...instances, "gone"];
        const current = new Map(sessions.map((s, i) => [s, owners[(picks[i] ?? i) % owners.length]!]));
        const after = spreadSessions({ instances, sessions, current });
        // Lower bound on moves: orphans, plus whatever exceeds the most an instance may keep.
        const k = instances.length;
        const ceil = Math.ceil(sessions.length / k);
        const extra = sessions.length % k;
        const counts = instances.map((i) => [...current.values()].filter((o) => o === i).length).sort((a, b) => b - a);
        const keepable = counts.reduce(
          (sum, c, rank) => sum + Math.min(c, extra === 0 || rank < extra ? ceil : ceil - 1),
          0,
        );
        expect(moved(current, after).length).toBe(sessions.length - keepable);
      }),
    );
  });
});
