// A thin HTTP client of the gateway's public API, as any outside caller sees
// it: the checks never reach into the process, only through these routes.

export interface SessionView {
  readonly id: string;
  readonly state: string;
  readonly me: string | null;
  readonly reconnects: number;
  readonly lastRecoveryMs: number | null;
  readonly lastDisconnect: { code: number; reason: string; at: string } | null;
}

export interface MessageView {
  readonly id: string;
  readonly status: string;
  readonly text: string;
  readonly providerMessageId: string | null;
  readonly direction: string;
  readonly history: readonly { status: string; at: string }[];
}

export interface GatewayClient {
  readonly url: string;
  /** A request with the API key; `body` is sent as JSON. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** The session, or null on 404. */
  session(id: string): Promise<SessionView | null>;
  message(id: string): Promise<MessageView>;
}

/** How long a request keeps honouring 429 Retry-After before the 429 is returned as it is. */
const THROTTLE_BUDGET_MS = 60_000;

export function gatewayClient(url: string, apiKey: string): GatewayClient {
  const base = url.replace(/\/+$/, "");
  const once = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  // A well-behaved client: a rate-limited request waits as told and is sent again (a deployment
  // under --target keeps its limit; the runner's own gateways run without one).
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const deadline = Date.now() + THROTTLE_BUDGET_MS;
    for (;;) {
      const res = await once(method, path, body, headers);
      if (res.status !== 429 || Date.now() > deadline) return res;
      await res.body?.cancel();
      const wait = Number(res.headers.get("retry-after") ?? "1");
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(10_000, Math.max(100, (Number.isFinite(wait) ? wait : 1) * 1000))),
      );
    }
  };
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await request(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  return {
    url: base,
    request,
    json,
    async session(id) {
      const res = await request("GET", `/sessions/${encodeURIComponent(id)}`);
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw new Error(`GET /sessions/${id} -> ${res.status}: ${(await res.text()).slice(0, 300)}`);
      return (await res.json()) as SessionView;
    },
    message: (id) => json<MessageView>("GET", `/messages/${encodeURIComponent(id)}`),
  };
}

/**
 * Polls `check` every `intervalMs` until it returns a value, or throws
 * "timed out waiting for <what>" after `timeoutMs`.
 */
export async function until<T>(
  check: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${cause}`);
}
