import type { Context } from "hono";
import { DomainError } from "../../domain/errors.ts";
import { readBoundedBody } from "./request-body.ts";

/**
 * Reads an `application/x-www-form-urlencoded` body into its fields: 415 for
 * any other content type, 413 above `limitBytes`, 400 for a body that is not
 * a form (a broken %-escape, a field given twice, a nameless field).
 * Stricter than URLSearchParams, which silently keeps broken escapes and the
 * last of repeated fields: what we verify and record must be exactly what
 * the sender meant.
 */
export async function readFormBody(c: Context, limitBytes: number): Promise<Record<string, string>> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new DomainError(
      "REQUEST.UNSUPPORTED_MEDIA_TYPE",
      `the body must be a form with Content-Type: application/x-www-form-urlencoded (got ${type ? JSON.stringify(type) : "none"})`,
    );
  }
  return parseForm(await readBoundedText(c, limitBytes));
}

/** Parses a form body strictly; throws a 400 DomainError naming the problem. */
export function parseForm(text: string): Record<string, string> {
  // A null prototype: field names come from the network (`__proto__`, `constructor`).
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  if (text === "") return fields;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    if (name === "") throw badForm("a field has no name");
    if (Object.hasOwn(fields, name)) throw badForm(`field ${JSON.stringify(name)} appears more than once`);
    fields[name] = value;
  }
  return fields;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    throw badForm(`${JSON.stringify(part.slice(0, 40))} is not valid %-encoding`);
  }
}

function badForm(reason: string): DomainError {
  return new DomainError("REQUEST.INVALID", `the body is not a valid form: ${reason}`, [
    { field: "(body)", message: reason },
  ]);
}

/** The body as UTF-8 text; bytes that are not UTF-8 make it a bad form (a signature cannot cover guessed characters). */
async function readBoundedText(c: Context, limitBytes: number): Promise<string> {
  const bytes = await readBoundedBody(c, limitBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badForm("the body is not valid UTF-8");
  }
}
