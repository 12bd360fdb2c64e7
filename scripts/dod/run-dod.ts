// `npm run dod`: the Definitions of Done, runnable with one command on real
// parts (see --help and docs/dod.md). Each check is one file in checks/;
// every process the runner starts is undone on exit, failure or Ctrl-C.
import { coldStart } from "./checks/cold-start.ts";
import { health } from "./checks/health.ts";
import { mttr } from "./checks/mttr.ts";
import { qr } from "./checks/qr.ts";
import { queue } from "./checks/queue.ts";
import { soak } from "./checks/soak.ts";
import { twilio } from "./checks/twilio.ts";
import { gatewayClient } from "./gateway-client.ts";
import { LocalParts } from "./local-parts.ts";
import { parseOptions, USAGE, UsageError } from "./options.ts";
import { cleanupAll, killAllNow } from "./processes.ts";
import { json, table } from "./report.ts";
import { CheckFailed, type Check, type CheckContext, type DodId, type DodResult, type RunOptions } from "./types.ts";

const CHECKS: Record<DodId, Check> = { health, qr, "cold-start": coldStart, mttr, queue, soak, twilio };

let options: RunOptions | null;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`dod: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === null) {
  console.log(USAGE);
  process.exit(0);
}
const opts = options;

// Ctrl-C or a CI timeout: stop every part (the gateway and emulator run in their own process groups
// and would not get the terminal's signal) before leaving.
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\ndod: ${signal}: stopping every started process`);
    void cleanupAll().finally(() => process.exit(130));
    setTimeout(() => {
      killAllNow();
      process.exit(130);
    }, 15_000).unref();
  });
}
process.once("exit", killAllNow);

const log = (line: string) => console.error(`dod: ${line}`);
const context: CheckContext = {
  options: opts,
  parts: opts.target ? undefined : new LocalParts(opts.gatewayEnv, log),
  target: opts.target ? gatewayClient(opts.target.url, opts.target.apiKey) : undefined,
  log,
};

const results: DodResult[] = [];
try {
  for (const id of opts.only) {
    if (interrupted) break;
    log(`--- ${id}`);
    const started = Date.now();
    let result: DodResult;
    try {
      result = { id, ...(await CHECKS[id](context)) };
    } catch (error) {
      // A CheckFailed is an expected FAIL; anything else (a part that died or did not start) fails the row too.
      // The row keeps the gist (no stack frames); stderr gets the whole story.
      const message = error instanceof Error ? error.message : String(error);
      const gist = message
        .split("\n")
        .filter((line) => line.trim() !== "" && !/^\s+at /.test(line))
        .slice(0, 3)
        .join(" / ");
      result = { id, pass: false, figures: error instanceof CheckFailed ? error.figures : {}, detail: gist };
      if (!(error instanceof CheckFailed))
        log(
          error instanceof Error && error.stack
            ? `${message}\n${error.stack.split("\n").slice(1, 4).join("\n")}`
            : message,
        );
    }
    log(`${id}: ${result.pass ? "PASS" : "FAIL"} in ${Math.round((Date.now() - started) / 1000)} s`);
    results.push(result);
  }
} finally {
  log("stopping every started process");
  await cleanupAll();
}

console.log(opts.json ? json(results) : `\n${table(results)}`);
process.exit(results.every((r) => r.pass) && results.length === opts.only.length ? 0 : 1);
