import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/app/logger.ts";
import type { ReconnectSettings } from "../../src/app/sessions/reconnect-policy.ts";
import { SessionSupervisor, type RecoveryRecord } from "../../src/app/sessions/session-supervisor.ts";
import { CorruptEntryError } from "../../src/domain/ports/session-store.port.ts";
import type { SessionInfo } from "../../src/domain/session.ts";
import { ScriptedWhatsAppConnector } from "../fakes/scripted-whatsapp-connector.ts";
import { eventually } from "../support/in-process-gateway.ts";

const settings: ReconnectSettings = {
  backoffBaseMs: 20,
  backoffMaxMs: 80,
  replacedCooldownMs: 30,
  replacedMaxReconnects: 2,
  replacedWindowMs: 60_000,
};

function setup(overrides: Partial<ReconnectSettings> = {}, pace?: () => Promise<unknown>) {
  const connector = new ScriptedWhatsAppConnector();
  const changes: SessionInfo[] = [];
  const recoveries: RecoveryRecord[] = [];
  let wipes = 0;
  const supervisor = new SessionSupervisor("s1", {
    provider: "baileys",
    connector,
    wipeLogin: async () => {
      wipes++;
    },
    logger: createLogger("silent"),
    settings: { ...settings, ...overrides },
    random: () => 0.5,
    onChange: (info) => changes.push(info),
    onTraffic: () => undefined,
    onRecovery: (r) => recoveries.push(r),
    ...(pace ? { pace } : {}),
  });
  const state = () => supervisor.info().state;
  return { connector, supervisor, changes, recoveries, state, wipes: () => wipes };
}

async function opened(s: ReturnType<typeof setup>) {
  s.supervisor.start();
  await eventually(() => s.connector.connections.length === 1 || undefined);
  s.connector.last.open();
  expect(s.state()).toBe("open");
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SessionSupervisor", () => {
  it("opens a socket only once its turn comes from the pacer, and not at all if stopped while waiting", async () => {
    const turns: Array<() => void> = [];
    const s = setup({}, () => new Promise<void>((resolve) => turns.push(resolve)));
    s.supervisor.start();
    await eventually(() => turns.length === 1 || undefined);
    expect(s.state()).toBe("connecting");
    await pause(30);
    expect(s.connector.connections).toHaveLength(0);
    turns[0]!();
    await eventually(() => s.connector.connections.length === 1 || undefined);
    s.connector.last.open();
    s.connector.last.close("connection_closed");
    // The reconnect waits for its turn too; a stop meanwhile cancels it.
    await eventually(() => turns.length === 2 || undefined);
    s.supervisor.stop();
    turns[1]!();
    await pause(30);
    expect(s.connector.connections).toHaveLength(1);
  });

  it("reconnects at once after a drop and records the time to recover", async () => {
    const s = setup();
    await opened(s);
    const first = s.connector.last;
    first.close("connection_closed", "Connection Closed");
    expect(first.ended).toBe(true);
    expect(s.state()).toBe("reconnecting");
    await eventually(() => s.connector.connections.length === 2 || undefined);
    s.connector.last.open();
    const info = s.supervisor.info();
    expect(info).toMatchObject({
      state: "open",
      reconnects: 1,
      reconnectAttempts: 1,
      lastDisconnect: { code: 428, reason: "Connection Closed", cause: "connection_closed" },
    });
    expect(info.lastRecoveryMs).not.toBeNull();
    expect(s.recoveries).toEqual([expect.objectContaining({ session: "s1", code: 428, attempts: 1, outcome: "open" })]);
  });

  it.each(["timed_out", "connection_lost", "bad_session", "unavailable", "connection_closed", "unknown"] as const)(
    "backs off after failed attempts for %s, and recovers",
    async (reason) => {
      const s = setup();
      await opened(s);
      s.connector.last.close(reason);
      await eventually(() => s.connector.connections.length === 2 || undefined);
      s.connector.last.close(reason); // the first retry fails: now a backoff delay
      expect(s.state()).toBe("reconnecting");
      expect(s.connector.connections).toHaveLength(2);
      await eventually(() => s.connector.connections.length === 3 || undefined, 2_000, "retry after backoff");
      s.connector.last.open();
      expect(s.supervisor.info()).toMatchObject({ state: "open", reconnects: 1 });
      expect(s.recoveries[0]).toMatchObject({ attempts: 2, outcome: "open" });
    },
  );

  it("treats a restart after pairing as a normal restart, not a recovery", async () => {
    const s = setup();
    s.supervisor.start();
    await eventually(() => s.connector.connections.length === 1 || undefined);
    s.connector.last.emit({ type: "qr", qr: "2@ref,key", expiresAt: new Date(Date.now() + 60_000) });
    expect(s.state()).toBe("qr");
    expect(s.supervisor.qr()?.qr).toBe("2@ref,key");
    s.connector.last.close("restart_required", "restart required");
    expect(s.state()).toBe("connecting");
    await eventually(() => s.connector.connections.length === 2 || undefined);
    s.connector.last.open();
    // The restart is a connection attempt after a close all the same.
    expect(s.supervisor.info()).toMatchObject({
      state: "open",
      reconnects: 0,
      reconnectAttempts: 1,
      lastRecoveryMs: null,
    });
    expect(s.supervisor.qr()).toBeUndefined();
  });

  it("delays a restart after pairing by what the shared pacing says, and only that restart", async () => {
    const connector = new ScriptedWhatsAppConnector();
    const asked: number[] = [];
    const supervisor = new SessionSupervisor("s1", {
      provider: "baileys",
      connector,
      wipeLogin: async () => undefined,
      logger: createLogger("silent"),
      settings,
      random: () => 0.5,
      onChange: () => undefined,
      onTraffic: () => undefined,
      restartDelayMs: () => {
        asked.push(Date.now());
        return 200;
      },
    });
    supervisor.start();
    await eventually(() => connector.connections.length === 1 || undefined);
    connector.last.close("restart_required", "restart required");
    await pause(50);
    expect(connector.connections).toHaveLength(1);
    await eventually(() => connector.connections.length === 2 || undefined, 2_000, "the paced restart");
    connector.last.open();
    connector.last.close("connection_closed", "Connection Closed");
    await eventually(() => connector.connections.length === 3 || undefined, 2_000, "the reconnect");
    expect(asked).toHaveLength(1);
    supervisor.stop();
  });

  it("stops when logged out, wipes the login, and never reconnects by itself", async () => {
    const s = setup();
    await opened(s);
    s.connector.last.close("logged_out", "logged out");
    expect(s.supervisor.info()).toMatchObject({
      state: "logged_out",
      me: null,
      lastDisconnect: { code: 401, cause: "logged_out" },
    });
    await eventually(() => s.wipes() === 1 || undefined);
    await pause(150);
    expect(s.connector.connections).toHaveLength(1);
    expect(s.recoveries[0]).toMatchObject({ outcome: "logged_out" });
  });

  it("waits a cool-down after being replaced and gives up after the limit per window (no ping-pong)", async () => {
    const s = setup();
    await opened(s);
    s.connector.last.close("replaced", "replaced");
    await pause(10);
    expect(s.connector.connections).toHaveLength(1); // cool-down: no immediate reconnect
    await eventually(() => s.connector.connections.length === 2 || undefined);
    s.connector.last.open();
    s.connector.last.close("replaced", "replaced");
    await eventually(() => s.connector.connections.length === 3 || undefined);
    s.connector.last.open();
    s.connector.last.close("replaced", "replaced");
    expect(s.state()).toBe("needs_attention");
    expect(s.supervisor.info().lastDisconnect?.reason).toMatch(/another instance/);
    expect(s.supervisor.info().lastDisconnect).toMatchObject({ code: 440, cause: "replaced" });
    await pause(150);
    expect(s.connector.connections).toHaveLength(3);
  });

  it.each([
    ["forbidden", 403, /banned|restricted/],
    ["outdated_client", 405, /outdated WhatsApp Web version/],
    ["multidevice_mismatch", 411, /newer multi-device/],
  ] as const)("stops on %s with a clear reason", async (cause, code, reason) => {
    const s = setup();
    await opened(s);
    s.connector.last.close(cause);
    expect(s.state()).toBe("needs_attention");
    expect(s.supervisor.info().lastDisconnect?.reason).toMatch(reason);
    expect(s.supervisor.info().lastDisconnect?.reason).toMatch(String(code));
    expect(s.supervisor.info().lastDisconnect?.cause).toBe(cause);
    await pause(100);
    expect(s.connector.connections).toHaveLength(1);
  });

  it("idles when no QR was scanned in time, until started again", async () => {
    const s = setup();
    s.supervisor.start();
    await eventually(() => s.connector.connections.length === 1 || undefined);
    s.connector.last.close("qr_exhausted", "QR refs attempts ended");
    expect(s.state()).toBe("stopped");
    expect(s.supervisor.idle).toBe(true);
    await pause(100);
    expect(s.connector.connections).toHaveLength(1);
    s.supervisor.start();
    await eventually(() => s.connector.connections.length === 2 || undefined);
  });

  it("goes to needs_attention, without a new login, when the stored login is corrupt", async () => {
    const s = setup();
    s.connector.failNextConnect(new CorruptEntryError("s1", "creds", "/data/creds.json.corrupt-1", "truncated"));
    s.supervisor.start();
    await eventually(() => (s.state() === "needs_attention" ? true : undefined));
    expect(s.supervisor.info().lastDisconnect).toMatchObject({ code: 0, cause: "connect_failed" });
    expect(s.supervisor.info().lastDisconnect?.reason).toMatch(/corrupt/);
    await pause(100);
    expect(s.connector.connections).toHaveLength(0);
  });

  it("counts every reconnect attempt, failed ones too, besides the recoveries", async () => {
    const s = setup({ backoffBaseMs: 1, backoffMaxMs: 2 });
    // An unreachable server: the first connection and six retries close before opening; the seventh opens.
    s.connector.onConnect = (c) => {
      if (s.connector.connections.length <= 7) c.close("timed_out", "WebSocket Error (connect ECONNREFUSED)");
      else c.open();
    };
    s.supervisor.start();
    await eventually(() => (s.state() === "open" ? true : undefined), 5_000, "open at last");
    // Never open before: no recovery, yet seven attempts after the first connection.
    expect(s.supervisor.info()).toMatchObject({ reconnects: 0, reconnectAttempts: 7 });

    s.connector.onConnect = (c) => {
      if (s.connector.connections.length <= 10) c.close("unavailable");
      else c.open();
    };
    s.connector.last.close("connection_lost");
    await eventually(() => (s.state() === "open" && s.recoveries.length === 1 ? true : undefined), 5_000, "recovered");
    expect(s.recoveries[0]).toMatchObject({ attempts: 3, outcome: "open" });
    expect(s.supervisor.info()).toMatchObject({ reconnects: 1, reconnectAttempts: 10 });
    expect(s.changes.at(-1)).toMatchObject({ reconnectAttempts: 10 });
  });

  it("retries with backoff when the store cannot answer at connect", async () => {
    const s = setup();
    s.connector.failNextConnect(new Error("STORE.UNAVAILABLE"));
    s.supervisor.start();
    await eventually(() => s.connector.connections.length === 1 || undefined, 2_000, "retry");
    s.connector.last.open();
    expect(s.state()).toBe("open");
  });

  it("keeps one live connection: the old one is ended first and its late events are ignored", async () => {
    const s = setup();
    await opened(s);
    const old = s.connector.last;
    old.close("connection_closed");
    await eventually(() => s.connector.connections.length === 2 || undefined);
    expect(old.ended).toBe(true);
    // A straggler from the old socket must not touch the session.
    (old as unknown as { ended: boolean }).ended = false;
    old.close("logged_out");
    expect(s.state()).toBe("reconnecting");
    expect(s.wipes()).toBe(0);
  });

  it("keeps the attempt log of a long recovery bounded, while counting every attempt", async () => {
    const s = setup({ backoffBaseMs: 1, backoffMaxMs: 2 });
    await opened(s);
    s.connector.onConnect = (c) => {
      if (s.connector.connections.length < 152) c.close("unavailable");
      else c.open();
    };
    s.connector.last.close("unavailable");
    await eventually(() => (s.state() === "open" && s.recoveries.length === 1 ? true : undefined), 10_000, "recovered");
    expect(s.recoveries[0]!.attempts).toBe(151);
    expect(s.recoveries[0]!.attemptLog).toHaveLength(100);
    expect(s.recoveries[0]!.attemptLog.at(-1)?.outcome).toBe("open");
  });

  it("stops without logging out, and logs out on delete", async () => {
    const s = setup();
    await opened(s);
    const live = s.connector.last;
    await s.supervisor.logoutAndStop();
    expect(live.loggedOut).toBe(true);
    expect(live.ended).toBe(true);
    expect(s.state()).toBe("stopped");

    const t = setup();
    await opened(t);
    t.supervisor.stop();
    expect(t.connector.last.loggedOut).toBe(false);
    expect(t.connector.last.ended).toBe(true);
  });
});
