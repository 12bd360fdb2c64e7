// What the shim records while a script runs: metric samples (for thresholds),
// failed checks, request errors and the tags of the running context. Shared by
// the shim modules and run.mjs (one module instance per process).

/** @type {Map<string, {type: "counter" | "trend" | "rate" | "gauge", samples: {value: number, tags: Record<string, string>}[]}>} */
export const metrics = new Map();
/** @type {string[]} */
export const problems = [];
export const context = { scenario: "setup", group: "", vu: 0, iter: 0 };

const BUILT_IN = {
  checks: "rate",
  http_reqs: "counter",
  http_req_duration: "trend",
  http_req_failed: "rate",
  http_req_waiting: "trend",
  iterations: "counter",
  iteration_duration: "trend",
  dropped_iterations: "counter",
  vus: "gauge",
  vus_max: "gauge",
  data_sent: "counter",
  data_received: "counter",
};

for (const [name, type] of Object.entries(BUILT_IN))
  metrics.set(name, { type: /** @type {any} */ (type), samples: [] });

/** Creates a custom metric, as `new Counter(name)` does in k6 (at init time only). */
export function defineMetric(name, type) {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) throw new Error(`invalid metric name "${name}"`);
  const existing = metrics.get(name);
  if (existing && existing.type !== type) throw new Error(`metric ${name} already exists as a ${existing.type}`);
  if (!existing) metrics.set(name, { type, samples: [] });
}

/** @param {string} name @param {number} value @param {Record<string, string>} [tags] */
export function addSample(name, value, tags) {
  const metric = metrics.get(name);
  if (!metric) throw new Error(`no metric ${name}`);
  metric.samples.push({ value, tags: { scenario: context.scenario, group: context.group, ...(tags || {}) } });
}
