import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/**
 * Google's Cloud Firestore emulator for tests: started on a free port with a
 * `demo-` project id (which never reaches a real project), reset between
 * tests, stopped by killing its whole process group (the launcher script
 * does not `exec` java, so killing only the launcher leaves java running).
 */
export interface FirestoreEmulator {
  /** `127.0.0.1:PORT`, what `FIRESTORE_EMULATOR_HOST` would hold. */
  readonly host: string;
  readonly projectId: string;
  /** Deletes every document of the project. */
  reset(): Promise<void>;
  /** Stops the emulator (an outage); `start()` brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
  readonly running: boolean;
}

const INSTALL_HINT =
  "install it with `gcloud components install cloud-firestore-emulator` or the Debian package " +
  "`google-cloud-cli-firestore-emulator` (needs Java 17+)";

type Launcher = { readonly command: string; readonly args: (port: number) => string[] };

/** Finds the emulator launcher: on PATH, in the Debian package, or through gcloud. */
export function findFirestoreEmulator(): Launcher | null {
  const direct = (command: string): Launcher => ({
    command,
    args: (port) => ["start", "--host=127.0.0.1", `--port=${port}`],
  });
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, "cloud_firestore_emulator");
    if (dir !== "" && existsSync(candidate)) return direct(candidate);
  }
  const packaged = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator";
  if (existsSync(packaged)) return direct(packaged);
  try {
    const listed = execFileSync("dpkg", ["-L", "google-cloud-cli-firestore-emulator"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const found = listed.split("\n").find((line) => line.endsWith("/cloud_firestore_emulator"));
    if (found !== undefined && existsSync(found)) return direct(found);
  } catch {
    // no dpkg or no package: try gcloud next
  }
  try {
    execFileSync("gcloud", ["emulators", "firestore", "--help"], { stdio: "ignore" });
    return { command: "gcloud", args: (port) => ["emulators", "firestore", "start", `--host-port=127.0.0.1:${port}`] };
  } catch {
    return null;
  }
}

let warned = false;

/**
 * Whether emulator tests can run in this file. Missing emulator: with
 * `CI=true` this throws (the run fails); elsewhere it prints one loud line
 * and returns false so the caller can skip.
 */
export function firestoreEmulatorAvailable(): boolean {
  if (findFirestoreEmulator() !== null) return true;
  const message = `Cloud Firestore emulator not found: ${INSTALL_HINT}.`;
  if (process.env["CI"] === "true") throw new Error(`${message} CI=true, so this is a failure, not a skip.`);
  if (!warned) {
    warned = true;
    console.warn(`\n!!! SKIPPING FIRESTORE TESTS: ${message}\n`);
  }
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startFirestoreEmulator(projectId = `demo-gw-${process.pid}`): Promise<FirestoreEmulator> {
  // Tests never run on Google Cloud: without this, google-auth-library probes the GCE metadata
  // server each time the Firestore client opens a channel, and warns when the probe is refused.
  process.env["METADATA_SERVER_DETECTION"] ??= "none";
  const launcher = findFirestoreEmulator();
  if (launcher === null) throw new Error(`Cloud Firestore emulator not found: ${INSTALL_HINT}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let output = "";

  const start = async (): Promise<void> => {
    output = "";
    const proc = spawn(launcher.command, launcher.args(port), { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null)
        throw new Error(`Firestore emulator exited early (${proc.exitCode}):\n${output.slice(-2000)}`);
      if (await answers(host)) return;
      await sleep(150);
    }
    await stop();
    throw new Error(`Firestore emulator did not answer on ${host} within 60 s:\n${output.slice(-2000)}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    killGroup(proc.pid, "SIGTERM");
    const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
    if (timedOut) {
      killGroup(proc.pid, "SIGKILL");
      await exited;
    }
    // The launcher may exit before java does: wait until the port stops answering.
    for (let i = 0; i < 100 && (await answers(host)); i++) await sleep(100);
    killGroup(proc.pid, "SIGKILL");
  };

  await start();
  return {
    host,
    projectId,
    get running() {
      return child !== null;
    },
    async reset() {
      const response = await fetch(`http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`, {
        method: "DELETE",
      });
      if (!response.ok) throw new Error(`emulator reset failed: ${response.status}`);
    },
    stop,
    start,
  };
}

async function answers(host: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
