/**
 * How sessions are spread over the live instances of a cluster. Every
 * instance computes the same spread from the same inputs (the instance
 * registry and the stored leases), so they agree on who should own what
 * without talking to each other.
 */
export interface SpreadInput {
  /** Ids of the live instances (order and duplicates do not matter). */
  readonly instances: readonly string[];
  /** The sessions to place (order and duplicates do not matter). */
  readonly sessions: readonly string[];
  /** Who owns each session now, when someone does; owners that are not live count as none. */
  readonly current?: ReadonlyMap<string, string>;
}

/**
 * The target owner of every session: an even spread (loads differ by at most
 * one) that moves as few sessions as possible from their current owners.
 * When an instance joins a balanced cluster only the sessions it receives
 * move; when one leaves only its sessions move. Where there is a choice (which
 * instance gets one session more, which sessions an overloaded instance
 * keeps, where an orphan goes), the choice is deterministic: the instances
 * with the most current sessions keep the extra ones, and otherwise a
 * session goes where its rendezvous hash with the instance is highest, so
 * the same inputs give the same answer on every instance.
 *
 * Empty when there is no live instance.
 */
export function spreadSessions(input: SpreadInput): Map<string, string> {
  const instances = [...new Set(input.instances)].sort();
  const sessions = [...new Set(input.sessions)].sort();
  const target = new Map<string, string>();
  if (instances.length === 0) return target;

  const live = new Set(instances);
  const owned = new Map<string, string[]>(instances.map((id) => [id, []]));
  const orphans: string[] = [];
  for (const session of sessions) {
    const owner = input.current?.get(session);
    if (owner !== undefined && live.has(owner)) owned.get(owner)!.push(session);
    else orphans.push(session);
  }

  const capacity = capacities(instances, owned, sessions.length);
  const load = new Map<string, number>();
  for (const instance of instances) {
    const mine = owned.get(instance)!.sort((a, b) => byPreference(a, b, instance));
    const cap = capacity.get(instance)!;
    for (const session of mine.slice(0, cap)) target.set(session, instance);
    orphans.push(...mine.slice(cap));
    load.set(instance, Math.min(cap, mine.length));
  }

  for (const session of orphans.sort()) {
    let best: string | undefined;
    for (const instance of instances) {
      if (load.get(instance)! >= capacity.get(instance)!) continue;
      if (best === undefined || score(session, instance) > score(session, best)) best = instance;
    }
    // The capacities add up to the number of sessions, so some instance always has room.
    target.set(session, best!);
    load.set(best!, load.get(best!)! + 1);
  }
  return target;
}

/**
 * How many sessions each instance gets: `floor(n / k)`, plus one for the
 * `n mod k` instances that own the most now (ties: the smaller id), which
 * keeps the most sessions where they are.
 */
function capacities(instances: readonly string[], owned: Map<string, string[]>, n: number): Map<string, number> {
  const base = Math.floor(n / instances.length);
  const extra = n % instances.length;
  const ranked = [...instances].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1));
  return new Map(ranked.map((instance, rank) => [instance, base + (rank < extra ? 1 : 0)]));
}

function byPreference(a: string, b: string, instance: string): number {
  return score(b, instance) - score(a, instance) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Rendezvous weight of a session on an instance: 32-bit FNV-1a of both ids. */
function score(session: string, instance: string): number {
  let hash = 0x811c9dc5;
  const text = `${session}\u0000${instance}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
