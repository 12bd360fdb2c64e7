// Runs fetch() for http.js, whose callers block (k6's HTTP API is synchronous):
// the answer goes back over a MessagePort, then the shared flag wakes the caller.
import { workerData } from "node:worker_threads";

const { requests, responses, flag } = workerData;
const signal = new Int32Array(flag);

requests.on("message", async (req) => {
  const started = performance.now();
  let answer;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? undefined,
      redirect: "follow",
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    const body = await res.text();
    answer = { status: res.status, headers: [...res.headers.entries()], body, duration: performance.now() - started };
  } catch (error) {
    answer = {
      status: 0,
      headers: [],
      body: null,
      duration: performance.now() - started,
      error:
        error instanceof Error ? `${error.message}${error.cause ? `: ${String(error.cause)}` : ""}` : String(error),
    };
  }
  responses.postMessage(answer);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
