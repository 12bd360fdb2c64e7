import type { SimPart } from "../processes.ts";

/** A message as the simulator recorded it (GET /control/messages). */
export interface SimMessage {
  readonly id: string;
  readonly to: string;
  readonly text: string | null;
  readonly at: number;
}

export interface Audit {
  /** Expected texts that arrived at least once. */
  readonly delivered: number;
  /** Expected texts that never arrived. */
  readonly lost: number;
  /** Extra arrivals: the simulator's own duplicate-id count, or repeated texts if higher. */
  readonly duplicates: number;
  /** Recipients whose arrivals are not in the order the messages were accepted. */
  readonly outOfOrderRecipients: number;
  /** Epoch ms of the last arrival of an expected text, or null. */
  readonly lastAt: number | null;
}

/**
 * Judges delivery from the simulator's own record (what WhatsApp received),
 * never from the gateway's statuses: `expected` maps a recipient (digits) to
 * its texts in accept order.
 */
export async function deliveryAudit(sim: SimPart, phone: string, expected: ReadonlyMap<string, readonly string[]>): Promise<Audit> {
  const received = await sim.call<SimMessage[]>("GET", `/control/messages?from=${phone}`);
  const stats = await sim.call<{ accounts: Record<string, { duplicates: number } | undefined> }>("GET", "/control/stats");
  const wanted = new Set([...expected.values()].flat());
  const seen = new Map<string, number>();
  let lastAt: number | null = null;
  for (const m of received) {
    if (m.text === null || !wanted.has(m.text)) continue;
    seen.set(m.text, (seen.get(m.text) ?? 0) + 1);
    lastAt = Math.max(lastAt ?? 0, m.at);
  }
  const repeated = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
  let outOfOrder = 0;
  for (const [to, texts] of expected) {
    const arrived = received.filter((m) => m.to === to && m.text !== null && wanted.has(m.text)).map((m) => m.text!);
    // First arrivals only: a duplicate is counted above, not twice as disorder.
    const firsts = arrived.filter((t, i) => arrived.indexOf(t) === i);
    const order = texts.filter((t) => seen.has(t));
    if (firsts.join("\n") !== order.join("\n")) outOfOrder++;
  }
  return {
    delivered: seen.size,
    lost: wanted.size - seen.size,
    duplicates: Math.max(stats.accounts[phone]?.duplicates ?? 0, repeated),
    outOfOrderRecipients: outOfOrder,
    lastAt,
  };
}
