// Shim of `k6/execution`: the fields a script may read about where it runs.
import { context } from "./state.js";

const execution = {
  get vu() {
    return {
      idInTest: context.vu,
      idInInstance: context.vu,
      iterationInScenario: context.iter,
      iterationInInstance: context.iter,
    };
  },
  get scenario() {
    return { name: context.scenario, iterationInTest: context.iter, executor: "shim" };
  },
  test: {
    abort(reason) {
      throw new Error(`test.abort(${reason ?? ""})`);
    },
  },
};

export default execution;
