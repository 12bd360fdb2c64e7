import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** A secret and every form it could leak in: as is, base64, base64url, %-encoded, hex, a JSON byte array. */
export interface Secret {
  readonly name: string;
  readonly forms: readonly string[];
}

/** The forms of a text secret (API key, auth token). */
export function textSecret(name: string, value: string): Secret {
  const bytes = Buffer.from(value, "utf8");
  return {
    name,
    forms: unique([
      value,
      bytes.toString("base64"),
      bytes.toString("base64url"),
      encodeURIComponent(value),
      bytes.toString("hex"),
    ]),
  };
}

/**
 * The forms of a binary secret (a private key): base64 and base64url (with
 * and without padding), hex, and the comma list pino prints for a Buffer's
 * JSON (`{"type":"Buffer","data":[1,2,...]}`).
 */
export function binarySecret(name: string, value: Uint8Array): Secret {
  const bytes = Buffer.from(value);
  const b64 = bytes.toString("base64");
  return {
    name,
    forms: unique([
      b64,
      b64.replace(/=+$/, ""),
      bytes.toString("base64url"),
      bytes.toString("hex"),
      [...bytes].join(","),
    ]),
  };
}

/** Extra forms for an existing secret (e.g. the Basic auth header Twilio's library builds). */
export function withForms(secret: Secret, ...forms: string[]): Secret {
  return { name: secret.name, forms: unique([...secret.forms, ...forms]) };
}

export interface Leak {
  readonly secret: string;
  readonly form: string;
  readonly where: string;
  /** The text around the leak, to find its source. */
  readonly context: string;
}

/** Every occurrence of any form of any secret in the texts (case-sensitive except hex). */
export function findLeaks(secrets: readonly Secret[], texts: ReadonlyArray<{ where: string; text: string }>): Leak[] {
  const leaks: Leak[] = [];
  for (const { where, text } of texts) {
    const lower = text.toLowerCase();
    for (const secret of secrets) {
      for (const form of secret.forms) {
        const at = /^[0-9a-f]+$/.test(form) ? lower.indexOf(form) : text.indexOf(form);
        if (at >= 0)
          leaks.push({
            secret: secret.name,
            form: form.slice(0, 24),
            where,
            context: text.slice(Math.max(0, at - 120), at + form.length + 40),
          });
      }
    }
  }
  return leaks;
}

/** Every file under `dir` as latin-1 text (binary-safe for byte searches), for scanning stores at rest. */
export async function filesUnder(dir: string): Promise<Array<{ where: string; text: string }>> {
  const files: Array<{ where: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ where: path, text: (await readFile(path)).toString("latin1") });
  }
  return files;
}

function unique(forms: string[]): string[] {
  return [...new Set(forms.filter((f) => f.length >= 8))];
}
