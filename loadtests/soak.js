// DoD-6, soak: steady traffic at a constant arrival rate for hours (2 h by
// default), with thresholds on errors and accept latency; at the end, every
// message of the run must have left the queue (nothing stuck, nothing failed).
// Force drops during the run yourself (restart the phone's network, redeploy a
// peer...) and watch the gateway's memory on your platform: k6 sees only HTTP.
//
//   k6 run -e BASE_URL=... -e API_KEY=... -e TO=+40700000001,+40700000002 loadtests/soak.js
//
// Optional: DURATION (2h), RATE per second (5), SESSION, DRAIN_TIMEOUT_S (600),
// P99_MS (1000): the accept-latency threshold, POLL_S (5).
import { check } from "k6";
import { Counter } from "k6/metrics";
import { env, envNumber, listSince, postMessage, recipients, waitForDrain } from "./lib/gateway.js";

const DURATION = env("DURATION", "2h");
const RATE = envNumber("RATE", 5);
const SESSION = env("SESSION", "");
const DRAIN_TIMEOUT_S = envNumber("DRAIN_TIMEOUT_S", 600);
const P99_MS = envNumber("P99_MS", 1000);
const POLL_S = envNumber("POLL_S", 5);

const undelivered = new Counter("soak_undelivered");
const failedAtGateway = new Counter("soak_failed");

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    steady: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      // Open model: latency spikes get more VUs instead of lowering the rate.
      preAllocatedVUs: Math.max(2, Math.ceil(RATE * 2)),
      maxVUs: Math.max(10, Math.ceil(RATE * 20)),
      exec: "send",
    },
  },
  teardownTimeout: `${DRAIN_TIMEOUT_S + 120}s`,
  thresholds: {
    http_req_failed: ["rate<0.001"],
    "http_req_duration{name:POST /messages}": [`p(99)<${P99_MS}`],
    "checks{phase:steady}": ["rate>0.999"],
    "checks{phase:drain}": ["rate==1"],
    dropped_iterations: ["count<10"],
    soak_undelivered: ["count==0"],
    soak_failed: ["count==0"],
  },
};

export function setup() {
  return { run: `s${Date.now().toString(36)}`, since: new Date(Date.now() - 60_000).toISOString(), to: recipients() };
}

/** @param {{run: string, to: string[]}} data */
export function send(data) {
  const to = data.to[(__VU + __ITER) % data.to.length];
  const res = postMessage(
    { to, text: `k6 soak ${data.run} ${__VU}.${__ITER}`, session: SESSION || undefined },
    { phase: "steady" },
  );
  check(res, { "accepted (202)": (r) => r.status === 202, "no 5xx": (r) => r.status < 500 }, { phase: "steady" });
}

/** @param {{run: string, since: string}} data */
export function teardown(data) {
  /** @param {import("./lib/gateway.js").Message} m */
  const ours = (m) => m.text.startsWith(`k6 soak ${data.run} `);
  const drain = waitForDrain(SESSION, data.since, ours, DRAIN_TIMEOUT_S, POLL_S);
  check(drain, { "the queue drained after the run": (d) => d.drained }, { phase: "drain" });
  if (!drain.drained) {
    const pending = ["queued", "sending"].map((s) => (listSince(SESSION, data.since, s) || []).filter(ours).length);
    undelivered.add(pending[0] + pending[1]);
  }
  const failed = (listSince(SESSION, data.since, "failed") || []).filter(ours);
  failedAtGateway.add(failed.length);
  check(failed, { "no message of the run failed": (list) => list.length === 0 }, { phase: "drain" });
}
