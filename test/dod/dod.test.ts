import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { firestoreEmulatorAvailable } from "../support/firestore-emulator.ts";
import { startGatewayProcess } from "../support/gateway-process.ts";
import { tempDir } from "../support/temp-dir.ts";

// The DoD runner as CI and users run it: its own process, its own parts.
const root = join(import.meta.dirname, "../..");
const runner = join(root, "scripts/dod/run-dod.ts");

interface RunnerOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDod(args: string[]): Promise<RunnerOutput> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", runner, ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

type Report = { dods: { id: string; pass: boolean; figures: Record<string, unknown>; detail: string }[] };

function parseReport(out: RunnerOutput): Report {
  try {
    return JSON.parse(out.stdout) as Report;
  } catch {
    throw new Error(`stdout is not the JSON report (exit ${out.code}):\n${out.stdout}\n${out.stderr.slice(-3000)}`);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("npm run dod", () => {
  it("--only health,qr --json: both PASS on real parts, in the documented shape", async () => {
    const out = await runDod(["--only", "health,qr", "--json"]);
    const report = parseReport(out);
    expect(Object.keys(report)).toEqual(["dods"]);
    expect(report.dods.map((d) => d.id)).toEqual(["health", "qr"]);
    for (const dod of report.dods) {
      expect(Object.keys(dod)).toEqual(["id", "pass", "figures", "detail"]);
      expect(dod.pass, dod.detail).toBe(true);
      expect(typeof dod.detail).toBe("string");
    }
    expect(report.dods[0]!.figures).toMatchObject({ version: expect.any(String) });
    expect(report.dods[1]!.figures).toMatchObject({ msToQr: expect.any(Number), msToOpen: expect.any(Number) });
    expect(out.code).toBe(0);
  }, 120_000);

  it.skipIf(!firestoreEmulatorAvailable())(
    "reports cold-start as FAIL, exit 1, when the gateway does not keep logins off its disk",
    async () => {
      // Broken from the outside: without Firestore the deleted DATA_DIR takes the login with it.
      const out = await runDod(["--only", "cold-start", "--json", "--gateway-env", "FIRESTORE_AUTH_STATE_MODE=off"]);
      const report = parseReport(out);
      expect(report.dods).toHaveLength(1);
      expect(report.dods[0]).toMatchObject({ id: "cold-start", pass: false });
      expect(report.dods[0]!.detail).toMatch(/QR/);
      expect(out.code).toBe(1);
    },
    120_000,
  );

  it("the table says FAIL with the blocker, for humans", async () => {
    // No Twilio credentials at all: the twilio service cannot even start.
    const out = await runDod(["--only", "twilio", "--gateway-env", "TWILIO_AUTH_TOKEN="]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/\| Twilio service +\| ❌ FAIL \|.*TWILIO_AUTH_TOKEN/);
    expect(out.stdout).toContain("0/1 PASS");
  }, 120_000);

  it("--target runs health against a running gateway over HTTP only", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const gw = await startGatewayProcess(join(root, "src/main.ts"), {
      DATA_DIR: dir.path,
      API_KEYS: "target-key",
      GATEWAY_PROVIDERS: "baileys",
      WA_WEBSOCKET_URL: "ws://127.0.0.1:9",
    });
    cleanups.push(async () => {
      gw.child.kill("SIGTERM");
      await gw.exited;
    });
    const out = await runDod(["--target", gw.url, "--api-key", "target-key", "--json"]);
    const report = parseReport(out);
    expect(report.dods.map((d) => [d.id, d.pass])).toEqual([["health", true]]);
    expect(out.stderr).not.toContain("target-key");
  }, 120_000);

  it.each([
    [["--only", "nope"], /unknown check nope/],
    [["--mttr-n", "0"], /--mttr-n must be a positive integer/],
    [["--target", "http://127.0.0.1:1", "--only", "queue", "--api-key", "k"], /cannot run against --target/],
    [["--bogus"], /Unknown option/],
  ])("bad options %j: a message and exit 2", async (args, message) => {
    const out = await runDod(args);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe("");
  });

  it("--help prints usage and exits 0", async () => {
    const out = await runDod(["--help"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("--gateway-env KEY=VALUE");
    expect(out.stdout).toContain("--target URL");
  });
});
