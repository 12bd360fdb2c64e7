// DoD-5, queue: N messages posted while the WhatsApp session is DOWN are all
// delivered after it recovers, none lost, none sent twice, in order per recipient.
//
// k6 cannot take a deployment's WhatsApp session down by itself. Before the
// run, the operator does one of:
//   - posts to a session that is not connected (SESSION=<an idle or logged-out
//     session>), then connects it (POST /sessions/{id}/connect, scan) during the drain;
//   - takes the linked phone offline (airplane mode) and brings it back during the drain;
//   - blocks the gateway's egress to WhatsApp for a while.
// setup() refuses to start while the session is open (ALLOW_OPEN=true overrides,
// but then the run proves nothing about the queue).
//
//   k6 run -e BASE_URL=... -e API_KEY=... -e SESSION=default -e TO=+40700000001,+40700000002 loadtests/queue.js
//
// Optional: MESSAGES (1000), VUS (10), DRAIN_TIMEOUT_S (900), POLL_S (5).
// Duplicates are best judged at the receiving phones too: each text carries "#<n>" once.
import { check, fail } from "k6";
import { Counter, Trend } from "k6/metrics";
import {
  env,
  envNumber,
  getSession,
  listSince,
  postMessage,
  recipients,
  SENT_OR_LATER,
  waitForDrain,
} from "./lib/gateway.js";

const SESSION = env("SESSION", "default");
const MESSAGES = envNumber("MESSAGES", 1000);
const VUS = envNumber("VUS", 10);
const DRAIN_TIMEOUT_S = envNumber("DRAIN_TIMEOUT_S", 900);
const POLL_S = envNumber("POLL_S", 5);

const accepted = new Counter("queue_accepted");
const delivered = new Counter("queue_delivered");
const lost = new Counter("queue_lost");
const doubled = new Counter("queue_sent_twice");
const outOfOrder = new Counter("queue_out_of_order_recipients");
const drainSeconds = new Trend("queue_drain_seconds");

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    post_while_down: {
      executor: "shared-iterations",
      vus: Math.min(VUS, MESSAGES),
      iterations: MESSAGES,
      maxDuration: "10m",
    },
  },
  // The drain is waited for in teardown: it must be allowed to take that long.
  teardownTimeout: `${DRAIN_TIMEOUT_S + 120}s`,
  thresholds: {
    "checks{phase:post}": ["rate==1"],
    "checks{phase:drain}": ["rate==1"],
    queue_lost: ["count==0"],
    queue_sent_twice: ["count==0"],
    queue_out_of_order_recipients: ["count==0"],
  },
};

export function setup() {
  const res = getSession(SESSION);
  if (res.status !== 200) fail(`GET /sessions/${SESSION} answered ${res.status}: set SESSION to an existing session`);
  const state = String(res.json("state"));
  if (state === "open" && env("ALLOW_OPEN", "") !== "true") {
    fail(
      `session ${SESSION} is open: take it down first (see the comment at the top of queue.js), or set ALLOW_OPEN=true`,
    );
  }
  // Clocks of this machine and the gateway may differ: list from a minute earlier, keep ours by run id.
  return {
    run: `q${Date.now().toString(36)}`,
    since: new Date(Date.now() - 60_000).toISOString(),
    to: recipients(),
    stateAtStart: state,
  };
}

/** @param {{run: string, to: string[]}} data */
export default function (data) {
  // shared-iterations: __ITER counts per VU; a global sequence number comes from the text's VU.ITER.
  const n = `${__VU}.${__ITER}`;
  const to = data.to[(__VU + __ITER) % data.to.length];
  const res = postMessage(
    { to, text: `k6 queue ${data.run} #${n}`, session: SESSION, idempotencyKey: `${data.run}-${n}` },
    { phase: "post" },
  );
  const ok = check(res, { "accepted while down (202)": (r) => r.status === 202 }, { phase: "post" });
  if (ok) accepted.add(1);
}

/** @param {{run: string, since: string, to: string[]}} data */
export function teardown(data) {
  /** @param {import("./lib/gateway.js").Message} m */
  const ours = (m) => m.text.startsWith(`k6 queue ${data.run} `);
  const drain = waitForDrain(SESSION, data.since, ours, DRAIN_TIMEOUT_S, POLL_S);
  drainSeconds.add(drain.seconds);
  check(drain, { "the queue drained before DRAIN_TIMEOUT_S": (d) => d.drained }, { phase: "drain" });

  const all = (listSince(SESSION, data.since) || []).filter(ours);
  let sentOnce = 0;
  for (const m of all) {
    const sends = m.history.filter((h) => h.status === "sent").length;
    if (SENT_OR_LATER.includes(m.status)) delivered.add(1);
    else lost.add(1);
    if (sends > 1) doubled.add(1);
    else sentOnce++;
  }
  check(all, { "every accepted message is listed": (list) => list.length === MESSAGES }, { phase: "drain" });
  check(sentOnce, { "each message was sent exactly once": (n) => n === all.length }, { phase: "drain" });

  // In order per recipient: the "sent" times never go back as the acceptance times go forward
  // (messages accepted in the same millisecond by different VUs have no order to keep).
  for (const to of data.to) {
    const mine = all.filter((m) => m.to.endsWith(to.replace(/^\+/, "")));
    if (!inOrder(mine)) outOfOrder.add(1);
  }
}

/** @param {import("./lib/gateway.js").Message[]} messages */
function inOrder(messages) {
  /** @type {Map<string, string[]>} */
  const byAccept = new Map();
  for (const m of messages) {
    const sent = m.history.find((h) => h.status === "sent");
    if (!sent) continue;
    byAccept.set(m.createdAt, (byAccept.get(m.createdAt) || []).concat(sent.at));
  }
  const groups = [...byAccept.keys()].sort().map((k) => (byAccept.get(k) || []).sort());
  return groups.every((g, i) => i === 0 || (groups[i - 1][groups[i - 1].length - 1] || "") <= g[0]);
}
