import type { DependencyContainer } from "tsyringe";
import { buildGateway, type Gateway } from "../../src/app/composition/gateway.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createLogger } from "../../src/app/logger.ts";
import { MessagingProviders, type MessagingProvider } from "../../src/domain/ports/messaging-provider.port.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { HttpMediaFetcher } from "../../src/adapters/media-fetch/http/http.media-fetcher.ts";
import { MediaFetcher } from "../../src/domain/ports/media-fetcher.port.ts";
import { LoopbackOnlyMediaFetcher } from "./loopback-media-fetcher.ts";
import { tempDir } from "./temp-dir.ts";

export const TEST_API_KEY = "test-key-0123456789";

export interface InProcessGateway {
  readonly gateway: Gateway;
  readonly provider: MemoryMessagingProvider;
  readonly dataDir: string;
  /** Calls the app like an HTTP client would, with the API key unless `auth: false`. */
  call(
    method: string,
    path: string,
    init?: { body?: unknown; raw?: string; headers?: Record<string, string>; auth?: boolean },
  ): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real gateway (SQLite store, dispatcher, HTTP app) in a temp dir: over an
 * in-memory provider by default, or over the providers its configuration
 * names (`"configured"`: e.g. real Baileys pointed at the simulator).
 */
export async function startInProcessGateway(
  env: Record<string, string> = {},
  providers?: MessagingProvider[] | "configured",
  dataDir?: string,
  /** Registers replacements (an adapter built with a test hook) before the gateway is built. */
  register?: (container: DependencyContainer) => void,
): Promise<InProcessGateway> {
  const dir = dataDir ? { path: dataDir, remove: async () => undefined } : await tempDir();
  const provider = new MemoryMessagingProvider("baileys", ["whatsapp"], { default: true, other: true });
  // No rate limit unless a test asks for one: tests post hundreds of messages at once with one key.
  const config = loadConfig({
    DATA_DIR: dir.path,
    API_KEYS: TEST_API_KEY,
    LOG_LEVEL: "silent",
    DISPATCH_BACKOFF_BASE_MS: "10",
    DISPATCH_BACKOFF_MAX_MS: "50",
    RATE_LIMIT_PER_SECOND: "0",
    ...env,
  });
  const gateway = await buildGateway({
    config,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    version: "0.0.0-test",
    register: (c) => {
      // Media URLs in tests are fetched from this machine only: any other is refused with no DNS lookup.
      c.register(MediaFetcher, {
        useValue: new LoopbackOnlyMediaFetcher(
          new HttpMediaFetcher({ allowPrivate: config.MEDIA_FETCH_ALLOW_PRIVATE }),
        ),
      });
      if (providers !== "configured") c.register(MessagingProviders, { useValue: providers ?? [provider] });
      register?.(c);
    },
  });
  await gateway.start();
  return {
    gateway,
    provider,
    dataDir: dir.path,
    async call(method, path, init = {}) {
      const headers: Record<string, string> = {
        ...(init.auth === false ? {} : { authorization: `Bearer ${TEST_API_KEY}` }),
      };
      let body: string | undefined;
      if (init.raw !== undefined) body = init.raw;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] = "application/json";
      }
      return gateway.app.request(path, {
        method,
        headers: { ...headers, ...init.headers },
        ...(body === undefined ? {} : { body }),
      });
    },
    async close() {
      await gateway.stop();
      await dir.remove();
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
