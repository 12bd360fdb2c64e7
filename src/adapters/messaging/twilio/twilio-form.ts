import type { WebhookRequest } from "../../../domain/ports/messaging-provider.port.ts";

const FORM = "application/x-www-form-urlencoded";

export type FormReading =
  | { readonly ok: true; readonly fields: Record<string, string> }
  | { readonly ok: false; readonly reason: "unsupported_media_type" | "malformed"; readonly detail: string };

/**
 * Reads the `application/x-www-form-urlencoded` body Twilio posts into its
 * fields: refused for any other content type (before the body is read), or
 * for a body that is not a form (not UTF-8, a broken %-escape, a field given
 * twice, a nameless field). Stricter than URLSearchParams, which silently
 * keeps broken escapes and the last of repeated fields: what we verify and
 * record must be exactly what the sender meant.
 */
export async function readForm(request: WebhookRequest): Promise<FormReading> {
  const type = (request.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== FORM) {
    return {
      ok: false,
      reason: "unsupported_media_type",
      detail: `the body must be a form with Content-Type: ${FORM} (got ${type ? JSON.stringify(type) : "none"})`,
    };
  }
  const bytes = await request.body();
  try {
    return { ok: true, fields: parseForm(utf8(bytes)) };
  } catch (error) {
    if (!(error instanceof BadForm)) throw error;
    return { ok: false, reason: "malformed", detail: `the body is not a valid form: ${error.message}` };
  }
}

/** Parses a form body strictly; throws BadForm naming the problem. */
function parseForm(text: string): Record<string, string> {
  // A null prototype: field names come from the network (`__proto__`, `constructor`).
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  if (text === "") return fields;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    if (name === "") throw new BadForm("a field has no name");
    if (Object.hasOwn(fields, name)) throw new BadForm(`field ${JSON.stringify(name)} appears more than once`);
    fields[name] = value;
  }
  return fields;
}

class BadForm extends Error {}

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    throw new BadForm(`${JSON.stringify(part.slice(0, 40))} is not valid %-encoding`);
  }
}

/** The body as UTF-8 text; bytes that are not UTF-8 make it a bad form (a signature cannot cover guessed characters). */
function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BadForm("the body is not valid UTF-8");
  }
}
