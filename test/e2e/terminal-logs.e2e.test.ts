import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";

// The gateway started like `npm start` (stdout a pipe, as in a container),
// with LOG_FORMAT forcing each format, on the real Baileys against the
// WhatsApp Web simulator with no linked session: the default session waits
// for a QR, which pretty mode draws and JSON mode never does.

const main = join(import.meta.dirname, "../../src/main.ts");
const API_KEY = "SECRET-terminal-key-7d2f";
// Characters `qrcode` draws a small terminal QR with.
const QR_BLOCKS = /[▀▄█]{6,}/;

let sim: WhatsAppSimulator;
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(async () => {
  sim = await startWhatsAppSimulator();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await sim.close();
});

/** Starts the gateway in `format` and collects its stdout lines until it is killed. */
async function startGateway(format: "pretty" | "json") {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const child = spawn(process.execPath, ["--import", "tsx", main], {
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      LOG_FORMAT: format,
      API_KEYS: API_KEY,
      DATA_DIR: dir.path,
      GATEWAY_PROVIDERS: "baileys",
      WA_WEBSOCKET_URL: sim.wsUrl,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => stdout.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => stderr.push(line));
  const banner = await eventually(
    async () => stdout.find((line) => line.includes("gateway listening")),
    30_000,
    `gateway listening (stdout: ${stdout.join("\n")} stderr: ${stderr.join("\n")})`,
  );
  // The port is in the banner either way: `"port":N` in JSON, `port: N` in pretty lines.
  const port = /"?port"?:\s*(\d+)/.exec(stdout.join("\n"))?.[1];
  expect(port).toBeDefined();
  const url = `http://127.0.0.1:${port}`;
  const sessionState = async () => {
    const res = await fetch(`${url}/sessions/default`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return ((await res.json()) as { state: string }).state;
  };
  return { stdout, banner, url, sessionState };
}

describe("logs on a terminal and in a container", () => {
  it("pretty: human lines, a readable banner, the waiting session's QR is drawn", async () => {
    const gw = await startGateway("pretty");
    expect(gw.banner).toMatch(/INFO.*gateway listening/);
    expect(() => JSON.parse(gw.banner) as unknown).toThrow();
    expect(gw.stdout.join("\n")).toContain("gateway listening");
    // Printed right after the banner's log line: it may arrive a moment later.
    await eventually(
      async () => gw.stdout.join("\n").includes(`Console: open ${gw.url}/console in a browser`) || undefined,
      5_000,
      `the console line:\n${gw.stdout.join("\n")}`,
    );

    await eventually(async () => ((await gw.sessionState()) === "qr" ? true : undefined), 20_000, "session qr");
    const drawn = await eventually(
      async () => (QR_BLOCKS.test(gw.stdout.join("\n")) ? gw.stdout.join("\n") : undefined),
      10_000,
      `a QR drawn on stdout:\n${gw.stdout.join("\n")}`,
    );
    expect(drawn).toContain('Session "default" waits to be linked');
    expect(drawn).toContain("Linked devices");
    expect(drawn).toContain(`or from the console at ${gw.url}/console`);
    expect(drawn).not.toContain(API_KEY);
  });

  it("json: every stdout line is a JSON object, the banner as before, no QR is drawn", async () => {
    const gw = await startGateway("json");
    const banner = JSON.parse(gw.banner) as { msg: string; port: number; url: string; console: string };
    expect(banner).toMatchObject({ msg: "gateway listening", url: gw.url, console: `${gw.url}/console` });

    await eventually(async () => ((await gw.sessionState()) === "qr" ? true : undefined), 20_000, "session qr");
    // The QR is up; a drawing would follow within milliseconds. Give it a
    // request round trip and a second session poll, then every line must still be JSON.
    await gw.sessionState();
    const text = gw.stdout.join("\n");
    expect(text).not.toMatch(QR_BLOCKS);
    expect(text).not.toContain("waits to be linked");
    for (const line of gw.stdout) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(text).not.toContain(API_KEY);
  });
});
