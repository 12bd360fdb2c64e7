import { pathToFileURL } from "node:url";
import type { SessionStore } from "../../domain/ports/session-store.port.ts";
import {
  createFirestoreStore,
  openEmbeddedStore,
  readBaileysAuthFolder,
  writeBaileysAuthFolder,
} from "../composition/session-stores.ts";
import { ConfigError, loadConfig } from "../config/load-config.ts";
import { migrateSessions, sameValue, type MigrationReport } from "../session-migration.ts";
import {
  parseArgs,
  UsageError,
  USAGE,
  type CliArgs,
  type FolderArgs,
  type Kind,
  type MigrateArgs,
} from "./sessions-cli-args.ts";

export { parseArgs } from "./sessions-cli-args.ts";

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

interface StoreSettings {
  readonly dataDir: string;
  readonly projectId?: string;
  readonly emulatorHost?: string;
  readonly collection?: string;
}

/** The stores' settings, read through the gateway's own configuration schema. */
function readEnv(env: NodeJS.ProcessEnv): StoreSettings {
  const config = loadConfig(env);
  return {
    dataDir: config.DATA_DIR,
    ...(config.FIRESTORE_PROJECT_ID ? { projectId: config.FIRESTORE_PROJECT_ID } : {}),
    ...(config.FIRESTORE_EMULATOR_HOST ? { emulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
    ...(config.FIRESTORE_COLLECTION ? { collection: config.FIRESTORE_COLLECTION } : {}),
  };
}

/** A failure to report with exit code 1 (not a usage error, not a bug). */
class CommandError extends Error {}

/** Runs the command; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = consoleIo,
): Promise<number> {
  let args: CliArgs;
  let config: StoreSettings;
  try {
    args = parseArgs(argv);
    config = readEnv(env);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    if (error instanceof UsageError) io.err(USAGE);
    return 2;
  }
  if (args.command === "migrate" && (args.from === "firestore" || args.to === "firestore") && !config.projectId) {
    io.err("error: FIRESTORE_PROJECT_ID is required to use firestore");
    return 2;
  }
  try {
    if (args.command === "migrate") await migrate(args, config, io);
    else if (args.command === "import") await importFolder(args, config, io);
    else await exportFolder(args, config, io);
    return 0;
  } catch (error) {
    io.err(`error: ${args.command} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function migrate(args: MigrateArgs, config: StoreSettings, io: CliIo) {
  const open = async (kind: Kind): Promise<SessionStore> =>
    kind === "sqlite"
      ? openEmbeddedStore({ dataDir: config.dataDir })
      : createFirestoreStore({
          projectId: config.projectId!,
          ...(config.emulatorHost ? { emulatorHost: config.emulatorHost } : {}),
          ...(config.collection ? { collection: config.collection } : {}),
        });
  const from = await open(args.from);
  const to = await open(args.to).catch(async (error: unknown) => {
    await from.close();
    throw error;
  });
  try {
    const report = await migrateSessions({
      from,
      to,
      dryRun: args.dryRun,
      ...(args.session !== undefined ? { session: args.session } : {}),
    });
    printReport(report, args, io);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

/**
 * Adopts a Baileys `useMultiFileAuthState` folder as a session of the
 * embedded store, in one atomic write, read back to check. Refuses a session
 * that already holds keys (delete it first) and a folder without creds.json.
 */
async function importFolder(args: FolderArgs, config: StoreSettings, io: CliIo) {
  const entries = await readBaileysAuthFolder(args.folder);
  if (!entries.has("creds")) throw new CommandError(`${args.folder} has no creds.json: not a Baileys login folder`);
  const store = await openEmbeddedStore({ dataDir: config.dataDir });
  try {
    const existing = await store.entries(args.session);
    if (existing.size > 0)
      throw new CommandError(
        `session ${args.session} already holds ${existing.size} keys; delete it first (DELETE /sessions/${args.session}) or pick another id`,
      );
    await store.setMany(args.session, entries);
    const stored = await store.entries(args.session);
    const equal = stored.size === entries.size && [...entries].every(([k, v]) => sameValue(v, stored.get(k)!));
    if (!equal) throw new CommandError(`session ${args.session} did not read back equal after the import`);
  } finally {
    await store.close();
  }
  io.out(`imported ${entries.size} keys from ${args.folder} into session ${args.session}`);
}

/** Writes a session of the embedded store as a folder Baileys' `useMultiFileAuthState` opens. */
async function exportFolder(args: FolderArgs, config: StoreSettings, io: CliIo) {
  const store = await openEmbeddedStore({ dataDir: config.dataDir });
  let entries;
  try {
    entries = await store.entries(args.session);
  } finally {
    await store.close();
  }
  if (entries.size === 0) throw new CommandError(`session ${args.session} holds no keys`);
  const files = await writeBaileysAuthFolder(args.folder, entries);
  io.out(`exported session ${args.session}: ${files} files in ${args.folder}`);
}

function printReport(report: MigrationReport, args: MigrateArgs, io: CliIo): void {
  const verb = report.dryRun ? "would copy" : "copied";
  io.out(`${report.dryRun ? "dry run: " : ""}${args.from} -> ${args.to}`);
  for (const s of report.sessions) {
    io.out(
      `  session ${s.session}: ${s.keys} keys, ${s.bytes} bytes; ${verb} ${s.changed} keys${s.changed === 0 ? " (already up to date)" : ""}`,
    );
  }
  io.out(
    `total: ${report.sessions.length} sessions, ${report.keys} keys, ${report.bytes} bytes; ${verb} ${report.changed} keys`,
  );
}

const consoleIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
