import { ErrorCodes, type ErrorCode } from "../../src/domain/errors.ts";
import { httpStatusOf } from "../../src/app/http/problem.ts";

/** What a route answers when it succeeds; on failure every route answers a problem document. */
export type Expectation = "json" | "webhook-inbound" | "webhook-status" | "any";

export interface Answer {
  readonly method: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** A broken promise of the HTTP contract, with what was answered. */
export class ContractViolation extends Error {
  override readonly name = "ContractViolation";
}

const PNG = [0x89, 0x50, 0x4e, 0x47];
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * The properties every answer must have, whatever was sent: never a 5xx
 * (the fuzz sends nothing a healthy gateway should fail on), errors as
 * RFC 9457 problems with a known code whose status matches the one table,
 * successes in the route's own format.
 */
export function checkAnswer(expectation: Expectation, answer: Answer): void {
  const { status } = answer;
  const type = answer.headers.get("content-type") ?? "";
  const fail = (why: string): never => {
    throw new ContractViolation(
      `${why} (status ${status}, content-type ${JSON.stringify(type)}, body ${preview(answer.body)})`,
    );
  };
  if (status >= 500) fail("a 5xx answer");
  if (status >= 400) return checkProblem(answer, type, fail);
  if (answer.method === "HEAD" || expectation === "any") return;
  // A path that resolves to `/` (`/messages/%2e%2e`) is led to the console: a redirect, on this origin only.
  if (status >= 300 && status < 400) {
    if (!(answer.headers.get("location") ?? "").startsWith("/")) fail("a redirect without a Location on this origin");
    return;
  }
  if (status === 204) {
    if (answer.body.length > 0) fail("a 204 with a body");
    return;
  }
  if (expectation === "webhook-inbound") {
    if (status !== 200 || !type.startsWith("text/xml") || new TextDecoder().decode(answer.body) !== TWIML)
      fail("an inbound webhook success that is not empty TwiML");
    return;
  }
  if (expectation === "webhook-status") fail("a status webhook success that is not 204");
  if (type === "image/png") {
    if (!PNG.every((byte, i) => answer.body[i] === byte)) fail("image/png that is not a PNG");
    return;
  }
  if (!type.startsWith("application/json")) fail("a success that is not JSON");
  parseJson(answer.body, fail);
}

function checkProblem(answer: Answer, type: string, fail: (why: string) => never): void {
  if (type !== "application/problem+json") fail("an error that is not application/problem+json");
  if (answer.method === "HEAD") return;
  const body = parseJson(answer.body, fail) as { code?: unknown; status?: unknown; type?: unknown; detail?: unknown };
  if (typeof body.code !== "string" || !(ErrorCodes as readonly string[]).includes(body.code))
    fail(`a problem without a known code`);
  const code = body.code as ErrorCode;
  if (body.status !== answer.status) fail(`a problem whose status field says ${String(body.status)}`);
  if (httpStatusOf[code] !== answer.status)
    fail(`${code} answered with status ${answer.status}, the table says ${httpStatusOf[code]}`);
  if (typeof body.type !== "string" || typeof body.detail !== "string") fail("a problem without type or detail");
  if (code === "AUTH.UNAUTHORIZED" && !answer.headers.get("www-authenticate")) fail("a 401 without WWW-Authenticate");
  if (code === "REQUEST.RATE_LIMITED" && !/^[1-9]\d*$/.test(answer.headers.get("retry-after") ?? ""))
    fail("a 429 without an integer Retry-After >= 1");
}

function parseJson(body: Uint8Array, fail: (why: string) => never): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown;
  } catch {
    return fail("a body that is not UTF-8 JSON");
  }
}

/** The start of a body for a report. */
export function preview(body: Uint8Array | string | undefined, max = 300): string {
  if (body === undefined) return "(none)";
  const text = typeof body === "string" ? body : new TextDecoder().decode(body.subarray(0, max * 4));
  return JSON.stringify(
    text.length > max
      ? `${text.slice(0, max)}… (${typeof body === "string" ? body.length : body.length} in all)`
      : text,
  );
}
