// Shim of the `k6` module for checking scripts under Node (see README.md).
import { addSample, context, problems } from "./state.js";

export class K6Fail extends Error {}

/** k6's check(): every condition is recorded in the `checks` rate; a false or throwing one is a problem. */
export function check(value, conditions, tags) {
  let all = true;
  for (const [name, condition] of Object.entries(conditions)) {
    let ok;
    try {
      ok = typeof condition === "function" ? Boolean(condition(value)) : Boolean(condition);
    } catch (error) {
      ok = false;
      problems.push(`check "${name}" threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    addSample("checks", ok ? 1 : 0, { check: name, ...(tags || {}) });
    if (!ok) {
      all = false;
      problems.push(
        `check failed: "${name}" (${context.scenario}${context.group} VU ${context.vu} iter ${context.iter})`,
      );
    }
  }
  return all;
}

export function group(name, fn) {
  const outer = context.group;
  context.group = `${outer}::${name}`;
  try {
    return fn();
  } finally {
    context.group = outer;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** k6's sleep is blocking: so is this one. */
export function sleep(seconds) {
  if (seconds > 0) Atomics.wait(sleeper, 0, 0, seconds * 1000);
}

export function fail(message) {
  throw new K6Fail(message || "fail() called");
}

export function randomSeed() {}

export default { check, group, sleep, fail, randomSeed };
