import { rm } from "node:fs/promises";
import { join } from "node:path";
import { until, type GatewayClient } from "../gateway-client.ts";
import { nextPhone } from "../local-parts.ts";
import { tempDir } from "../processes.ts";
import { CheckFailed, type Check } from "../types.ts";

const SESSION = "dod-cold";
/**
 * Pause between "open" and the kill: a login is not expected to survive a
 * crash in the very millisecond it opened; one second is far less than any
 * real operator needs to notice a link and redeploy.
 */
const SETTLE_MS = 1_000;

/**
 * DoD-3: with FIRESTORE_AUTH_STATE_MODE=full, a gateway whose disk is gone
 * (kill -9, DATA_DIR deleted: a new container) restores the login from
 * Firestore and opens without ever showing a QR.
 */
export const coldStart: Check = async (ctx) => {
  const parts = ctx.parts!;
  const sim = await parts.simulator();
  const emulator = await parts.emulator();
  const dataDir = join(await tempDir("dod-cold-"), "data");
  const env = {
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.ws,
    DEFAULT_SESSION: SESSION,
    FIRESTORE_AUTH_STATE_MODE: "full",
    FIRESTORE_PROJECT_ID: `demo-dod-${process.pid}`,
    FIRESTORE_EMULATOR_HOST: emulator.host,
    // Not on Google Cloud: no probe of the GCE metadata server.
    METADATA_SERVER_DETECTION: "none",
  };
  const phone = nextPhone();

  // First life: the default session shows a QR at start; the phone scans it.
  const first = await parts.gateway("gateway (cold-start, first life)", env, dataDir);
  const qr = await until(() => pendingQr(first.client), `a QR for ${SESSION} on the first start`, 20_000);
  await sim.call("POST", "/control/scan", { qr, phone });
  const linked = await until(
    async () => {
      const s = await first.client.session(SESSION);
      return s?.state === "open" ? s : undefined;
    },
    `${SESSION} to open after the scan`,
    30_000,
  );
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await first.part.kill9();
  await rm(dataDir, { recursive: true, force: true });
  ctx.log(`cold-start: linked as ${linked.me}, killed -9, DATA_DIR deleted; starting again`);

  // Second life, on an empty disk: watch every state until open, and fail on any QR.
  const second = await parts.gateway("gateway (cold-start, second life)", env, dataDir);
  const states: string[] = [];
  let sawQr = false;
  const opened = await until(
    async () => {
      const s = await second.client.session(SESSION);
      const state = s?.state ?? "missing";
      if (states.at(-1) !== state) states.push(state);
      if (state === "qr" || (await pendingQr(second.client)) !== undefined) sawQr = true;
      if (sawQr) return "qr";
      return state === "open" ? s : undefined;
    },
    `${SESSION} to open from the stored login`,
    60_000,
    25,
  ).catch((error: unknown) => {
    throw new CheckFailed(
      `${error instanceof Error ? error.message : String(error)}; states seen: ${states.join(" -> ") || "none"}`,
    );
  });
  const ms = Date.now() - second.startedAt;
  if (opened === "qr") {
    throw new CheckFailed(
      `the restarted gateway showed a QR for ${SESSION}: the login was lost with the disk (states seen: ${states.join(" -> ")}, then a QR pending)`,
      {
        msToQr: ms,
        states: states.join(">"),
      },
    );
  }
  const figures = { msToOpen: ms, listeningMs: second.listeningMs, states: states.join(">") };
  if (opened.me !== linked.me) throw new CheckFailed(`opened as ${opened.me}, not the linked ${linked.me}`, figures);
  return {
    pass: true,
    figures,
    detail: `kill -9 ${SETTLE_MS / 1000} s after linking, DATA_DIR deleted, restarted: open as the same device from Firestore (emulator), never a QR; ms from process spawn to open`,
  };
};

async function pendingQr(client: GatewayClient): Promise<string | undefined> {
  const res = await client.request("GET", `/sessions/${SESSION}/qr`);
  if (res.status !== 200) {
    await res.body?.cancel();
    return undefined;
  }
  return ((await res.json()) as { qr: string }).qr;
}
