// Helpers shared by the k6 scripts: configuration from the environment
// (k6 -e KEY=VALUE or the shell), and the gateway's HTTP API as these
// scripts use it. Plain k6 JavaScript; type-checked against @types/k6.
import { fail, sleep } from "k6";
import http from "k6/http";

/** The gateway under test, without a trailing slash. */
export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:3000").replace(/\/+$/, "");
export const API_KEY = __ENV.API_KEY || "";

/** @param {string} name @param {string} fallback */
export function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === "" ? fallback : value;
}

/** @param {string} name @param {number} fallback */
export function envNumber(name, fallback) {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) fail(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/**
 * Recipients of the test messages: TO, comma-separated. They receive real
 * messages on a real deployment: use numbers you own.
 * @returns {string[]}
 */
export function recipients() {
  const list = env("TO", "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (list.length === 0)
    fail("TO is required: comma-separated test recipients you own, e.g. -e TO=+40700000001,+40700000002");
  return list;
}

/** @param {Record<string, string>} [extra] */
export function headers(extra) {
  if (API_KEY === "") fail("API_KEY is required (-e API_KEY=...)");
  return Object.assign({ Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" }, extra || {});
}

/**
 * POST /messages. `session` and `provider` are optional (the gateway's defaults otherwise).
 * @param {{to: string, text: string, session?: string, idempotencyKey?: string}} message
 * @param {Record<string, string>} [tags]
 */
export function postMessage(message, tags) {
  /** @type {Record<string, unknown>} */
  const body = { to: message.to, text: message.text };
  if (message.session) body.session = message.session;
  const extra = message.idempotencyKey ? { "Idempotency-Key": message.idempotencyKey } : undefined;
  // A 429 is retried below: not an http_req_failed.
  const params = {
    headers: headers(extra),
    tags: Object.assign({ name: "POST /messages" }, tags || {}),
    responseCallback: ACCEPTED_OR_THROTTLED,
  };
  let res = http.post(`${BASE_URL}/messages`, JSON.stringify(body), params);
  // The gateway limits requests per API key (429 + Retry-After): wait as told and send again,
  // as a real client would; the idempotency key (when given) makes the retry safe.
  for (let retry = 0; res.status === 429 && retry < MAX_429_RETRIES; retry++) {
    sleep(Math.min(10, Math.max(0.1, Number(res.headers["Retry-After"] || "1"))));
    res = http.post(`${BASE_URL}/messages`, JSON.stringify(body), params);
  }
  return res;
}

const MAX_429_RETRIES = 20;
const ACCEPTED_OR_THROTTLED = http.expectedStatuses({ min: 200, max: 399 }, 429);

/** @param {string} id */
export function getSession(id) {
  return http.get(`${BASE_URL}/sessions/${encodeURIComponent(id)}`, {
    headers: headers(),
    tags: { name: "GET /sessions/{id}" },
  });
}

/**
 * @typedef {{id: string, status: string, text: string, to: string, session: string | null, createdAt: string, history: {status: string, at: string}[]}} Message
 */

/**
 * Messages of `session` created at or after `sinceIso`, newest first, read
 * page by page (GET /messages lists newest first, so it stops at the first older one).
 * @param {string} session
 * @param {string} sinceIso
 * @param {string} [status]
 * @returns {Message[] | null} null when a page could not be read
 */
export function listSince(session, sinceIso, status) {
  /** @type {Message[]} */
  const found = [];
  let cursor = "";
  for (;;) {
    const query = [
      `direction=outbound`,
      `limit=100`,
      session ? `session=${encodeURIComponent(session)}` : "",
      status ? `status=${status}` : "",
      cursor ? `cursor=${encodeURIComponent(cursor)}` : "",
    ]
      .filter((s) => s !== "")
      .join("&");
    const res = http.get(`${BASE_URL}/messages?${query}`, { headers: headers(), tags: { name: "GET /messages" } });
    if (res.status !== 200) return null;
    const page = /** @type {{items: Message[], nextCursor: string | null}} */ (res.json());
    for (const m of page.items) {
      if (m.createdAt < sinceIso) return found;
      found.push(m);
    }
    if (!page.nextCursor) return found;
    cursor = page.nextCursor;
  }
}

/**
 * Polls until no message of this run is queued or sending, or `timeoutS` passes.
 * @param {string} session @param {string} sinceIso @param {(m: Message) => boolean} ours
 * @param {number} timeoutS @param {number} pollS
 * @returns {{ drained: boolean, seconds: number }}
 */
export function waitForDrain(session, sinceIso, ours, timeoutS, pollS) {
  const started = Date.now();
  while ((Date.now() - started) / 1000 < timeoutS) {
    const pending = ["queued", "sending"].map((s) => listSince(session, sinceIso, s));
    if (pending.every((list) => list !== null && list.filter(ours).length === 0)) {
      return { drained: true, seconds: (Date.now() - started) / 1000 };
    }
    sleep(pollS);
  }
  return { drained: false, seconds: (Date.now() - started) / 1000 };
}

export const SENT_OR_LATER = ["sent", "delivered", "read"];
