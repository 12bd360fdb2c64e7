import { isValidSessionId } from "../../domain/session.ts";

export const USAGE = [
  "usage: sessions migrate --from sqlite|firestore --to sqlite|firestore [--session ID] [--dry-run]",
  "       sessions import --baileys-folder DIR --session ID",
  "       sessions export --session ID --baileys-folder DIR",
].join("\n");

/** `sqlite`: the embedded store in DATA_DIR (sessions.db); `disk` is its name from before sessions.db. */
const KINDS = ["sqlite", "firestore"] as const;
export type Kind = (typeof KINDS)[number];

export interface MigrateArgs {
  readonly command: "migrate";
  readonly from: Kind;
  readonly to: Kind;
  readonly session?: string;
  readonly dryRun: boolean;
}

/** `import` adopts a Baileys folder as a session; `export` writes a session as one. */
export interface FolderArgs {
  readonly command: "import" | "export";
  readonly session: string;
  readonly folder: string;
}

export type CliArgs = MigrateArgs | FolderArgs;

export class UsageError extends Error {}

const FLAGS: Record<CliArgs["command"], readonly string[]> = {
  migrate: ["--from", "--to", "--session"],
  import: ["--baileys-folder", "--session"],
  export: ["--baileys-folder", "--session"],
};

export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command !== "migrate" && command !== "import" && command !== "export")
    throw new UsageError(command === undefined ? "missing command" : `unknown command ${JSON.stringify(command)}`);
  const values: Record<string, string> = {};
  let dryRun = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--dry-run" && command === "migrate") {
      dryRun = true;
      continue;
    }
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (!FLAGS[command].includes(flag)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = inline ?? rest[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    values[flag.slice(2)] = value;
  }
  const session = values["session"];
  if (session !== undefined && !isValidSessionId(session))
    throw new UsageError(`invalid session id ${JSON.stringify(session)}`);
  if (command !== "migrate") {
    const folder = values["baileys-folder"];
    if (folder === undefined) throw new UsageError("--baileys-folder is required");
    if (session === undefined) throw new UsageError("--session is required");
    return { command, session, folder };
  }
  const kind = (name: "from" | "to"): Kind => {
    const value = values[name] === "disk" ? "sqlite" : values[name];
    if (value === undefined) throw new UsageError(`--${name} is required`);
    if (!(KINDS as readonly string[]).includes(value))
      throw new UsageError(`--${name} must be sqlite or firestore, not ${JSON.stringify(value)}`);
    return value as Kind;
  };
  const from = kind("from");
  const to = kind("to");
  if (from === to) throw new UsageError("--from and --to must differ");
  return { command, from, to, dryRun, ...(session !== undefined ? { session } : {}) };
}
