import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { stat } from "node:fs/promises";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { tempDir } from "../support/temp-dir.ts";

const entry = join(import.meta.dirname, "../support/memory-gateway.main.ts");
const running: GatewayProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  for (const c of cleanups.splice(0)) await c();
});

describe("a gateway process", () => {
  it("keeps every accepted message across kill -9", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const env = { DATA_DIR: dir.path, API_KEYS: "durability-key" };
    const auth = { authorization: "Bearer durability-key" };
    const first = await startGatewayProcess(entry, env);
    running.push(first);
    const accepted: string[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await fetch(`${first.url}/messages`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ to: `+4071234${String(i).padStart(4, "0")}`, text: `kill test ${i}` }),
        });
        expect(res.status).toBe(202);
        accepted.push(((await res.json()) as { id: string }).id);
      }),
    );
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    const second = await startGatewayProcess(entry, env);
    running.push(second);
    for (const id of accepted) {
      const res = await fetch(`${second.url}/messages/${id}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe("queued");
    }
    expect((await stat(join(dir.path, "messages.db"))).mode & 0o777).toBe(0o600);
  });

  it("generates an API key on first start, prints it once, and stores only its hash (0600)", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const first = await startGatewayProcess(entry, { DATA_DIR: dir.path, API_KEYS: "" });
    running.push(first);
    const printed = first.output.join("\n").match(/\b(gw_[A-Za-z0-9_-]{20,})\b/)?.[1];
    expect(printed).toBeDefined();
    expect((await fetch(`${first.url}/messages`, { headers: { authorization: `Bearer ${printed}` } })).status).toBe(
      200,
    );
    const file = join(dir.path, "api-keys.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(file, "utf8")).not.toContain(printed!);
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    const second = await startGatewayProcess(entry, { DATA_DIR: dir.path, API_KEYS: "" });
    running.push(second);
    expect(second.output.join("\n")).not.toMatch(/gw_[A-Za-z0-9_-]{20,}/);
    expect((await fetch(`${second.url}/messages`, { headers: { authorization: `Bearer ${printed}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${second.url}/messages`, { headers: { authorization: "Bearer gw_wrong" } })).status).toBe(401);
  });

  it("refuses to start on bad configuration, naming every bad variable", async () => {
    await expect(startGatewayProcess(entry, { PORT: "eighty", LOG_LEVEL: "shout" }, 10_000)).rejects.toThrow(
      /PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/,
    );
  });
});
