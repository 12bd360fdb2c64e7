import type { Context } from "hono";
import { DomainError } from "../../domain/errors.ts";

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
  return new DomainError("REQUEST.INVALID", `the body is not a valid form: ${reason}`, [{ field: "(body)", message: reason }]);
}

/** The body as UTF-8 text, counted while it streams so a lying or absent Content-Length cannot exceed the limit. */
async function readBoundedText(c: Context, limitBytes: number): Promise<string> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && /^\d{1,15}$/.test(declared) && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const body = c.req.raw.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel();
      throw tooLarge(limitBytes);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw badForm("the body is not valid UTF-8");
  }
}

function tooLarge(limitBytes: number): DomainError {
  return new DomainError("REQUEST.TOO_LARGE", `the body exceeds the limit of ${limitBytes} bytes`);
}
