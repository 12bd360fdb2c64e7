import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound, unlinkIfPresent } from "../shared/durable-files.ts";
import { syncPath, type SyncFn } from "./durable-sync.ts";
import { isLogFileName, parseRecords } from "./log-frames.ts";

/** Logs held by live stores of this process: never replayed (their records are applied already). */
export const liveLogs = new Set<string>();

/** How the records of dead logs are applied: each in order, then `finish` once all were. */
export interface LogReplay {
  apply(payload: Buffer): Promise<void>;
  /** Makes durable (files, indexes, their directories) everything the records described. */
  finish(): Promise<void>;
}

/**
 * Replays the logs left by dead instances under `root`, in order, through
 * `replay`, which makes what they describe durable, then deletes those
 * logs. A log of a live store in this process is left alone. Returns how
 * many records were replayed.
 */
export async function recoverLogs(root: string, sync: SyncFn, replay: LogReplay): Promise<number> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  const logs = names.filter((name) => isLogFileName(name) && !liveLogs.has(join(root, name))).sort();
  if (logs.length === 0) return 0;
  let replayed = 0;
  for (const name of logs) {
    for (const payload of parseRecords(await readFile(join(root, name)))) {
      await replay.apply(payload);
      replayed += 1;
    }
  }
  await replay.finish();
  for (const name of logs) await unlinkIfPresent(join(root, name));
  await syncPath(root, "dir", sync);
  return replayed;
}
