import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StoredValue } from "../../../domain/ports/session-store.port.ts";
import { decodeBufferJson, encodeBufferJson } from "./buffer-json.ts";
import { DIR_MODE, FILE_MODE } from "./durable-files.ts";

/**
 * The folder Baileys' `useMultiFileAuthState` keeps a login in: `creds.json`,
 * and one `<type>-<id>.json` per signal key, each in Baileys' BufferJSON
 * encoding. Our keys are Baileys' own (`creds`, `<type>-<id>`), so the only
 * translation is Baileys' file naming: `/` becomes `__` and `:` becomes `-`.
 */

/** The file name Baileys gives a key (`/` -> `__`, `:` -> `-`). */
export function baileysFileName(key: string): string {
  return `${key.replace(/\//g, "__").replace(/:/g, "-")}.json`;
}

/**
 * The key a Baileys file name stands for. Baileys' naming loses information,
 * so this reverses what its keys hold: `__` was `/` (base64 ids of app state
 * keys), `--` was `::` (sender keys: `<group>::<user>::<device>`). A lone `:`
 * in an id (Baileys writes none) would come back as `-`.
 */
export function keyFromBaileysFileName(name: string): string {
  return name.slice(0, -".json".length).replace(/__/g, "/").replace(/--/g, "::");
}

/**
 * Reads every `*.json` file of a Baileys folder into keys and values.
 * @throws when a file does not decode (naming it): a login is adopted whole or not at all.
 */
export async function readBaileysFolder(dir: string): Promise<Map<string, StoredValue>> {
  const entries = new Map<string, StoredValue>();
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(".json")) continue;
    const key = keyFromBaileysFileName(name);
    try {
      entries.set(key, decodeBufferJson(await readFile(join(dir, name), "utf8")));
    } catch (error) {
      throw new Error(
        `${join(dir, name)} is not a BufferJSON file: ${error instanceof Error ? error.message : error}`,
        {
          cause: error,
        },
      );
    }
  }
  return entries;
}

/**
 * Writes keys as a Baileys folder (created 0700, files 0600) that
 * `useMultiFileAuthState` opens. Refuses a folder that already holds `.json`
 * files (two logins must not mix), and keys that Baileys' naming would put
 * in one file.
 */
export async function writeBaileysFolder(dir: string, entries: ReadonlyMap<string, StoredValue>): Promise<number> {
  const files = new Map<string, string>();
  for (const key of entries.keys()) {
    const name = baileysFileName(key);
    const other = files.get(name);
    if (other !== undefined)
      throw new Error(`keys ${JSON.stringify(other)} and ${JSON.stringify(key)} would both be ${name}`);
    files.set(name, key);
  }
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const present = (await readdir(dir)).filter((name) => name.endsWith(".json"));
  if (present.length > 0)
    throw new Error(`${dir} already holds ${present.length} .json file(s); export into an empty folder`);
  for (const [name, key] of files) {
    await writeFile(join(dir, name), encodeBufferJson(entries.get(key)!), { mode: FILE_MODE, flag: "wx" });
  }
  return files.size;
}
