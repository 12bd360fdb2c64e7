// Shim of `k6/http`: the same synchronous calls, done by fetch() in a worker
// thread while the caller blocks on a shared flag. Every request is recorded
// in http_reqs / http_req_duration / http_req_failed with k6's tags.
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { addSample, problems } from "./state.js";

const flag = new SharedArrayBuffer(4);
const signal = new Int32Array(flag);
const toWorker = new MessageChannel();
const fromWorker = new MessageChannel();
const worker = new Worker(new URL("./http-worker.js", import.meta.url), {
  workerData: { requests: toWorker.port2, responses: fromWorker.port2, flag },
  transferList: [toWorker.port2, fromWorker.port2],
});
worker.unref();

/** Header names as k6 gives them (Go's canonical form): content-type -> Content-Type. */
const canonical = (name) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());

class Response {
  constructor(method, url, answer) {
    this.status = answer.status;
    this.body = answer.body;
    this.headers = Object.fromEntries(answer.headers.map(([k, v]) => [canonical(k), v]));
    this.error = answer.error ?? "";
    this.error_code = answer.error ? 1000 : 0;
    this.timings = { duration: answer.duration, waiting: answer.duration };
    this.url = url;
    this.request = { method, url };
  }
  /** k6's json(selector): a dotted path (gjson's simple form), or the whole body. */
  json(selector) {
    if (this.body === null || this.body === "")
      throw new Error(`json(): empty body (status ${this.status}) from ${this.url}`);
    let value = JSON.parse(this.body);
    if (!selector) return value;
    for (const key of String(selector).split(".")) {
      if (value === null || value === undefined) return undefined;
      value = value[key];
    }
    return value;
  }
}

export function request(method, url, body, params = {}) {
  const headers = { ...(params.headers || {}) };
  let payload = body ?? null;
  if (payload !== null && typeof payload === "object") {
    // k6 form-encodes an object body.
    payload = new URLSearchParams(Object.entries(payload).map(([k, v]) => [k, String(v)])).toString();
    headers["Content-Type"] ??= "application/x-www-form-urlencoded";
  }
  const timeoutMs = parseDuration(params.timeout ?? "60s");
  Atomics.store(signal, 0, 0);
  toWorker.port1.postMessage({ method, url: String(url), headers, body: payload, timeoutMs });
  if (Atomics.wait(signal, 0, 0, timeoutMs + 5_000) === "timed-out")
    throw new Error(`shim: no answer from the HTTP worker for ${method} ${url}`);
  const answer = receiveMessageOnPort(fromWorker.port1)?.message;
  if (!answer) throw new Error(`shim: lost the answer for ${method} ${url}`);
  const res = new Response(method, String(url), answer);
  const tags = { name: String(url), method, status: String(res.status), ...(params.tags || {}) };
  addSample("http_reqs", 1, tags);
  addSample("http_req_duration", answer.duration, tags);
  addSample("http_req_waiting", answer.duration, tags);
  const expected = params.responseCallback
    ? params.responseCallback.matches(res.status)
    : res.status >= 200 && res.status < 400;
  addSample("http_req_failed", expected ? 0 : 1, tags);
  if (res.status === 0) problems.push(`request error: ${method} ${url}: ${res.error}`);
  return res;
}

/** k6's expectedStatuses(200, {min, max}...): which statuses do not count in http_req_failed. */
export function expectedStatuses(...specs) {
  return {
    matches: (status) => specs.some((s) => (typeof s === "number" ? s === status : status >= s.min && status <= s.max)),
  };
}

export const get = (url, params) => request("GET", url, null, params);
export const head = (url, params) => request("HEAD", url, null, params);
export const post = (url, body, params) => request("POST", url, body, params);
export const put = (url, body, params) => request("PUT", url, body, params);
export const patch = (url, body, params) => request("PATCH", url, body, params);
export const del = (url, body, params) => request("DELETE", url, body, params);
export const options = (url, body, params) => request("OPTIONS", url, body, params);

/** Sequential in the shim; k6 runs them in parallel. Arrays of [method, url, body?, params?] or objects. */
export function batch(requests) {
  const one = (r) =>
    typeof r === "string"
      ? get(r)
      : Array.isArray(r)
        ? request(r[0], r[1], r[2] ?? null, r[3])
        : request(r.method || "GET", r.url, r.body ?? null, r.params);
  if (Array.isArray(requests)) return requests.map(one);
  return Object.fromEntries(Object.entries(requests).map(([k, r]) => [k, one(r)]));
}

function parseDuration(value) {
  if (typeof value === "number") return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(value));
  if (!match) return 60_000;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2]];
}

export default { expectedStatuses, request, get, head, post, put, patch, del, options, batch };
