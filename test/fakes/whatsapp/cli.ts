/**
 * Standalone simulator: `npx tsx test/fakes/whatsapp/cli.ts [--port N] [--verbose]`.
 * Prints one JSON line `{"ws": ..., "control": ..., "caFile": ...}` (caFile: the PEM
 * of the CA behind the media server's certificate) and serves until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startWhatsAppSimulator } from "./simulator.ts";
import type { SimLogger } from "./logger.ts";

function stderrLogger(bindings: Record<string, unknown> = {}): SimLogger {
  const write =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      const fields = typeof obj === "object" && obj !== null ? obj : { msg: obj };
      process.stderr.write(
        `${JSON.stringify({ level, time: Date.now(), ...bindings, ...fields, ...(msg ? { msg } : {}) })}\n`,
      );
    };
  return {
    level: "info",
    child: (more: Record<string, unknown>) => stderrLogger({ ...bindings, ...more }),
    trace: () => undefined,
    debug: () => undefined,
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}

// stdout carries exactly one JSON line; libsignal logs sessions with console.*.
for (const method of ["log", "info", "warn", "debug"] as const) {
  console[method] = (...args: unknown[]): void => void process.stderr.write(`${args.map(String).join(" ")}\n`);
}

const { values } = parseArgs({
  options: { port: { type: "string" }, verbose: { type: "boolean" } },
  allowPositionals: false,
});
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}
const sim = await startWhatsAppSimulator({ port, ...(values.verbose ? { logger: stderrLogger() } : {}) });
process.stdout.write(`${JSON.stringify({ ws: sim.wsUrl, control: sim.controlUrl, caFile: sim.caFile })}\n`);
const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
