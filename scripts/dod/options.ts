import { parseArgs } from "node:util";
import { DOD_IDS, TARGET_IDS, type DodId, type RunOptions } from "./types.ts";

export const USAGE = `Usage: npm run dod -- [options]   (or: npx tsx scripts/dod/run-dod.ts [options])

Runs the Definitions of Done on real parts: the WhatsApp Web simulator, the
Firestore emulator, the fake Twilio API and the gateway, each started as its
own process (the gateway as \`node --import tsx src/main.ts\` with env vars, in
a temp DATA_DIR). Prints a table; exits 1 when any row FAILs.

Checks (ids): ${DOD_IDS.join(", ")}

Options:
  --only ID[,ID...]       run only these checks (in the order above)
  --mttr-n N              forced drops for mttr (default 10)
  --soak-minutes N        length of the soak in minutes (default 2; the seed's DoD
                          is 120; fractions allowed)
  --gateway-env KEY=VALUE override a variable of every gateway the runner starts
                          (repeatable), e.g. FIRESTORE_AUTH_STATE_MODE=off to see
                          cold-start FAIL
  --json                  print {"dods": [{"id","pass","figures","detail"}]} on stdout
  --target URL            run against a deployed gateway instead; only the checks
                          that need nothing but HTTP run there: ${TARGET_IDS.join(", ")}
  --api-key KEY           API key of the --target gateway (or env DOD_API_KEY)
  --help                  this text

Exit codes: 0 all PASS, 1 a FAIL, 2 bad options.`;

export class UsageError extends Error {}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
  return n;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Parses argv; null for --help. Throws UsageError on anything it does not understand. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): RunOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: "string" },
        "mttr-n": { type: "string" },
        "soak-minutes": { type: "string" },
        "gateway-env": { type: "string", multiple: true },
        json: { type: "boolean" },
        target: { type: "string" },
        "api-key": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return null;

  const known = new Set<string>(DOD_IDS);
  const requested =
    values.only === undefined
      ? undefined
      : values.only
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  const unknown = requested?.filter((id) => !known.has(id)) ?? [];
  if (unknown.length > 0) throw new UsageError(`unknown check ${unknown.join(", ")}; known: ${DOD_IDS.join(", ")}`);
  if (requested !== undefined && requested.length === 0) throw new UsageError("--only needs at least one check id");

  const gatewayEnv: Record<string, string> = {};
  for (const pair of values["gateway-env"] ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--gateway-env takes KEY=VALUE, got "${pair}"`);
    gatewayEnv[match[1]!] = match[2]!;
  }

  let target: RunOptions["target"];
  if (values.target !== undefined) {
    let url: URL;
    try {
      url = new URL(values.target);
    } catch {
      throw new UsageError(`--target must be a URL, got "${values.target}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new UsageError("--target must be an http:// or https:// URL");
    const apiKey = values["api-key"] ?? env["DOD_API_KEY"];
    if (!apiKey) throw new UsageError("--target needs --api-key KEY (or DOD_API_KEY)");
    const outside = (requested ?? []).filter((id) => !TARGET_IDS.includes(id as DodId));
    if (outside.length > 0) {
      throw new UsageError(
        `${outside.join(", ")} need the local simulator/emulator/fake and cannot run against --target; with --target: ${TARGET_IDS.join(", ")}`,
      );
    }
    if (Object.keys(gatewayEnv).length > 0)
      throw new UsageError("--gateway-env applies to gateways the runner starts, not to --target");
    target = { url: url.href, apiKey };
  } else if (values["api-key"] !== undefined) {
    throw new UsageError("--api-key goes with --target");
  }

  const only = target ? (requested ?? TARGET_IDS) : (requested ?? DOD_IDS);
  return {
    only: DOD_IDS.filter((id) => only.includes(id)),
    mttrN: positiveInt(values["mttr-n"], "--mttr-n", 10),
    soakMinutes: positiveNumber(values["soak-minutes"], "--soak-minutes", 2),
    gatewayEnv,
    target,
    json: values.json === true,
  };
}
