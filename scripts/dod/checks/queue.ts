import { randomBytes } from "node:crypto";
import { until, type GatewayClient } from "../gateway-client.ts";
import { linkSession, nextPhone } from "../local-parts.ts";
import { round } from "../stats.ts";
import { CheckFailed, type Check, type Figure } from "../types.ts";
import { deliveryAudit, type SimMessage } from "./delivery-audit.ts";

const SESSION = "dod-queue";
const MESSAGES = 1_000;
/** Posts to one recipient are sequential (so "in order" is well defined), recipients in parallel. */
const RECIPIENTS = 8;

/**
 * DoD-5: 1,000 messages accepted while WhatsApp is unreachable (the
 * simulator refuses every connection), then, after the outage, every one is
 * delivered exactly once and in order per recipient, judged from the
 * simulator's own record of what reached it.
 */
export const queue: Check = async (ctx) => {
  const parts = ctx.parts!;
  const sim = await parts.simulator();
  const gw = await parts.mainGateway();
  const phone = nextPhone();
  await linkSession(gw.client, sim, SESSION, phone);
  const run = randomBytes(3).toString("hex");
  const block = String(randomBytes(2).readUInt16BE() % 10_000).padStart(4, "0");
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `+4072${block}${String(i).padStart(3, "0")}`);

  // Long enough for the posts on a slow machine; ended explicitly below.
  await sim.call("POST", "/control/outage", { seconds: 600 });
  let outageEnded = false;
  try {
    await until(
      async () => (await gw.client.session(SESSION))?.state !== "open",
      `session ${SESSION} to notice the outage`,
      20_000,
    );
    ctx.log(`queue: outage on, posting ${MESSAGES} messages to ${RECIPIENTS} recipients`);

    const expected = new Map<string, string[]>(recipients.map((r) => [r.slice(1), []]));
    const rejected: string[] = [];
    const postStarted = performance.now();
    await Promise.all(
      recipients.map(async (to, r) => {
        for (let i = r; i < MESSAGES; i += RECIPIENTS) {
          const text = `dod-queue ${run} #${i}`;
          const res = await gw.client.request("POST", "/messages", { to, text, session: SESSION });
          if (res.status === 202) expected.get(to.slice(1))!.push(text);
          else rejected.push(`${res.status}`);
          await res.body?.cancel();
        }
      }),
    );
    const postS = (performance.now() - postStarted) / 1000;
    const accepted = [...expected.values()].reduce((n, list) => n + list.length, 0);
    const early = await sim.call<SimMessage[]>("GET", `/control/messages?from=${phone}`);
    if (early.length > 0)
      throw new CheckFailed(
        `${early.length} messages reached WhatsApp during the outage (the simulator refuses connections)`,
      );
    const stillDown = (await gw.client.session(SESSION))?.state;

    await sim.call("POST", "/control/outage", { seconds: 0 });
    outageEnded = true;
    const endedAt = Date.now();
    ctx.log(`queue: ${accepted} accepted in ${postS.toFixed(1)} s; outage over, draining`);
    await until(
      async () => (await gw.client.session(SESSION))?.state === "open",
      `session ${SESSION} to reconnect after the outage`,
      60_000,
    );
    const reconnectMs = Date.now() - endedAt;

    // Wait for the simulator to hold every accepted text, then a little longer for any late duplicate.
    const wanted = new Set([...expected.values()].flat());
    await until(
      async () => {
        const got = new Set(
          (await sim.call<SimMessage[]>("GET", `/control/messages?from=${phone}`)).map((m) => m.text),
        );
        return [...wanted].every((t) => got.has(t)) || undefined;
      },
      "every accepted message to reach the simulator",
      180_000,
      250,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const audit = await deliveryAudit(sim, phone, expected);
    const drainS = audit.lastAt === null ? null : (audit.lastAt - endedAt) / 1000;
    const failed = await countWithStatus(gw.client, "failed");

    const figures: Record<string, Figure> = {
      accepted,
      rejected: rejected.length,
      delivered: audit.delivered,
      duplicates: audit.duplicates,
      resentSameId: audit.resentSameId,
      lost: audit.lost,
      outOfOrder: audit.outOfOrderRecipients,
      failed,
      drainS: drainS === null ? null : round(drainS, 1),
      reconnectMs,
      postS: round(postS, 1),
    };
    const problems = [
      rejected.length > 0 ? `${rejected.length} posts not accepted (${[...new Set(rejected)].join(", ")})` : "",
      stillDown === "open" ? "the session was open again before the outage ended" : "",
      audit.lost > 0 ? `${audit.lost} lost` : "",
      audit.duplicates > 0 ? `${audit.duplicates} duplicates` : "",
      audit.outOfOrderRecipients > 0 ? `${audit.outOfOrderRecipients} recipients out of order` : "",
      failed > 0 ? `${failed} messages failed at the gateway` : "",
    ].filter((p) => p !== "");
    if (accepted !== MESSAGES || problems.length > 0)
      throw new CheckFailed(problems.join("; ") || `${accepted}/${MESSAGES} accepted`, figures);
    return {
      pass: true,
      figures,
      detail: `${accepted} accepted during a simulator outage (session ${stillDown}), all delivered once (one WhatsApp id per text) and in order per recipient after it (simulator's record); drain = outage end -> last arrival, incl. reconnect`,
    };
  } finally {
    if (!outageEnded) await sim.call("POST", "/control/outage", { seconds: 0 }).catch(() => undefined);
  }
};

async function countWithStatus(client: GatewayClient, status: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor: string | null } = await client.json(
      "GET",
      `/messages?session=${SESSION}&status=${status}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}
