import { pathToFileURL } from "node:url";
import { isValidSessionId } from "../../domain/session.ts";
import type { SessionStore } from "../../domain/ports/session-store.port.ts";
import { createDiskStore, createFirestoreStore } from "../composition/session-stores.ts";
import { ConfigError, loadConfig } from "../config/load-config.ts";
import { migrateSessions, type MigrationReport } from "../session-migration.ts";

const USAGE = "usage: sessions migrate --from disk|firestore --to disk|firestore [--session ID] [--dry-run]";
const KINDS = ["disk", "firestore"] as const;
type Kind = (typeof KINDS)[number];

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

interface MigrateArgs {
  readonly from: Kind;
  readonly to: Kind;
  readonly session?: string;
  readonly dryRun: boolean;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): MigrateArgs {
  const [command, ...rest] = argv;
  if (command !== "migrate")
    throw new UsageError(command === undefined ? "missing command" : `unknown command ${JSON.stringify(command)}`);
  const values: Record<string, string> = {};
  let dryRun = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--dry-run") {
      dryRun = true;
      continue;
    }
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (!["--from", "--to", "--session"].includes(flag))
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = inline ?? rest[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    values[flag.slice(2)] = value;
  }
  const kind = (name: "from" | "to"): Kind => {
    const value = values[name];
    if (value === undefined) throw new UsageError(`--${name} is required`);
    if (!(KINDS as readonly string[]).includes(value))
      throw new UsageError(`--${name} must be disk or firestore, not ${JSON.stringify(value)}`);
    return value as Kind;
  };
  const from = kind("from");
  const to = kind("to");
  if (from === to) throw new UsageError("--from and --to must differ");
  const session = values["session"];
  if (session !== undefined && !isValidSessionId(session))
    throw new UsageError(`invalid session id ${JSON.stringify(session)}`);
  return { from, to, dryRun, ...(session !== undefined ? { session } : {}) };
}

/**
 * Configuration this command needs, read from the environment. Kept local on
 * purpose for now; it moves onto the central config schema later.
 */
/** The stores' settings, read through the gateway's own configuration schema. */
function readEnv(env: NodeJS.ProcessEnv): {
  dataDir: string;
  projectId?: string;
  emulatorHost?: string;
  collection?: string;
} {
  const config = loadConfig(env);
  return {
    dataDir: config.DATA_DIR,
    ...(config.FIRESTORE_PROJECT_ID ? { projectId: config.FIRESTORE_PROJECT_ID } : {}),
    ...(config.FIRESTORE_EMULATOR_HOST ? { emulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
    ...(config.FIRESTORE_COLLECTION ? { collection: config.FIRESTORE_COLLECTION } : {}),
  };
}

/** Runs the command; returns the exit code (0 done, 1 failed, 2 bad usage). */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = consoleIo,
): Promise<number> {
  let args: MigrateArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    io.err(USAGE);
    return 2;
  }
  let config: ReturnType<typeof readEnv>;
  try {
    config = readEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`error: ${error.message}`);
    return 2;
  }
  if ((args.from === "firestore" || args.to === "firestore") && config.projectId === undefined) {
    io.err("error: FIRESTORE_PROJECT_ID is required to use firestore");
    return 2;
  }
  const open = async (kind: Kind): Promise<SessionStore> =>
    kind === "disk"
      ? createDiskStore({ dataDir: config.dataDir })
      : createFirestoreStore({
          projectId: config.projectId!,
          ...(config.emulatorHost ? { emulatorHost: config.emulatorHost } : {}),
          ...(config.collection ? { collection: config.collection } : {}),
        });
  const from = await open(args.from);
  const to = await open(args.to);
  try {
    const report = await migrateSessions({
      from,
      to,
      dryRun: args.dryRun,
      ...(args.session !== undefined ? { session: args.session } : {}),
    });
    printReport(report, args, io);
    return 0;
  } catch (error) {
    io.err(`error: migration failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
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
