import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../../src/app/http/console.routes.ts";
import { startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

const CONSOLE_DIR = new URL("../../src/console/", import.meta.url).pathname;

let gw: InProcessGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe("the console's files", () => {
  it("are served without a key, with a CSP that allows no inline script and no other origin", async () => {
    gw = await startInProcessGateway();
    const page = await gw.call("GET", "/console", { auth: false });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const script = await gw.call("GET", "/console/js/app.js", { auth: false });
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("sessionStorage");
    const root = await gw.call("GET", "/", { auth: false });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/console");
  });

  it("answers 404 problems for files that are not the console's, and the API behind it still needs the key", async () => {
    gw = await startInProcessGateway();
    // A way out of the folder is resolved before routing (to /package.json, which needs a key): nothing leaks.
    const escape = await gw.call("GET", "/console/%2e%2e/package.json", { auth: false });
    expect(escape.status).toBe(401);
    expect(await escape.text()).not.toContain("messaging-gateway");
    for (const path of ["/console/nope.js", "/console/tsconfig.json", "/console/js/nope/../../nope.css"]) {
      const res = await gw.call("GET", path, { auth: false });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await gw.call("GET", "/sessions", { auth: false })).status).toBe(401);
  });

  it("are not served, nor public, with CONSOLE_ENABLED=false", async () => {
    gw = await startInProcessGateway({ CONSOLE_ENABLED: "false" });
    expect((await gw.call("GET", "/console", { auth: false })).status).toBe(401);
    expect((await gw.call("GET", "/console")).status).toBe(404);
  });

  it("hold no inline script, handler or style, and give every field a label", () => {
    const html = readFileSync(join(CONSOLE_DIR, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/console\//);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    const fields = [...html.matchAll(/<(input|select|textarea)\b[^>]*\bid="([^"]+)"/g)].map((m) => m[2]!);
    expect(fields.length).toBeGreaterThan(5);
    for (const id of fields) expect(html, `label for #${id}`).toContain(`for="${id}"`);
  });

  it("weigh under 100 KB of JavaScript gzipped", () => {
    const js = filesUnder(CONSOLE_DIR).filter((f) => f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(3);
    const gzipped = js.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
    expect(gzipped).toBeLessThan(100 * 1024);
  });
});
