import type { GatewayClient } from "./gateway-client.ts";
import type { LocalParts } from "./local-parts.ts";

export const DOD_IDS = ["health", "qr", "cold-start", "mttr", "queue", "soak", "twilio"] as const;
export type DodId = (typeof DOD_IDS)[number];

/** The checks that need nothing but HTTP, so they can run against a deployment (`--target`). */
export const TARGET_IDS: readonly DodId[] = ["health"];

export type Figure = number | string | boolean | null;

/** One row of the report; `--json` prints these as they are. */
export interface DodResult {
  readonly id: DodId;
  readonly pass: boolean;
  readonly figures: Record<string, Figure>;
  readonly detail: string;
}

export interface RunOptions {
  readonly only: readonly DodId[];
  readonly mttrN: number;
  readonly soakMinutes: number;
  /** Overrides applied last to every gateway the runner starts (experiments, broken setups). */
  readonly gatewayEnv: Readonly<Record<string, string>>;
  readonly target: { readonly url: string; readonly apiKey: string } | undefined;
  readonly json: boolean;
}

/** What a check gets: the options, and either the local parts or a deployed gateway. */
export interface CheckContext {
  readonly options: RunOptions;
  /** Local runs only; undefined with --target. */
  readonly parts: LocalParts | undefined;
  /** With --target: the deployed gateway. */
  readonly target: GatewayClient | undefined;
  /** Progress for humans, on stderr (stdout stays clean for --json). */
  log(line: string): void;
}

export type Check = (ctx: CheckContext) => Promise<Omit<DodResult, "id">>;

/** A failure whose message is the row's detail (an expected FAIL, not a crash of the runner). */
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly figures: Record<string, Figure> = {},
  ) {
    super(message);
  }
}
