// `npm run demo`: the whole product on one machine with no phone and no
// network. Starts the WhatsApp Web simulator and the gateway as separate
// processes, links the default session by having the simulated phone scan the
// gateway's QR, sends a message, follows its status to "read", receives a
// reply, sends a picture and receives the customer's photo back. Exits 0 when
// all of that happened.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startSimProcess } from "../test/support/sim-process.ts";
import { mediaFixture, sha256Hex } from "../test/support/media-fixtures.ts";

const root = join(import.meta.dirname, "..");
const PHONE = "40700000001";
const CUSTOMER = "+40700000042";
const API_KEY = "demo-key";
const say = (line: string) => console.log(line);

const sim = await startSimProcess();
const dataDir = await mkdtemp(join(tmpdir(), "gateway-demo-"));
const gateway = spawn(process.execPath, ["--import", "tsx", join(root, "src/main.ts")], {
  env: {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    API_KEYS: API_KEY,
    WA_WEBSOCKET_URL: sim.ws,
    GATEWAY_PROVIDERS: "baileys",
    LOG_LEVEL: "info",
    // The simulator serves WhatsApp media over HTTPS with its own certificate authority.
    ...(sim.caFile ? { WA_MEDIA_CA_FILE: sim.caFile } : {}),
  },
  stdio: ["ignore", "pipe", "pipe"],
});
const logs: string[] = [];
let code = 0;
try {
  say(`simulator:  ${sim.ws} (control ${sim.control})`);
  const url = await listening();
  say(`gateway:    ${url} (data in ${dataDir})\n`);
  const auth = { authorization: `Bearer ${API_KEY}` };
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as T };
  };

  say("1. The default session waits for a QR code...");
  const qr = await until(async () => {
    const res = await get<{ qr: string; expiresAt: string }>("/sessions/default/qr");
    return res.status === 200 ? res.body : undefined;
  }, "a QR code");
  say(`   QR ready (expires ${qr.expiresAt}): ${qr.qr.slice(0, 48)}...`);
  say(`2. The simulated phone +${PHONE} scans it...`);
  await sim.call("POST", "/control/scan", { qr: qr.qr, phone: PHONE });
  const session = await until(async () => {
    const s = (await get<{ state: string; me: string }>("/sessions/default")).body;
    return s.state === "open" ? s : undefined;
  }, "the session to open");
  say(`   linked and open as ${session.me}\n`);

  // The customer's phone acknowledges delivery after 400 ms and is read 400 ms later.
  await sim.call("POST", "/control/receipts", { delivery: true, read: true, delayMs: 400 });
  say(`3. POST /messages to ${CUSTOMER}...`);
  const post = await fetch(`${url}/messages`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ to: CUSTOMER, text: "Your order #1042 has shipped." }),
  });
  const accepted = (await post.json()) as { id: string; status: string };
  say(`   ${post.status} ${accepted.status} ${post.headers.get("location")}`);
  const read = await until(async () => {
    const m = (await get<{ status: string; history: { status: string; at: string }[] }>(`/messages/${accepted.id}`))
      .body;
    return m.status === "read" ? m : undefined;
  }, "the message to be read");
  const t0 = Date.parse(read.history[0]!.at);
  say(`   status history: ${read.history.map((h) => `${h.status} (+${Date.parse(h.at) - t0} ms)`).join(" -> ")}`);

  say(`\n4. The customer replies...`);
  await sim.call("POST", "/control/inbound", {
    from: CUSTOMER.slice(1),
    to: PHONE,
    text: "Thanks, when will it arrive?",
  });
  const reply = await until(async () => {
    const page = (await get<{ items: { from: string; text: string }[] }>("/messages?direction=inbound")).body;
    return page.items[0];
  }, "the reply");
  say(`   inbound from ${reply.from}: "${reply.text}"\n`);

  say("5. POST /media a picture, then POST /messages with it...");
  const picture = mediaFixture.png(8 * 1024);
  const uploaded = await fetch(`${url}/media?filename=catalogue.png`, {
    method: "POST",
    headers: { ...auth, "content-type": "image/png" },
    body: picture,
  });
  const file = (await uploaded.json()) as { id: string; kind: string; mimeType: string; size: number };
  say(`   ${uploaded.status} ${file.kind} ${file.mimeType}, ${file.size} bytes, id ${file.id}`);
  const withPicture = await fetch(`${url}/messages`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ to: CUSTOMER, media: [{ id: file.id, caption: "This week's catalogue" }] }),
  });
  const pictureMessage = (await withPicture.json()) as { id: string };
  await until(async () => {
    const m = (await get<{ status: string }>(`/messages/${pictureMessage.id}`)).body;
    return m.status === "sent" || m.status === "delivered" || m.status === "read" ? m : undefined;
  }, "the picture to be sent");
  const seen = await until(async () => {
    const log = await sim.call<Array<{ media?: { kind: string; sha256: string; caption?: string } }>>(
      "GET",
      `/control/messages?from=${PHONE}`,
    );
    return log.find((entry) => entry.media?.sha256 === sha256Hex(picture));
  }, "the phone to decrypt the picture");
  say(
    `   the customer's phone decrypted the ${seen.media!.kind}, captioned "${seen.media!.caption ?? ""}", same bytes\n`,
  );

  say("6. The customer answers with a photo...");
  const photo = mediaFixture.jpeg(16 * 1024);
  await sim.call("POST", "/control/inbound", {
    from: CUSTOMER.slice(1),
    to: PHONE,
    media: {
      kind: "image",
      mimeType: "image/jpeg",
      base64: photo.toString("base64"),
      caption: "Is this one in stock?",
    },
  });
  const photoReply = await until(async () => {
    const page = (
      await get<{ items: { text: string; media: { url: string | null; mimeType: string; size: number }[] }[] }>(
        "/messages?direction=inbound",
      )
    ).body;
    const first = page.items[0];
    return first && first.media.length > 0 && first.media[0]!.url ? first : undefined;
  }, "the photo");
  const media = photoReply.media[0]!;
  const downloaded = Buffer.from(await (await fetch(`${url}${media.url!}`, { headers: auth })).arrayBuffer());
  say(`   inbound photo "${photoReply.text}": ${media.mimeType}, ${media.size} bytes at ${media.url}`);
  say(`   GET ${media.url} -> ${downloaded.length} bytes, ${downloaded.equals(photo) ? "identical" : "DIFFERENT"}\n`);
  if (!downloaded.equals(photo)) throw new Error("the downloaded photo differs from the one sent");
  say("Demo complete: linked by QR, sent, delivered and read, a reply received, a picture sent and a photo received.");
} catch (error) {
  code = 1;
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error(logs.slice(-20).join("\n"));
} finally {
  gateway.kill("SIGTERM");
  await new Promise((resolve) => (gateway.exitCode !== null ? resolve(undefined) : gateway.once("exit", resolve)));
  await sim.stop();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}
process.exit(code);

function listening(): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the gateway did not start within 30 s")), 30_000);
    gateway.once("exit", (exit) => reject(new Error(`the gateway exited with ${exit}`)));
    createInterface({ input: gateway.stderr! }).on("line", (line) => logs.push(line));
    createInterface({ input: gateway.stdout! }).on("line", (line) => {
      logs.push(line);
      if (line.includes('"gateway listening"')) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      }
    });
  });
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
