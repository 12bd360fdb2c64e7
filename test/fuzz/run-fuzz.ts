import fc from "fast-check";
import { checkAnswer, ContractViolation, preview, type Answer } from "./fuzz-checks.ts";
import { appOf, type FuzzTargets } from "./fuzz-targets.ts";
import { jsonRoutes, type FuzzRoute } from "./json-routes.ts";
import type { FuzzRequest } from "./request-parts.ts";
import { webhookRoutes } from "./webhook-routes.ts";

/** Every route under fuzz, for these running targets. */
export function allRoutes(targets: FuzzTargets): FuzzRoute[] {
  return [
    ...jsonRoutes(targets.apiKey),
    ...webhookRoutes(targets.twilio.fake.authToken, targets.twilio.fake.accountSid),
  ];
}

export interface RouteReport {
  readonly route: string;
  /** Generated cases (shrinking after a failure runs more requests, counted in `statuses` only). */
  readonly cases: number;
  /** How many answers had each status. */
  readonly statuses: Readonly<Record<number, number>>;
  readonly ms: number;
  readonly failure?: {
    readonly message: string;
    /** The smallest failing request fast-check found. */
    readonly request: Record<string, unknown>;
    /** Replays the failure: same seed and path with `fc.assert`. */
    readonly seed: number;
    readonly path: string | null;
  };
}

type App = ReturnType<typeof appOf>;

/** Sends one fuzz request through the app; anything thrown out of the app is itself a violation. */
export async function send(app: App, request: FuzzRequest): Promise<Answer> {
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  const req = new Request(new URL(request.path, "http://localhost"), {
    method: request.method,
    headers,
    ...(request.body ? { body: request.body } : {}),
  });
  let response: Response;
  try {
    response = await app.request(req);
  } catch (error) {
    throw new ContractViolation(
      `the app threw instead of answering: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
  return {
    method: request.method,
    status: response.status,
    headers: response.headers,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/** Runs one route's property `numRuns` times (fast-check generates, checks, and shrinks a failure). */
export async function fuzzRoute(
  route: FuzzRoute,
  targets: FuzzTargets,
  options: { numRuns: number; seed?: number },
): Promise<RouteReport> {
  // One seed for the run, a different stream per route (routes sharing generators would otherwise send the same requests).
  const seed = options.seed === undefined ? undefined : (options.seed + hash(route.name)) | 0;
  const app = appOf(targets, route.target);
  const statuses: Record<number, number> = {};
  const started = performance.now();
  const details = await fc.check(
    fc.asyncProperty(route.requests, async (request) => {
      const answer = await send(app, request);
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      checkAnswer(route.expectation, answer);
    }),
    { numRuns: options.numRuns, ...(seed === undefined ? {} : { seed }) },
  );
  const report = { route: route.name, cases: details.numRuns, statuses, ms: Math.round(performance.now() - started) };
  if (!details.failed) return report;
  const [request] = (details.counterexample ?? []) as [FuzzRequest | undefined];
  const error = details.errorInstance;
  return {
    ...report,
    failure: {
      message: error instanceof Error ? error.message : String(error),
      request: request ? describe(request) : {},
      seed: details.seed,
      path: details.counterexamplePath,
    },
  };
}

/** A request as a report shows it: long values cut, the body previewed. */
export function describe(request: FuzzRequest): Record<string, unknown> {
  const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s);
  return {
    method: request.method,
    path: cut(request.path, 300),
    headers: request.headers.map(([name, value]) => [name, cut(value, 120)]),
    body: preview(request.body),
    bodyBytes: request.body?.length ?? 0,
  };
}

function hash(text: string): number {
  let h = 0;
  for (const char of text) h = (Math.imul(h, 31) + char.charCodeAt(0)) | 0;
  return h;
}
