// Smoke test of a deployed gateway: health, readiness, one message accepted
// and readable, the session visible. A few iterations, one VU; run it first.
//
//   k6 run -e BASE_URL=https://gw.example.com -e API_KEY=... -e TO=+40700000001 loadtests/smoke.js
//
// Optional: SESSION (a session id to inspect and send through), ITERATIONS (default 3).
import { check, group, sleep } from "k6";
import http from "k6/http";
import { BASE_URL, env, envNumber, getSession, headers, postMessage, recipients } from "./lib/gateway.js";

const SESSION = env("SESSION", "");

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    smoke: { executor: "per-vu-iterations", vus: 1, iterations: envNumber("ITERATIONS", 3), maxDuration: "2m" },
  },
  thresholds: {
    checks: ["rate==1"],
    http_req_failed: ["rate==0"],
    "http_req_duration{name:POST /messages}": ["p(95)<1000"],
  },
};

export function setup() {
  const health = http.get(`${BASE_URL}/health`, { tags: { name: "GET /health" } });
  check(health, { "setup: /health is 200": (r) => r.status === 200 });
  return { to: recipients()[0], run: `${Date.now().toString(36)}` };
}

/** @param {{to: string, run: string}} data */
export default function (data) {
  group("health", () => {
    const health = http.get(`${BASE_URL}/health`, { tags: { name: "GET /health" } });
    check(health, {
      "/health is 200": (r) => r.status === 200,
      "/health has a version": (r) => typeof r.json("version") === "string",
      "/health lists session states": (r) => typeof r.json("sessions") === "object",
    });
    const ready = http.get(`${BASE_URL}/ready`, { tags: { name: "GET /ready" } });
    check(ready, { "/ready is 200": (r) => r.status === 200 });
  });

  group("send", () => {
    const text = `k6 smoke ${data.run} #${__VU}.${__ITER}`;
    const res = postMessage({ to: data.to, text, session: SESSION || undefined });
    const accepted = check(res, {
      "POST /messages is 202": (r) => r.status === 202,
      "202 carries the message id": (r) => typeof r.json("id") === "string",
      "Location points at the message": (r) => r.headers["Location"] === `/messages/${r.json("id")}`,
    });
    if (!accepted) return;
    const id = String(res.json("id"));
    const got = http.get(`${BASE_URL}/messages/${id}`, { headers: headers(), tags: { name: "GET /messages/{id}" } });
    check(got, {
      "GET /messages/{id} is 200": (r) => r.status === 200,
      "the message is ours": (r) => r.json("text") === text,
      "the message has a status": (r) =>
        ["queued", "sending", "sent", "delivered", "read", "failed"].includes(String(r.json("status"))),
    });
  });

  if (SESSION) {
    group("session", () => {
      check(getSession(SESSION), {
        "GET /sessions/{id} is 200": (r) => r.status === 200,
        "the session has a state": (r) => typeof r.json("state") === "string",
      });
    });
  }
  sleep(1);
}
