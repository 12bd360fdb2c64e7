import type { GatewayClient } from "../gateway-client.ts";
import { CheckFailed, type Check } from "../types.ts";

interface Health {
  status?: unknown;
  version?: unknown;
  sessions?: unknown;
  stores?: unknown;
}

/**
 * DoD-1: the deployed gateway answers /health and /ready with 200, and the
 * health report carries the version and every session's state. Needs only
 * HTTP, so it runs against a deployment too (`--target`).
 */
export const health: Check = async (ctx) => {
  const client: GatewayClient = ctx.target ?? (await ctx.parts!.mainGateway()).client;
  const started = performance.now();
  const res = await client.request("GET", "/health");
  const healthMs = performance.now() - started;
  const text = await res.text();
  if (res.status !== 200) throw new CheckFailed(`GET /health answered ${res.status}: ${text.slice(0, 200)}`);
  let body: Health;
  try {
    body = JSON.parse(text) as Health;
  } catch {
    throw new CheckFailed(`GET /health did not answer JSON: ${text.slice(0, 200)}`);
  }
  if (typeof body.version !== "string" || body.version === "") throw new CheckFailed("GET /health has no version");
  if (typeof body.sessions !== "object" || body.sessions === null || Array.isArray(body.sessions)) {
    throw new CheckFailed("GET /health has no sessions object (session id -> state)");
  }
  const sessions = body.sessions as Record<string, unknown>;
  const badState = Object.entries(sessions).find(([, state]) => typeof state !== "string");
  if (badState) throw new CheckFailed(`GET /health: session ${badState[0]} has no state`);

  const ready = await client.request("GET", "/ready");
  const readyText = await ready.text();
  if (ready.status !== 200) throw new CheckFailed(`GET /ready answered ${ready.status}: ${readyText.slice(0, 200)}`);

  const states = Object.entries(sessions).map(([id, state]) => `${id}:${String(state)}`);
  return {
    pass: true,
    figures: {
      version: body.version,
      status: String(body.status),
      sessions: states.length,
      healthMs: Math.round(healthMs),
    },
    detail: `/health 200 (${String(body.status)}; sessions ${states.length > 0 ? states.join(", ") : "none"}), /ready 200`,
  };
};
