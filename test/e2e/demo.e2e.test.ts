import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("links by QR, shows the message delivered and read, receives a reply, and exits 0", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../scripts/demo.ts")], {
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(run.stderr).not.toMatch(/demo failed/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/linked and open as 40700000001/);
    expect(run.stdout).toMatch(/status history: queued .*-> sent .*-> delivered .*-> read/);
    expect(run.stdout).toMatch(/inbound from whatsapp:\+40700000042: "Thanks, when will it arrive\?"/);
  }, 120_000);
});
