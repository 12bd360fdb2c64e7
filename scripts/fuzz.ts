import { parseArgs } from "node:util";
import { startFuzzTargets } from "../test/fuzz/fuzz-targets.ts";
import { allRoutes, fuzzRoute, type RouteReport } from "../test/fuzz/run-fuzz.ts";

// Long fuzz runs of the same properties `npm test` checks briefly:
//   npx tsx scripts/fuzz.ts --runs 10000 [--seed 42] [--route webhooks]
// Prints one line per route (cases, time, answers by status), every
// counterexample in full, and exits 1 if any route failed.

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    seed: { type: "string" },
    route: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("--runs must be a positive integer");
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(values.seed);

// A rejection nobody awaited is a crash in production (Node exits on it): count it as a failure.
const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));

const targets = await startFuzzTargets();
const started = performance.now();
const reports: RouteReport[] = [];
try {
  const routes = allRoutes(targets).filter((r) => !values.route || r.name.includes(values.route));
  console.log(`fuzzing ${routes.length} routes, ${runs} cases each, seed ${seed}`);
  for (const route of routes) {
    const report = await fuzzRoute(route, targets, { numRuns: runs, seed });
    reports.push(report);
    const statuses = Object.entries(report.statuses)
      .map(([status, n]) => `${status}:${n}`)
      .join(" ");
    console.log(
      `${report.failure ? "FAIL" : "ok  "} ${route.name.padEnd(42)} ${String(report.cases).padStart(6)} cases ${(report.ms / 1000).toFixed(1).padStart(6)} s  ${statuses}`,
    );
    if (report.failure) console.log(JSON.stringify(report.failure, null, 2));
  }
  for (const [name, app] of [
    ["memory", targets.memory.gateway.app],
    ["sessions", targets.sessions.gateway.app],
    ["twilio", targets.twilio.gw.gateway.app],
    ["limited", targets.limited.gateway.app],
  ] as const) {
    const health = await app.request("/health");
    if (health.status !== 200) unhandled.push(new Error(`${name} gateway unhealthy after the run: ${health.status}`));
  }
} finally {
  await targets.close();
}

const total = reports.reduce((n, r) => n + r.cases, 0);
const failed = reports.filter((r) => r.failure);
console.log(
  `${total} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ${failed.length} routes failed; ${unhandled.length} unhandled rejections; seed ${seed}`,
);
for (const reason of unhandled) console.log("unhandled:", reason);
if (values.json) console.log(JSON.stringify({ seed, runs, total, reports }, null, 2));
process.exit(failed.length > 0 || unhandled.length > 0 ? 1 : 0);
