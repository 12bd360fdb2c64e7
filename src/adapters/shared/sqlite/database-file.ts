import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/** The database and the side files SQLite keeps next to it in WAL mode. */
function databaseFiles(path: string): readonly string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/**
 * Makes sure the database file exists and only its owner can read it, before
 * SQLite opens it: messages hold phone numbers and texts. SQLite gives the
 * -wal and -shm files the database file's mode, so a 0600 database keeps
 * them private too; files left by an older, laxer setup are tightened.
 * The directory is created 0700 when we create it; an existing directory is
 * the operator's and is left as it is.
 */
export function prepareDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR });
  // "a" creates the file if missing and never truncates an existing one.
  closeSync(openSync(path, "a", PRIVATE_FILE));
  restrictDatabaseFiles(path);
}

/** Removes group and other access from the database and its side files, where present. */
export function restrictDatabaseFiles(path: string): void {
  for (const file of databaseFiles(path)) {
    if (!existsSync(file)) continue;
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE);
  }
}
