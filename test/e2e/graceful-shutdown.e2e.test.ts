import { join } from "node:path";
import Database from "libsql";
import { afterEach, describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../src/adapters/messaging/baileys/wa-message-id.ts";
import { startWhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

const PHONE = "40711111111";
const entry = join(import.meta.dirname, "../../src/main.ts");
const auth = { authorization: "Bearer stop-key" };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("graceful shutdown", () => {
  it("on SIGTERM under load: refuses new work with 503, finishes in-flight sends, keeps the login, exits 0, loses nothing", async () => {
    const sim = await startWhatsAppSimulator({ receipts: { delivery: true, read: false, delayMs: 0 } });
    cleanups.push(() => sim.close());
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await seedLinkedSession(sim, dir.path, "default", PHONE);
    const env = { DATA_DIR: dir.path, API_KEYS: "stop-key", GATEWAY_PROVIDERS: "baileys", WA_WEBSOCKET_URL: sim.wsUrl };
    const startOpen = async () => {
      const gw = await startGatewayProcess(entry, env);
      cleanups.push(() => {
        if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      });
      await eventually(
        async () => {
          const s = (await (await fetch(`${gw.url}/sessions/default`, { headers: auth })).json()) as { state: string };
          return s.state === "open" ? true : undefined;
        },
        30_000,
        "open",
      );
      return gw;
    };

    const gw = await startOpen();
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let running = true;
    let n = 0;
    const worker = async () => {
      while (running) {
        try {
          const res = await fetch(`${gw.url}/messages`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ to: `+4073333330${n % 4}`, text: `shutdown test ${n++}` }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await eventually(() => (accepted.length >= 150 ? true : undefined), 30_000, "load");
    gw.child.kill("SIGTERM");
    const exit = await gw.exited;
    running = false;
    await Promise.allSettled(workers);

    expect(exit.code).toBe(0);
    expect(gw.output.join("\n")).toMatch(/"msg":"stopped"/);
    expect([...statuses.keys()].every((s) => s === 202 || s === 503)).toBe(true);
    const db = new Database(join(dir.path, "messages.db"), { readonly: true });
    const inFlight = db.prepare("SELECT COUNT(*) AS n FROM messages WHERE status = 'sending'").get() as { n: number };
    db.close();
    expect(inFlight.n).toBe(0);

    // The login was not logged out: the next start opens at once, and delivers what was left queued.
    const again = await startOpen();
    const expected = new Set(accepted.map(deriveWaMessageId));
    await eventually(
      () => {
        const seen = new Set(sim.messages(PHONE).map((m) => m.id));
        for (const id of expected) if (!seen.has(id)) return undefined;
        return true;
      },
      120_000,
      "every accepted message delivered",
    );
    const received = sim.messages(PHONE).map((m) => m.id);
    expect(received.length).toBe(new Set(received).size);
    console.log(
      `graceful shutdown: ${JSON.stringify({ accepted: accepted.length, answers: Object.fromEntries(statuses), deliveredUnique: new Set(received).size, retransmissions: received.length - new Set(received).size })}`,
    );
    again.child.kill("SIGTERM");
    expect((await again.exited).code).toBe(0);
  }, 240_000);
});
