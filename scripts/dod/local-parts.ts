// The local stand-ins for what a deployment talks to, started on demand (a
// `--only health` run starts no emulator) and shared by the checks that run
// in one invocation. Every part is a separate process; the OTLP receiver is
// the runner's own (it plays Jaeger or a collector).
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startOtlpReceiver, type ReceivedSpan } from "../../test/support/otlp-receiver.ts";
import { gatewayClient, until, type GatewayClient } from "./gateway-client.ts";
import {
  EMULATOR_INSTALL_HINT,
  onCleanup,
  startEmulator,
  startGateway,
  startSimulator,
  startTwilioFake,
  tempDir,
  type EmulatorPart,
  type GatewayPart,
  type SimPart,
  type TwilioFakePart,
} from "./processes.ts";
import { CheckFailed } from "./types.ts";

/** Settings of the runner's Baileys gateway that differ from the defaults, and why (shown in details). */
export const MAIN_GATEWAY_SETTINGS = {
  // A silent server is noticed after keep-alive + 5 s: 1 s keeps a silence drop near 6 s instead of 35 s.
  WA_KEEPALIVE_INTERVAL_MS: "1000",
  // Caps the reconnect backoff while the simulator refuses connections (queue outage), so the drain
  // starts within ~2 s of the outage ending instead of up to 60 s.
  RECONNECT_BACKOFF_BASE_MS: "200",
  RECONNECT_BACKOFF_MAX_MS: "2000",
} as const;

/**
 * Settings of every gateway the runner starts. The runner polls session states every 20-25 ms to
 * time recoveries and posts 1,000 messages as fast as the API takes them: a per-key rate limit
 * would throttle the measuring instrument, not the product under test.
 */
export const RUNNER_GATEWAY_SETTINGS = { RATE_LIMIT_PER_SECOND: "0" } as const;

export interface RunningGateway extends GatewayPart {
  readonly client: GatewayClient;
  readonly apiKey: string;
}

export class LocalParts {
  private sim: Promise<SimPart> | undefined;
  private emulatorPart: Promise<EmulatorPart | null> | undefined;
  private twilio: Promise<TwilioFakePart> | undefined;
  private main: Promise<RunningGateway> | undefined;
  private receiver: Promise<{ url: string; spans: ReceivedSpan[] }> | undefined;

  constructor(
    private readonly gatewayEnv: Readonly<Record<string, string>>,
    private readonly log: (line: string) => void,
  ) {}

  simulator(): Promise<SimPart> {
    this.sim ??= (async () => {
      this.log("starting the WhatsApp Web simulator");
      const sim = await startSimulator();
      // Delivery receipts let the gateway's statuses move on to "delivered", as on WhatsApp.
      await sim.call("POST", "/control/receipts", { delivery: true, read: false, delayMs: 0 });
      return sim;
    })();
    return this.sim;
  }

  /** The Firestore emulator; a CheckFailed naming how to install it when it is missing. */
  async emulator(): Promise<EmulatorPart> {
    this.emulatorPart ??= (async () => {
      this.log("starting the Firestore emulator");
      return startEmulator();
    })();
    const part = await this.emulatorPart;
    if (part === null) throw new CheckFailed(EMULATOR_INSTALL_HINT);
    return part;
  }

  twilioFake(): Promise<TwilioFakePart> {
    this.twilio ??= (async () => {
      this.log("starting the fake Twilio API");
      return startTwilioFake();
    })();
    return this.twilio;
  }

  /** Spans exported by the main gateway (OTLP/HTTP JSON). */
  async spans(): Promise<ReceivedSpan[]> {
    return (await this.otlp()).spans;
  }

  private otlp(): Promise<{ url: string; spans: ReceivedSpan[] }> {
    this.receiver ??= (async () => {
      const receiver = await startOtlpReceiver();
      onCleanup(() => receiver.close());
      return receiver;
    })();
    return this.receiver;
  }

  /** The shared Baileys gateway on the simulator, tracing to the local OTLP receiver. */
  mainGateway(): Promise<RunningGateway> {
    this.main ??= (async () => {
      const sim = await this.simulator();
      const receiver = await this.otlp();
      this.log("starting the gateway (baileys, embedded SQLite store, tracing on)");
      return this.gateway("gateway", {
        GATEWAY_PROVIDERS: "baileys",
        WA_WEBSOCKET_URL: sim.ws,
        DEFAULT_SESSION: "",
        ...MAIN_GATEWAY_SETTINGS,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_BSP_SCHEDULE_DELAY: "200",
        OTEL_SERVICE_NAME: "gateway-dod",
      });
    })();
    return this.main;
  }

  /**
   * Starts a gateway process with a fresh DATA_DIR (unless given) and API key;
   * `--gateway-env` overrides are applied last.
   */
  async gateway(name: string, env: Record<string, string>, dataDir?: string): Promise<RunningGateway> {
    const dir = dataDir ?? join(await tempDir("dod-gateway-"), "data");
    const apiKey = `dod-${randomBytes(12).toString("hex")}`;
    const part = await startGateway(name, {
      DATA_DIR: dir,
      API_KEYS: apiKey,
      ...RUNNER_GATEWAY_SETTINGS,
      ...env,
      ...this.gatewayEnv,
    });
    return { ...part, apiKey, client: gatewayClient(part.url, apiKey) };
  }
}

/** A fresh simulated phone number per use, so the simulator's per-account records never mix. */
let phoneCounter = 0;
export function nextPhone(): string {
  phoneCounter++;
  return `4070${String(process.pid % 1000).padStart(3, "0")}${String(phoneCounter).padStart(4, "0")}`;
}

export interface LinkTimings {
  readonly msToQr: number;
  readonly msToOpen: number;
}

/**
 * Links a session the way a user does: POST /sessions, read the QR from the
 * API, let the simulated phone scan it, wait for `open`.
 */
export async function linkSession(
  client: GatewayClient,
  sim: SimPart,
  id: string,
  phone: string,
  qrTimeoutMs = 20_000,
): Promise<LinkTimings> {
  const started = performance.now();
  const created = await client.request("POST", "/sessions", { id });
  if (created.status !== 201)
    throw new CheckFailed(`POST /sessions answered ${created.status}: ${(await created.text()).slice(0, 200)}`);
  await created.body?.cancel();
  const qr = await until(
    async () => {
      const res = await client.request("GET", `/sessions/${id}/qr`);
      if (res.status !== 200) {
        await res.body?.cancel();
        return undefined;
      }
      return ((await res.json()) as { qr: string }).qr;
    },
    `a QR for session ${id}`,
    qrTimeoutMs,
  ).catch((error: unknown) => {
    throw new CheckFailed(error instanceof Error ? error.message : String(error));
  });
  const msToQr = performance.now() - started;
  await sim.call("POST", "/control/scan", { qr, phone });
  await until(
    async () => (await client.session(id))?.state === "open",
    `session ${id} to open after the scan`,
    30_000,
  ).catch((error: unknown) => {
    throw new CheckFailed(error instanceof Error ? error.message : String(error));
  });
  return { msToQr, msToOpen: performance.now() - started };
}
