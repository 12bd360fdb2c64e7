// Module resolution hook: `k6`, `k6/http`, `k6/metrics` resolve to the shim;
// any other k6 module the shim lacks fails loudly instead of half-working.
const shimmed = {
  k6: "./k6.js",
  "k6/http": "./http.js",
  "k6/metrics": "./metrics.js",
  "k6/execution": "./execution.js",
};

export async function resolve(specifier, context, nextResolve) {
  if (Object.hasOwn(shimmed, specifier))
    return { url: new URL(shimmed[specifier], import.meta.url).href, shortCircuit: true };
  if (specifier.startsWith("k6/"))
    throw new Error(`the k6 shim has no module "${specifier}": add it to loadtests/shim/ or avoid it`);
  return nextResolve(specifier, context);
}
