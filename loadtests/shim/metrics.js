// Shim of `k6/metrics`: custom metrics whose samples the thresholds are evaluated on.
import { addSample, defineMetric } from "./state.js";

class Metric {
  constructor(name, type) {
    defineMetric(name, type);
    this.name = name;
  }
  add(value, tags) {
    const v = typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
    if (!Number.isFinite(v)) throw new Error(`${this.name}.add(${String(value)}): not a number`);
    addSample(this.name, v, tags);
  }
}

export class Counter extends Metric {
  constructor(name) {
    super(name, "counter");
  }
}
export class Trend extends Metric {
  constructor(name) {
    super(name, "trend");
  }
}
export class Rate extends Metric {
  constructor(name) {
    super(name, "rate");
  }
}
export class Gauge extends Metric {
  constructor(name) {
    super(name, "gauge");
  }
}

export default { Counter, Trend, Rate, Gauge };
