import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../src/adapters/messaging/baileys/wa-message-id.ts";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

// kill -9 the gateway again and again while messages are being accepted and
// dispatched; afterwards every message that got a 202 has reached WhatsApp
// (the simulator's record of ids), each id once.

const PHONE = "40711111111";
const KILLS = 5;
const TARGET = 1_000;
const entry = join(import.meta.dirname, "../../src/main.ts");
const auth = { authorization: "Bearer crash-key" };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export interface CrashFigures {
  kills: number;
  posted: number;
  accepted: number;
  deliveredUnique: number;
  lost: number;
  retransmissions: number;
}

async function start(sim: WhatsAppSimulator, dataDir: string): Promise<GatewayProcess> {
  const gw = await startGatewayProcess(entry, {
    DATA_DIR: dataDir,
    API_KEYS: "crash-key",
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.wsUrl,
    LOG_LEVEL: "info",
    DISPATCH_BACKOFF_BASE_MS: "50",
    DISPATCH_BACKOFF_MAX_MS: "200",
  });
  cleanups.push(() => {
    if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
  });
  await eventually(
    async () => {
      const s = (await (await fetch(`${gw.url}/sessions/default`, { headers: auth })).json()) as { state: string };
      return s.state === "open" ? true : undefined;
    },
    30_000,
    "session open",
  );
  return gw;
}

/** Posts messages with `concurrency` clients until `stop()`; returns the ids that got a 202. */
function postContinuously(url: string, counter: { n: number }, accepted: string[], concurrency = 8) {
  let running = true;
  const recipients = ["+40733333301", "+40733333302", "+40733333303", "+40733333304", "+40733333305"];
  const worker = async () => {
    while (running) {
      const n = counter.n++;
      try {
        const res = await fetch(`${url}/messages`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ to: recipients[n % recipients.length], text: `crash test ${n}` }),
        });
        if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
      } catch {
        // The process was killed under this request: no 202, nothing promised.
        return;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    stop: async () => {
      running = false;
      await Promise.allSettled(workers);
    },
  };
}

describe("crash safety", () => {
  it(`loses and doubles nothing across ${KILLS} kill -9 while ${TARGET}+ messages are accepted and dispatched`, async () => {
    const sim = await startWhatsAppSimulator({ receipts: { delivery: true, read: false, delayMs: 0 } });
    cleanups.push(() => sim.close());
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await seedLinkedSession(sim, dir.path, "default", PHONE);

    const accepted: string[] = [];
    const counter = { n: 0 };
    let kills = 0;
    for (; kills < KILLS; kills++) {
      const gw = await start(sim, dir.path);
      const load = postContinuously(gw.url, counter, accepted);
      const goal = accepted.length + Math.ceil(TARGET / KILLS);
      await eventually(() => (accepted.length >= goal ? true : undefined), 60_000, "posts accepted");
      // Let the dispatcher get going, then kill in the middle of it.
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 300)));
      gw.child.kill("SIGKILL");
      await gw.exited;
      await load.stop();
    }
    // A last run drains what the crashes left queued or in flight; then a graceful stop.
    const last = await start(sim, dir.path);
    await waitDelivered(sim, accepted);
    last.child.kill("SIGTERM");
    expect((await last.exited).code).toBe(0);

    const figures = measure(sim, accepted, counter.n, kills);
    console.log(`crash safety: ${JSON.stringify(figures)}`);
    expect(figures.kills).toBe(KILLS);
    expect(figures.accepted).toBeGreaterThanOrEqual(TARGET);
    expect(figures.lost).toBe(0);
    expect(new Set(accepted).size).toBe(accepted.length);
  }, 300_000);
});

async function waitDelivered(sim: WhatsAppSimulator, accepted: string[]): Promise<void> {
  const expected = new Set(accepted.map(deriveWaMessageId));
  await eventually(
    () => {
      const seen = new Set(sim.messages(PHONE).map((m) => m.id));
      for (const id of expected) if (!seen.has(id)) return undefined;
      return true;
    },
    120_000,
    "every accepted message at WhatsApp",
  );
}

function measure(sim: WhatsAppSimulator, accepted: string[], posted: number, kills: number): CrashFigures {
  const received = sim.messages(PHONE).map((m) => m.id);
  const unique = new Set(received);
  const lost = accepted.filter((id) => !unique.has(deriveWaMessageId(id))).length;
  return {
    kills,
    posted,
    accepted: accepted.length,
    deliveredUnique: unique.size,
    lost,
    retransmissions: received.length - unique.size,
  };
}
