import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

// The k6 scripts run through the shim of the k6 modules (loadtests/shim)
// against a live gateway process with a linked session on the simulator: a
// script aimed at a wrong route, payload, check or metric fails here. This
// checks the scripts; it measures nothing.

const root = join(import.meta.dirname, "../..");
const PHONE = "40711110001";
const TO = "+40722220001,+40722220002";
const API_KEY = "k6-shim-key";

let sim: WhatsAppSimulator;
let gw: GatewayProcess;
let dir: Awaited<ReturnType<typeof tempDir>>;

interface ShimResult {
  code: number | null;
  report:
    | {
        ok: boolean;
        problems: string[];
        thresholds: { metric: string; ok: boolean }[];
        iterations: number;
        requests: number;
      }
    | undefined;
  output: string;
}

function runScript(script: string, env: Record<string, string>): Promise<ShimResult> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "./loadtests/shim/register.mjs", "loadtests/shim/run.mjs", script],
      {
        cwd: root,
        env: { ...process.env, BASE_URL: gw.url, API_KEY, TO, SESSION: "default", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith('{"ok"'));
      resolve({ code, report: line ? (JSON.parse(line) as ShimResult["report"]) : undefined, output: out });
    });
  });
}

async function sessionState(): Promise<string> {
  const res = await fetch(`${gw.url}/sessions/default`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return ((await res.json()) as { state: string }).state;
}

beforeAll(async () => {
  sim = await startWhatsAppSimulator({ receipts: { delivery: true, read: false, delayMs: 0 } });
  dir = await tempDir("k6-shim-");
  await seedLinkedSession(sim, dir.path, "default", PHONE);
  gw = await startGatewayProcess(join(root, "src/main.ts"), {
    DATA_DIR: dir.path,
    API_KEYS: API_KEY,
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.wsUrl,
    RECONNECT_BACKOFF_BASE_MS: "100",
    RECONNECT_BACKOFF_MAX_MS: "500",
  });
  await eventually(async () => ((await sessionState()) === "open" ? true : undefined), 30_000, "session open");
}, 90_000);

afterAll(async () => {
  gw?.child.kill("SIGTERM");
  await gw?.exited;
  await sim?.close();
  await dir?.remove();
});

describe("k6 scripts through the shim, against a live gateway", () => {
  it("smoke.js: every check and threshold passes, and the messages reach WhatsApp", async () => {
    const result = await runScript("loadtests/smoke.js", { ITERATIONS: "2" });
    expect(result.report, result.output).toBeDefined();
    expect(result.report!.problems).toEqual([]);
    expect(result.report!.iterations).toBe(2);
    expect(result.code).toBe(0);
    await eventually(
      () => (sim.messages(PHONE).filter((m) => m.text?.startsWith("k6 smoke")).length === 2 ? true : undefined),
      15_000,
      "smoke messages",
    );
  }, 60_000);

  it("queue.js: refuses to run while the session is open (the run would prove nothing)", async () => {
    const result = await runScript("loadtests/queue.js", { MESSAGES: "5" });
    expect(result.code).toBe(1);
    expect(result.report!.problems.join("\n")).toMatch(/session default is open: take it down first/);
  }, 60_000);

  it("queue.js: messages posted while the session is down are all delivered once after it recovers", async () => {
    sim.outage(5);
    await eventually(async () => ((await sessionState()) !== "open" ? true : undefined), 10_000, "outage noticed");
    const before = sim.messages(PHONE).length;
    const result = await runScript("loadtests/queue.js", {
      MESSAGES: "24",
      VUS: "4",
      POLL_S: "0.5",
      DRAIN_TIMEOUT_S: "60",
    });
    expect(result.report, result.output).toBeDefined();
    expect(result.report!.problems).toEqual([]);
    expect(result.code).toBe(0);
    const received = sim
      .messages(PHONE)
      .slice(before)
      .filter((m) => m.text?.startsWith("k6 queue"));
    expect(received).toHaveLength(24);
    expect(new Set(received.map((m) => m.text)).size).toBe(24);
  }, 120_000);

  it("soak.js: the steady scenario and the drain check pass for a few iterations", async () => {
    const result = await runScript("loadtests/soak.js", {
      K6_SHIM_ITERATIONS: "5",
      POLL_S: "0.5",
      DRAIN_TIMEOUT_S: "60",
    });
    expect(result.report, result.output).toBeDefined();
    expect(result.report!.problems).toEqual([]);
    expect(result.report!.iterations).toBe(5);
    expect(result.code).toBe(0);
  }, 120_000);

  describe("the shim catches a broken script", () => {
    const broken = async (name: string, source: string) => {
      const file = join(dir.path, name);
      await writeFile(file, source);
      return runScript(file, {});
    };

    it("a wrong route: its check fails", async () => {
      const result = await broken(
        "wrong-route.js",
        `import http from "k6/http"; import { check } from "k6";
         export default function () {
           const r = http.post(__ENV.BASE_URL + "/message", JSON.stringify({ to: "+40722220001", text: "x" }), { headers: { Authorization: "Bearer " + __ENV.API_KEY, "Content-Type": "application/json" } });
           check(r, { "202": (res) => res.status === 202 });
         }`,
      );
      expect(result.code).toBe(1);
      expect(result.report!.problems.join("\n")).toMatch(/check failed: "202"/);
    }, 60_000);

    it("a wrong payload: its check fails", async () => {
      const result = await broken(
        "wrong-payload.js",
        `import http from "k6/http"; import { check } from "k6";
         export default function () {
           const r = http.post(__ENV.BASE_URL + "/messages", JSON.stringify({ recipient: "+40722220001", body: "x" }), { headers: { Authorization: "Bearer " + __ENV.API_KEY, "Content-Type": "application/json" } });
           check(r, { "202": (res) => res.status === 202 });
         }`,
      );
      expect(result.code).toBe(1);
      expect(result.report!.problems.join("\n")).toMatch(/check failed: "202"/);
    }, 60_000);

    it("a threshold on a metric that does not exist, an unreachable host, a k6 module the shim lacks", async () => {
      const threshold = await broken(
        "bad-threshold.js",
        `import http from "k6/http";
         export const options = { thresholds: { http_req_faild: ["rate<0.01"] } };
         export default function () { http.get(__ENV.BASE_URL + "/health"); }`,
      );
      expect(threshold.code).toBe(1);
      expect(threshold.report!.problems.join("\n")).toMatch(/http_req_faild.*no such metric/);

      const unreachable = await broken(
        "unreachable.js",
        `import http from "k6/http"; export default function () { http.get("http://127.0.0.1:9/health"); }`,
      );
      expect(unreachable.code).toBe(1);
      expect(unreachable.report!.problems.join("\n")).toMatch(/request error/);

      const module = await broken("module.js", `import ws from "k6/ws"; export default function () { ws.connect(); }`);
      expect(module.code).not.toBe(0);
      expect(module.output).toMatch(/the k6 shim has no module "k6\/ws"/);
    }, 60_000);
  });
});
