import { createHash } from "node:crypto";

/**
 * Key <-> file name mapping of the disk store.
 *
 * A key becomes `<escaped>.json`: characters in `[A-Za-z0-9._@+=,-]` stay as
 * they are, every other character is written as `%XX` per UTF-8 byte (so `%`
 * itself is `%25`, `/` is `%2F`, `:` is `%3A`). The mapping is reversible, and
 * for the keys Baileys uses (`creds`, `pre-key-12`, `session-123.0`) it gives
 * exactly Baileys' own file names. A name longer than the file system allows
 * becomes `%H<sha256 of the key>.json`, reversed through the session's index
 * file (`.meta`). Every key file ends in `.json`; the store's own files
 * (`.meta`, an old `.journal`, `.tmp-*`, `*.corrupt-*`) never do, so they can never
 * collide with a key.
 */
const KEEP = /^[A-Za-z0-9._@+=,-]$/;
const MAX_NAME_BYTES = 240;

export function keyToFileName(key: string): string {
  let escaped = "";
  for (const char of key) {
    if (KEEP.test(char)) {
      escaped += char;
      continue;
    }
    for (const byte of Buffer.from(char, "utf8")) escaped += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  const name = `${escaped}.json`;
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  return `%H${createHash("sha256").update(key, "utf8").digest("hex")}.json`;
}

export function isKeyFileName(name: string): boolean {
  return name.endsWith(".json");
}

export function isHashedFileName(name: string): boolean {
  return name.startsWith("%H");
}

/**
 * The key a file name stands for, or `null` for a hashed name (look it up in
 * the index). Names our escaping cannot have produced (written by Baileys or
 * by hand) are taken literally, so such a file is still listed.
 */
export function fileNameToKey(name: string): string | null {
  if (isHashedFileName(name)) return null;
  const stem = name.slice(0, -".json".length);
  try {
    return decodeURIComponent(stem);
  } catch {
    return stem;
  }
}

export { baileysFileName } from "../shared/baileys-folder.ts";
