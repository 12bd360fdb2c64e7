// The real gateway (src/main.ts) as its own process, the way an operator
// runs it, plus the few HTTP calls the WhatsApp benchmarks make against it.
import { join } from "node:path";
import { portFromJsonLine, startProcess, type ExitStatus } from "./processes.ts";

const ROOT = join(import.meta.dirname, "../..");
export const BENCH_API_KEY = "bench-key-0123456789";

export interface SessionView {
  state: string;
  reconnects: number;
  lastRecoveryMs: number | null;
  lastDisconnect: { code: number; reason: string } | null;
}

export interface GatewayProcess {
  readonly pid: number;
  readonly url: string;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  session(id: string): Promise<SessionView>;
  /** gateway_messages_total{direction=outbound,status} from /metrics: what the gateway itself recorded. */
  outboundReached(status: string): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs` (5 s by default); resolves with how it ended. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** How the process ended, or undefined while it runs (e.g. to explain a failed request). */
  exitStatus(): ExitStatus | undefined;
}

/**
 * Starts `node --import tsx src/main.ts`. LOG_LEVEL stays at info because the
 * "gateway listening" line (with the port PORT=0 picked) is an info line;
 * the gateway logs nothing else at info per message, so it costs nothing.
 * `onLog` sees every log line (pino JSON on stdout), e.g. to count warnings.
 */
export async function startGateway(
  env: Record<string, string>,
  options: { onLog?: (line: string) => void } = {},
): Promise<GatewayProcess> {
  const proc = await startProcess(
    join(ROOT, "src/main.ts"),
    // RATE_LIMIT_PER_SECOND=0: the per-key limit (50/s by default) would answer the benchmark's polling and bursts with 429.
    {
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      API_KEYS: BENCH_API_KEY,
      GATEWAY_PROVIDERS: "baileys",
      RATE_LIMIT_PER_SECOND: "0",
      ...env,
    },
    (line) => (line.includes('"gateway listening"') ? portFromJsonLine("port")(line) : undefined),
    gatewayNodeArgs(),
    options.onLog,
  );
  const url = `http://127.0.0.1:${proc.port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetchRetryingReads(method, `${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${BENCH_API_KEY}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text) as T };
  };
  return {
    pid: proc.child.pid!,
    url,
    call,
    async session(id) {
      const { status, body } = await call<SessionView>("GET", `/sessions/${id}`);
      if (status !== 200) throw new Error(`GET /sessions/${id} -> ${status}`);
      return body;
    },
    async outboundReached(status) {
      const { body } = await call<string>("GET", "/metrics");
      const line = body
        .split("\n")
        .find(
          (l) =>
            l.startsWith("gateway_messages_total{") &&
            l.includes('direction="outbound"') &&
            l.includes(`status="${status}"`),
        );
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
    },
    stop: proc.stop,
    exitStatus: () =>
      proc.child.exitCode === null && proc.child.signalCode === null
        ? undefined
        : { code: proc.child.exitCode, signal: proc.child.signalCode },
  };
}

/**
 * BENCH_CPU_PROF=DIR: every gateway the benchmarks start writes a V8 CPU
 * profile there when it stops (open it in Chrome DevTools or speedscope).
 * BENCH_GATEWAY_IMPORT=FILE: a module every gateway imports before its entry
 * (after tsx), e.g. probes that time store calls.
 */
export function gatewayNodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const probe = process.env.BENCH_GATEWAY_IMPORT;
  return [
    ...(dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : []),
    ...(probe ? ["--import", "tsx", "--import", probe] : []),
  ];
}

/** Polls `check` every `pollMs` until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  pollMs = 1,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export const waitForOpen = (gw: GatewayProcess, id: string, timeoutMs = 30_000, pollMs = 2): Promise<SessionView> =>
  waitFor(
    async () => {
      const s = await gw.session(id);
      return s.state === "open" ? s : undefined;
    },
    `session ${id} open`,
    timeoutMs,
    pollMs,
  );

/**
 * POSTs `n` messages with `concurrency` requests in flight (one HTTP client
 * is far from the accept ceiling measured by http-accept.bench.ts). Returns
 * when every one was accepted (202).
 */
export async function postMessages(
  gw: GatewayProcess,
  n: number,
  opts: { to: (i: number) => string; session: (i: number) => string; concurrency?: number; label?: string },
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const res = await gw.call("POST", "/messages", {
        to: opts.to(i),
        text: `${opts.label ?? "bench"} ${i}`,
        session: opts.session(i),
      });
      if (res.status !== 202) throw new Error(`POST /messages -> ${res.status}: ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
}

/** Resolves once the gateway counted `target` outbound messages as `status`. */
// Polled every 20 ms: a /metrics scrape runs a queue-depth query in the
// gateway, and scraping much faster would slow down what it measures.
export const waitForReached = (
  gw: GatewayProcess,
  status: string,
  target: number,
  timeoutMs = 120_000,
): Promise<number> =>
  waitFor(
    async () => {
      const n = await gw.outboundReached(status);
      return n >= target ? performance.now() : undefined;
    },
    `${target} messages ${status}`,
    timeoutMs,
    20,
  );

/**
 * fetch, with a GET retried (up to 3 times) when the connection fails before
 * an answer: while a gateway's event loop is held for seconds (hundreds of
 * sessions opening), its idle keep-alive sockets time out late and a reused
 * one can be reset under the client's request. A GET changes nothing, so
 * asking again is safe; anything else fails at once.
 */
async function fetchRetryingReads(method: string, url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (method !== "GET" || attempt >= 3) throw error;
    }
  }
}
