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
  /**
   * Extra messages the recipient sees: a text that arrived under more than
   * one WhatsApp id counts once per extra id.
   */
  readonly duplicates: number;
  /**
   * Arrivals of a WhatsApp id already received: the resend of a message
   * whose ack a drop swallowed. The recipient sees one message (WhatsApp
   * identifies a message by its id), so these are reported, not failed.
   */
  readonly resentSameId: number;
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
export async function deliveryAudit(
  sim: SimPart,
  phone: string,
  expected: ReadonlyMap<string, readonly string[]>,
): Promise<Audit> {
  return judgeArrivals(await sim.call<SimMessage[]>("GET", `/control/messages?from=${phone}`), expected);
}

/** The judgement of `deliveryAudit` over the arrivals, in arrival order. */
export function judgeArrivals(
  received: readonly SimMessage[],
  expected: ReadonlyMap<string, readonly string[]>,
): Audit {
  const wanted = new Set([...expected.values()].flat());
  const idsByText = new Map<string, Set<string>>();
  let resentSameId = 0;
  let lastAt: number | null = null;
  for (const m of received) {
    if (m.text === null || !wanted.has(m.text)) continue;
    const ids = idsByText.get(m.text) ?? new Set<string>();
    if (ids.has(m.id)) resentSameId++;
    ids.add(m.id);
    idsByText.set(m.text, ids);
    lastAt = Math.max(lastAt ?? 0, m.at);
  }
  const duplicates = [...idsByText.values()].reduce((n, ids) => n + (ids.size - 1), 0);
  let outOfOrder = 0;
  for (const [to, texts] of expected) {
    const arrived = received.filter((m) => m.to === to && m.text !== null && wanted.has(m.text)).map((m) => m.text!);
    // First arrivals only: a repeat is counted above, not twice as disorder.
    const firsts = arrived.filter((t, i) => arrived.indexOf(t) === i);
    const order = texts.filter((t) => idsByText.has(t));
    if (firsts.join("\n") !== order.join("\n")) outOfOrder++;
  }
  return {
    delivered: idsByText.size,
    lost: wanted.size - idsByText.size,
    duplicates,
    resentSameId,
    outOfOrderRecipients: outOfOrder,
    lastAt,
  };
}
