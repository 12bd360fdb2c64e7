import { X509Certificate } from "node:crypto";
import { Agent as HttpsAgent } from "node:https";
import type { Logger } from "../../../domain/ports/logger.port.ts";

/** What `fetch` takes as `dispatcher`: an undici dispatcher. */
export type FetchDispatcher = NonNullable<RequestInit["dispatcher"]>;

/**
 * How Baileys reaches WhatsApp's media hosts: uploads go through `node:https`
 * (socket config `fetchAgent`), downloads through the global `fetch` (its
 * `dispatcher` option). Both absent: the platform's default trust.
 */
export interface MediaTrust {
  readonly fetchAgent?: HttpsAgent;
  readonly dispatcher?: FetchDispatcher;
}

/** Where Node's bundled undici keeps its global dispatcher (undici's own, versioned key). */
const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

type DispatcherClass = new (options: { connect: { ca: string | Buffer } }) => FetchDispatcher;

/**
 * An undici `Agent` trusting `ca`, from the undici that Node's `fetch` runs
 * on, or undefined where there is none to find. The project does not depend
 * on the `undici` package (a second copy could disagree with the bundled one
 * about dispatcher internals), and Node exports no `Agent`; but its global
 * dispatcher is an `Agent`, created the first time `fetch` runs, so its
 * constructor gives agents of the right undici. A `data:` URL makes it
 * exist without touching the network.
 */
async function bundledUndiciAgent(ca: string | Buffer): Promise<FetchDispatcher | undefined> {
  const globals = globalThis as unknown as Record<symbol, { constructor: unknown; dispatch?: unknown } | undefined>;
  if (!globals[GLOBAL_DISPATCHER]) await (await fetch("data:,")).arrayBuffer();
  const global = globals[GLOBAL_DISPATCHER];
  if (!global || typeof global.dispatch !== "function") return undefined;
  return new (global.constructor as DispatcherClass)({ connect: { ca } });
}

/**
 * Trust for media hosts whose certificate `ca` (PEM) signed: the WhatsApp
 * simulator's test CA. Only the media hosts see it, and it adds to nothing
 * else: the WebSocket and every other request keep the default trust. Where
 * `fetch` has no undici to build a dispatcher from (another runtime),
 * downloads keep the default trust and a warning says so.
 */
export async function mediaTrustFor(ca: string | Buffer | undefined, logger: Logger): Promise<MediaTrust> {
  if (ca === undefined) return {};
  const fetchAgent = new HttpsAgent({ ca });
  const dispatcher = await bundledUndiciAgent(ca).catch((error: unknown) => {
    logger.warn({ err: error }, "baileys: could not build a media download agent");
    return undefined;
  });
  if (!dispatcher) {
    logger.warn(
      "baileys: this runtime's fetch takes no undici dispatcher; media downloads keep the default trust (WA_MEDIA_CA_FILE applies to uploads only)",
    );
    return { fetchAgent };
  }
  return { fetchAgent, dispatcher };
}

/**
 * Throws unless `ca` is a certificate (PEM or DER), so a wrong file stops
 * the gateway at start instead of failing every media transfer later.
 */
export function assertCertificate(ca: string | Buffer): void {
  try {
    new X509Certificate(ca);
  } catch (error) {
    throw new Error(`the media CA is not a certificate: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
