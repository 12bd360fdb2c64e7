import type { Context } from "hono";
import { DomainError } from "../../domain/errors.ts";

/**
 * Reads a JSON request body. The size limit is enforced before this runs (the
 * body-limit middleware); here: 415 for a body that is not declared JSON, 400
 * for one that does not parse.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new DomainError(
      "REQUEST.UNSUPPORTED_MEDIA_TYPE",
      `the body must be JSON with Content-Type: application/json (got ${type ? JSON.stringify(type) : "none"})`,
    );
  }
  const text = await c.req.text();
  if (text.trim() === "") throw new DomainError("REQUEST.MALFORMED_JSON", "the body is empty; a JSON object is expected", [{ field: "(body)", message: "empty" }]);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "not JSON";
    throw new DomainError("REQUEST.MALFORMED_JSON", `the body is not valid JSON: ${reason}`, [{ field: "(body)", message: reason }]);
  }
}
