import { readFileSync } from "node:fs";
import { ConfigError, loadConfig } from "../config/load-config.ts";
import { createLogger } from "../logger.ts";
import { buildGateway, type GatewayOptions } from "./gateway.ts";
import { drawQrCodesInTerminal } from "./terminal-qr.ts";

/** What an entry point (Node or Deno) provides: a way to serve a fetch handler. */
export type Serve = (
  fetch: (request: Request) => Response | Promise<Response>,
  host: string,
  port: number,
) => Promise<{ port: number; close(): Promise<void> }>;

export interface Runtime {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly serve: Serve;
  readonly onSignal: (signal: "SIGINT" | "SIGTERM", handler: () => void) => void;
  readonly exit: (code: number) => never;
  /** Where to show the operator the one-time API key and QR codes (stdout). */
  readonly print: (line: string) => void;
  /** Whether stdout is a terminal: logs are then pretty and QR codes drawn, unless LOG_FORMAT says otherwise. */
  readonly isTerminal: boolean;
  /** Flushes telemetry (pending spans) before the process exits. */
  readonly flushTelemetry?: () => Promise<void>;
  /** Replaces parts of the gateway (see GatewayOptions.register); only test entry points set it. */
  readonly register?: GatewayOptions["register"];
}

/**
 * Starts the gateway the way `npm start` does: validate the environment,
 * build, start providers and dispatcher, serve HTTP, and shut down gracefully
 * on SIGTERM/SIGINT (exit 0).
 */
export async function launch(runtime: Runtime): Promise<void> {
  let config;
  try {
    config = loadConfig(runtime.env);
    // The lease, fencing and spread parts exist (docs/cluster.md) but the
    // gateway does not run them yet: refusing beats a single process that
    // lets its operator believe in failover.
    if (config.CLUSTER_MODE !== "off")
      throw new ConfigError([
        `CLUSTER_MODE: ${config.CLUSTER_MODE} is not served by this version yet; leave it off (one process; see docs/cluster.md)`,
      ]);
  } catch (error) {
    if (error instanceof ConfigError) {
      runtime.print(error.message);
      return runtime.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const format = config.LOG_FORMAT ?? (runtime.isTerminal ? "pretty" : "json");
  const logger = createLogger(config.LOG_LEVEL, undefined, { format, colorize: runtime.isTerminal });
  const version = readVersion();
  const gateway = await buildGateway({
    config,
    logger,
    version,
    ...(runtime.register ? { register: runtime.register } : {}),
  });
  if (gateway.generatedApiKey) {
    runtime.print(
      `No API_KEYS configured: generated an API key. It is shown only this once and stored hashed in ${config.DATA_DIR}:\n\n    ${gateway.generatedApiKey}\n`,
    );
  }
  let listening!: (url: string) => void;
  const urlOnceListening = new Promise<string>((resolve) => (listening = resolve));
  if (format === "pretty")
    drawQrCodesInTerminal(gateway, urlOnceListening, runtime.print, logger, config.CONSOLE_ENABLED);
  await gateway.start();
  const server = await runtime.serve((request) => gateway.app.fetch(request), config.HOST, config.PORT);
  const url = `http://${config.HOST}:${server.port}`;
  const consoleUrl = config.CONSOLE_ENABLED ? `${url}/console` : undefined;
  logger.info({ url, port: server.port, version, ...(consoleUrl ? { console: consoleUrl } : {}) }, "gateway listening");
  // JSON lines stay JSON; a person at a terminal is told where to click.
  if (consoleUrl && format === "pretty")
    runtime.print(`\nConsole: open ${consoleUrl} in a browser and sign in with the API key.\n`);
  listening(url);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    void (async () => {
      try {
        await gateway.stop();
        await server.close();
        await runtime.flushTelemetry?.();
        logger.info("stopped");
        runtime.exit(0);
      } catch (error) {
        logger.error({ err: error }, "shutdown failed");
        runtime.exit(1);
      }
    })();
  };
  runtime.onSignal("SIGTERM", () => shutdown("SIGTERM"));
  runtime.onSignal("SIGINT", () => shutdown("SIGINT"));
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
