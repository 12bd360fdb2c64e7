// Deno smoke test (run by .ci/run): boots the same gateway under Deno, with
// the real Baileys against the WhatsApp Web simulator, and exercises
// POST /messages and GET /messages/{id} over real HTTP until the simulator
// has the message. Exits non-zero with the reason on any failure.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startOtlpReceiver } from "../test/support/otlp-receiver.ts";
import { startSimProcess } from "../test/support/sim-process.ts";

const root = join(import.meta.dirname, "..");
const apiKey = "deno-smoke-key";
const phone = "40700000001";
const contact = "+40700000099";

const sim = await startSimProcess();
// Tracing under Deno too: the gateway exports its spans to this receiver.
const receiver = await startOtlpReceiver();
const dataDir = await mkdtemp(join(tmpdir(), "deno-smoke-"));
let deno: ReturnType<typeof spawn> | undefined;
const output: string[] = [];
try {
  // A pre-linked account, dropped in as a Baileys auth folder.
  const account = await sim.call<{ creds: unknown }>("POST", "/control/accounts", { phone });
  const sessionDir = join(dataDir, "sessions", "default");
  await mkdir(sessionDir, { recursive: true, mode: 0o700 });
  await writeFile(join(sessionDir, "creds.json"), JSON.stringify(account.creds), { mode: 0o600 });

  deno = spawn(join(root, "node_modules/.bin/deno"), ["run", "-A", "src/main.deno.ts"], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      API_KEYS: apiKey,
      PORT: "0",
      HOST: "127.0.0.1",
      WA_WEBSOCKET_URL: sim.ws,
      GATEWAY_PROVIDERS: "baileys",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gateway-on-deno",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: deno.stderr! }).on("line", (line) => output.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the gateway did not start under Deno within 60 s")), 60_000);
    deno!.once("exit", (code) => reject(new Error(`deno exited with ${code}`)));
    createInterface({ input: deno!.stdout! }).on("line", (line) => {
      output.push(line);
      if (line.includes('"gateway listening"')) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      }
    });
  });
  const auth = { authorization: `Bearer ${apiKey}` };
  await until(async () => {
    const res = await fetch(`${url}/sessions/default`, { headers: auth });
    return res.ok && ((await res.json()) as { state: string }).state === "open";
  }, "session default to open");

  const post = await fetch(`${url}/messages`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ to: contact, text: "hello from Deno" }),
  });
  if (post.status !== 202) throw new Error(`POST /messages answered ${post.status}: ${await post.text()}`);
  const { id } = (await post.json()) as { id: string };
  const location = post.headers.get("location");
  if (location !== `/messages/${id}`) throw new Error(`unexpected Location ${location}`);
  const final = await until(async () => {
    const res = await fetch(`${url}${location}`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET ${location} answered ${res.status}`);
    const message = (await res.json()) as { status: string };
    return ["delivered", "read"].includes(message.status) ? message : undefined;
  }, "the message to be delivered");
  const received = await sim.call<{ text: string }[]>("GET", `/control/messages?from=${phone}`);
  if (!received.some((m) => m.text === "hello from Deno")) throw new Error("the simulator did not receive the message");
  const span = await until(
    async () => receiver.spans.find((s) => s.name === "message.send" && s.attributes["message.id"] === id),
    "the message.send span over OTLP",
  );
  if (span.service !== "gateway-on-deno") throw new Error(`span from service ${span.service}`);
  console.log(
    `deno smoke: OK (message ${id} ${final.status}; simulator received ${received.length}; ${receiver.spans.length} spans exported)`,
  );
} catch (error) {
  console.error(`deno smoke: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  console.error(output.slice(-30).join("\n"));
  process.exitCode = 1;
} finally {
  // The gateway's shutdown finishes its session-store checkpoint (files are
  // still being written): wait for the process before removing its data dir.
  await stopProcess(deno);
  await sim.stop();
  await receiver.close();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

/** SIGTERM, then SIGKILL if the process has not exited 15 s later; resolves once it exited. */
async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
