import { configKeys, configSchema, type Config } from "./config.schema.ts";

/** Bad configuration: the message names every invalid variable at once. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

// Values of these are never echoed back in an error message.
const secretVariables = new Set(["API_KEYS", "TWILIO_AUTH_TOKEN", "WEBHOOK_SECRET", "MEDIA_LINK_SECRET"]);

// Variables for which an empty value means "none" rather than "use the default".
const emptyIsAValue = new Set(["DEFAULT_SESSION"]);

/**
 * Validates an environment. The only place that reads variables: callers
 * pass `process.env` (or `Deno.env.toObject()`), tests pass a plain object.
 * Empty strings count as unset, as they do in most `.env` tooling.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const defined: Record<string, string> = {};
  for (const key of configKeys) {
    const value = env[key];
    if (value !== undefined && (value !== "" || emptyIsAValue.has(key))) defined[key] = value;
  }
  const parsed = configSchema.safeParse(defined);
  if (!parsed.success) {
    // A secret pasted into the wrong variable (the auth token into TWILIO_ACCOUNT_SID) is not echoed either.
    const secrets = [...secretVariables]
      .flatMap((key) => (defined[key] ?? "").split(",").map((s) => s.trim()))
      .filter((s) => s.length >= 4);
    const echoable = (name: string) =>
      name in defined && !secretVariables.has(name) && !secrets.some((secret) => defined[name]!.includes(secret));
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? "?");
        const shown = echoable(name) ? ` (got ${JSON.stringify(defined[name])})` : "";
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  return parsed.data;
}
