import { readFile } from "node:fs/promises";
import { Agent } from "node:https";

/** What a Baileys client needs to reach the simulator's media server: trust in its CA for both directions. */
export interface MediaTrust {
  /** CA certificate (PEM). */
  ca: Buffer;
  /** Socket config `fetchAgent`: Baileys uploads with `node:https` through it. */
  fetchAgent: Agent;
  /** `dispatcher` for download options: Baileys downloads with `fetch`, which takes an undici dispatcher. */
  dispatcher: Dispatcher;
}

type Dispatcher = NonNullable<RequestInit["dispatcher"]>;
type AgentClass = new (options: { connect: { ca: Buffer } }) => Dispatcher;

/**
 * Node's `fetch` only trusts a custom CA through an undici `Agent`, and the
 * project does not depend on the `undici` package; Node 20 bundles undici
 * but exports no `Agent`. Its global dispatcher is one, made on the first
 * fetch (a `data:` URL here, which touches no network), so its class gives
 * agents of the very undici that `fetch` runs on.
 */
async function bundledUndiciAgent(): Promise<AgentClass> {
  const key = Symbol.for("undici.globalDispatcher.1");
  const global = globalThis as unknown as Record<symbol, object | undefined>;
  if (!global[key]) await (await fetch("data:,")).arrayBuffer();
  const dispatcher = global[key];
  if (!dispatcher) throw new Error("Node's fetch exposes no global dispatcher here");
  return dispatcher.constructor as AgentClass;
}

/** Trust for the CA in `caFile` (the simulator's `caFile`). */
export async function mediaTrust(caFile: string): Promise<MediaTrust> {
  const ca = await readFile(caFile);
  const UndiciAgent = await bundledUndiciAgent();
  return { ca, fetchAgent: new Agent({ ca }), dispatcher: new UndiciAgent({ connect: { ca } }) };
}
