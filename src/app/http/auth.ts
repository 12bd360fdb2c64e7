import type { MiddlewareHandler } from "hono";
import type { ApiKeyVerifier } from "../api-keys.ts";
import { problem } from "./problem.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** Set once a request's API key verified: a non-reversible label of it (rate limits, logs), never the key. */
    apiKeyFingerprint: string;
  }
}

/**
 * Bearer API keys on every route but the public ones. The key is compared in
 * constant time by the verifier; the response never says why a key failed.
 */
export function requireApiKey(
  verifier: ApiKeyVerifier,
  isPublic: (path: string, method: string) => boolean,
): MiddlewareHandler {
  return async (c, next) => {
    if (isPublic(c.req.path, c.req.method)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
    const fingerprint = match ? verifier.identify(match[1]!) : null;
    if (fingerprint === null) {
      return problem(c, "AUTH.UNAUTHORIZED", "a valid API key is required: Authorization: Bearer <key>", [], {
        "www-authenticate": 'Bearer realm="gateway"',
      });
    }
    c.set("apiKeyFingerprint", fingerprint);
    return next();
  };
}
