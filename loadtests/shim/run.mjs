// Runs a k6 script under Node through the shim, to check the SCRIPT (routes,
// payloads, checks, thresholds' metric names), never to measure load: setup(),
// a few iterations of every scenario's exec function, teardown(), then the
// thresholds evaluated on what was recorded. Prints one JSON line
// {ok, problems, thresholds, iterations, requests} and exits 1 on any problem.
//
//   node --import ./loadtests/shim/register.mjs loadtests/shim/run.mjs loadtests/smoke.js
//
// K6_SHIM_ITERATIONS (default 3): iterations of duration-based scenarios
// (arrival-rate, constant-vus...). Iteration-count executors run what they declare.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { context, metrics, problems } from "./state.js";

const script = process.argv[2];
if (!script) {
  console.error("usage: node --import ./loadtests/shim/register.mjs loadtests/shim/run.mjs SCRIPT.js");
  process.exit(2);
}
globalThis.__ENV = { ...process.env };
globalThis.__VU = 0;
globalThis.__ITER = 0;
const cap = Number(process.env.K6_SHIM_ITERATIONS || 3);
const MAX_ITERATIONS = 5_000;

const mod = await import(pathToFileURL(resolve(script)).href);
const options = mod.options || {};
let iterations = 0;

/** Runs fn as k6 runs an iteration: an exception ends the iteration and is reported. */
function runIteration(what, fn, ...args) {
  try {
    return fn(...args);
  } catch (error) {
    problems.push(`${what} threw: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The (VU, iteration) pairs an executor would run, bounded for a check. */
function plan(scenario) {
  const vus = scenario.vus || scenario.preAllocatedVUs || 1;
  switch (scenario.executor) {
    case "shared-iterations": {
      const n = Math.min(scenario.iterations ?? 1, MAX_ITERATIONS);
      return Array.from({ length: n }, (_, i) => [1 + (i % vus), Math.floor(i / vus)]);
    }
    case "per-vu-iterations": {
      const per = Math.min(scenario.iterations ?? 1, MAX_ITERATIONS);
      return Array.from({ length: vus * per }, (_, i) => [1 + Math.floor(i / per), i % per]);
    }
    default:
      return Array.from({ length: cap }, (_, i) => [1 + (i % vus), Math.floor(i / vus)]);
  }
}

const scenarios = options.scenarios || {
  default: { executor: "per-vu-iterations", vus: options.vus || 1, iterations: options.iterations || cap },
};
let data;
if (typeof mod.setup === "function") {
  context.scenario = "setup";
  try {
    data = mod.setup();
  } catch (error) {
    problems.push(`setup() threw, the run is aborted: ${error instanceof Error ? error.message : String(error)}`);
    finish();
  }
}
for (const [name, scenario] of Object.entries(scenarios)) {
  const execName = scenario.exec || "default";
  const fn = mod[execName];
  if (typeof fn !== "function") {
    problems.push(`scenario ${name}: the script exports no function "${execName}"`);
    continue;
  }
  context.scenario = name;
  for (const [vu, iter] of plan(scenario)) {
    globalThis.__VU = context.vu = vu;
    globalThis.__ITER = context.iter = iter;
    runIteration(`scenario ${name} VU ${vu} iteration ${iter}`, fn, data);
    iterations++;
  }
}
if (typeof mod.teardown === "function") {
  context.scenario = "teardown";
  runIteration("teardown()", mod.teardown, data);
}
finish();

function finish() {
  const thresholds = evaluateThresholds(options.thresholds || {});
  for (const t of thresholds) if (!t.ok) problems.push(`threshold ${t.metric}: ${t.expression} failed (${t.value})`);
  const requests = metrics.get("http_reqs").samples.length;
  console.log(JSON.stringify({ ok: problems.length === 0, problems, thresholds, iterations, requests }));
  process.exit(problems.length === 0 ? 0 : 1);
}

/** k6 threshold syntax: "metric{tag:value,...}": ["rate<0.01", "p(95)<500", "count==0", ...]. */
function evaluateThresholds(spec) {
  const results = [];
  for (const [key, expressions] of Object.entries(spec)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\{(.*)\})?$/.exec(key);
    const metric = match && metrics.get(match[1]);
    if (!match || !metric) {
      results.push({ metric: key, expression: "-", value: "no such metric (k6 refuses to start)", ok: false });
      continue;
    }
    const filter = Object.fromEntries(
      (match[2] || "")
        .split(",")
        .filter(Boolean)
        .map((pair) => pair.split(":").map((s) => s.trim())),
    );
    const values = metric.samples
      .filter((s) => Object.entries(filter).every(([k, v]) => s.tags[k] === v))
      .map((s) => s.value);
    for (const raw of [expressions].flat()) {
      const expression = typeof raw === "string" ? raw : raw.threshold;
      const parsed = /^\s*(\w+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expression);
      if (!parsed) {
        results.push({ metric: key, expression, value: "unparsable", ok: false });
        continue;
      }
      const value = aggregate(metric.type, parsed[1], values);
      // No samples: k6 does not fail the threshold either; the shim says so.
      const ok = value === null || compare(value, parsed[2], Number(parsed[3]));
      results.push({ metric: key, expression, value: value === null ? "no samples" : value, ok });
    }
  }
  return results;
}

function aggregate(type, stat, values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pct = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (pct) return sorted[Math.min(sorted.length - 1, Math.ceil((Number(pct[1]) / 100) * sorted.length) - 1)];
  switch (stat) {
    case "count":
      return type === "counter" ? values.reduce((a, b) => a + b, 0) : values.length;
    case "rate":
      return values.filter((v) => v !== 0).length / values.length;
    case "avg":
      return values.reduce((a, b) => a + b, 0) / values.length;
    case "min":
      return sorted[0];
    case "max":
      return sorted[sorted.length - 1];
    case "med":
      return sorted[Math.floor((sorted.length - 1) / 2)];
    case "value":
      return values[values.length - 1];
    default:
      return Number.NaN;
  }
}

function compare(a, op, b) {
  return { "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a === b, "!=": a !== b }[op];
}
