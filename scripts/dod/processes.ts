// The parts the DoD runner starts, each as its own process in its own process
// group (detached), so that a kill -9 of the gateway or the end of the run
// takes down everything a part spawned (the emulator's launcher does not
// `exec` java). Every started part registers itself in `cleanups`, which the
// runner drains on exit, on failure and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { configKeys } from "../../src/app/config/config.schema.ts";
import { findFirestoreEmulator, freePort } from "../../test/support/firestore-emulator.ts";

export const root = join(import.meta.dirname, "../..");

export interface Part {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines the process wrote (stdout and stderr), for failure details. */
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader exited. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9 of the whole group, as a crash or an OOM killer would. */
  kill9(): Promise<void>;
}

const live = new Set<Part>();
const cleanups: Array<() => Promise<void>> = [];

/** Registers something to undo at the end of the run (last registered, first undone). */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Stops every part still running and removes temp dirs. Safe to call twice. */
export async function cleanupAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    await fn().catch((error: unknown) =>
      console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  await Promise.all([...live].map((p) => p.stop(3_000)));
}

/** Last resort when the runner itself is exiting: synchronous SIGKILL to every group still alive. */
export function killAllNow(): void {
  for (const part of live) killGroup(part.pid, "SIGKILL");
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

const KEEP_LINES = 400;

/** Spawns `command args` detached (own process group) with `env`, keeping its last output lines. */
export function spawnPart(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Part {
  const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${name}: could not be spawned`);
  const pid = child.pid;
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > KEEP_LINES) output.shift();
  };
  createInterface({ input: child.stdout! }).on("line", keep);
  createInterface({ input: child.stderr! }).on("line", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const done = () => child.exitCode !== null || child.signalCode !== null;
  const part: Part = {
    name,
    child,
    pid,
    output,
    exited,
    async stop(graceMs = 10_000) {
      if (!done()) {
        killGroup(pid, "SIGTERM");
        const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Children of the leader (java under the emulator's launcher) may outlive it.
      killGroup(pid, "SIGKILL");
      live.delete(part);
    },
    async kill9() {
      killGroup(pid, "SIGKILL");
      await exited;
      live.delete(part);
    },
  };
  live.add(part);
  return part;
}

/** Resolves with the first value `ready(line)` returns for a stdout line; rejects (and stops the part) on exit or timeout. */
export async function waitReady<T>(part: Part, ready: (line: string) => T | undefined, timeoutMs = 60_000): Promise<T> {
  try {
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${part.name} not ready within ${timeoutMs} ms:\n${tail(part)}`)),
        timeoutMs,
      );
      const check = (line: string) => {
        const found = ready(line);
        if (found === undefined) return;
        clearTimeout(timer);
        resolve(found);
      };
      part.output.forEach(check);
      createInterface({ input: part.child.stdout! }).on("line", check);
      void part.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${part.name} exited (${code ?? signal}) before it was ready:\n${tail(part)}`));
      });
    });
  } catch (error) {
    await part.stop(1_000);
    throw error;
  }
}

/** The last lines of a part's output, for a failure detail. */
export function tail(part: Part, lines = 15): string {
  return part.output.slice(-lines).join("\n");
}

const tsx = (entry: string) => ["--import", "tsx", join(root, entry)];

function firstJsonLine<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

export interface SimPart {
  readonly part: Part;
  readonly ws: string;
  readonly control: string;
  /** JSON call to the simulator's control API; throws on a non-2xx answer. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The WhatsApp Web simulator, as `npm run sim` starts it. */
export async function startSimulator(): Promise<SimPart> {
  const part = spawnPart("simulator", process.execPath, tsx("test/fakes/whatsapp/cli.ts"), process.env);
  const value = await waitReady(part, (line) => firstJsonLine<{ ws: string; control: string }>(line));
  return {
    part,
    ...value,
    call: (method, path, body) => callJson(`${value.control.replace(/\/control$/, "")}${path}`, method, body),
  };
}

export interface TwilioFakePart {
  readonly part: Part;
  readonly url: string;
  readonly accountSid: string;
  /** A test credential of the fake, never printed. */
  readonly authToken: string;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The fake Twilio REST API, as its CLI starts it. */
export async function startTwilioFake(): Promise<TwilioFakePart> {
  const part = spawnPart("fake Twilio API", process.execPath, tsx("test/fakes/twilio/cli.ts"), process.env);
  const value = await waitReady(part, (line) =>
    firstJsonLine<{ url: string; accountSid: string; authToken: string }>(line),
  );
  return { part, ...value, call: (method, path, body) => callJson(`${value.url}${path}`, method, body) };
}

export interface EmulatorPart {
  readonly part: Part;
  /** host:port for FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
}

export const EMULATOR_INSTALL_HINT =
  "Cloud Firestore emulator not found: install `gcloud components install cloud-firestore-emulator` or the Debian package google-cloud-cli-firestore-emulator (Java 17+)";

/** Google's Firestore emulator on a free port; null when it is not installed. */
export async function startEmulator(): Promise<EmulatorPart | null> {
  const launcher = findFirestoreEmulator();
  if (launcher === null) return null;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const part = spawnPart("Firestore emulator", launcher.command, launcher.args(port), process.env);
  // Readiness is the port answering (the launcher's own lines vary between versions).
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (part.child.exitCode !== null) throw new Error(`Firestore emulator exited early:\n${tail(part)}`);
    try {
      if ((await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) })).ok) return { part, host };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  await part.stop(1_000);
  throw new Error(`Firestore emulator did not answer on ${host} within 90 s:\n${tail(part)}`);
}

export interface GatewayPart {
  readonly part: Part;
  readonly url: string;
  /** Milliseconds from spawn to the "gateway listening" line. */
  readonly listeningMs: number;
  readonly startedAt: number;
  readonly dataDir: string;
  /** Where the heap probe (heap-probe.ts) writes a sample each time the process gets SIGUSR2. */
  readonly heapProbeFile: string;
}

/**
 * The gateway as a user starts it (`node --import tsx src/main.ts`) with only
 * the variables given: the runner's own shell configuration (OTEL_*,
 * FIRESTORE_*, API_KEYS...) never leaks into it. The runner adds its heap
 * probe (heap-probe.ts, with --expose-gc), which acts only on SIGUSR2.
 */
export async function startGateway(name: string, env: Record<string, string>): Promise<GatewayPart> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) {
    if (configKeys.includes(key) || key.startsWith("OTEL_") || key === "NODE_OPTIONS") delete base[key];
  }
  const startedAt = Date.now();
  const heapProbeFile = join(await tempDir("dod-heap-"), "samples.jsonl");
  // The runner's instrument: see heap-probe.ts.
  const args = [
    "--expose-gc",
    "--import",
    "tsx",
    "--import",
    join(root, "scripts/dod/heap-probe.ts"),
    join(root, "src/main.ts"),
  ];
  // MALLOC_ARENA_MAX=2 as `npm start` and docs/deploy.md set it: with glibc's
  // default arenas the process's native memory creeps up with traffic.
  const part = spawnPart(name, process.execPath, args, {
    ...base,
    MALLOC_ARENA_MAX: "2",
    DOD_HEAP_PROBE_FILE: heapProbeFile,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ...env,
  });
  const value = await waitReady(part, (line) =>
    line.includes('"gateway listening"') ? firstJsonLine<{ port: number }>(line)?.port : undefined,
  );
  return {
    part,
    url: `http://127.0.0.1:${value}`,
    listeningMs: Date.now() - startedAt,
    startedAt,
    dataDir: env["DATA_DIR"] ?? "",
    heapProbeFile,
  };
}

/** A private temp dir removed at cleanup. */
export async function tempDir(prefix: string): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  return path;
}

export async function callJson<T>(url: string, method: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${new URL(url).pathname} -> ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export { freePort };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
