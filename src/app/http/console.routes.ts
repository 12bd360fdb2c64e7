import { readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono, type Context } from "hono";

/** Where the console is served. */
export const CONSOLE_PATH = "/console";

/** The console's files: plain HTML, CSS and JavaScript modules, committed; nothing is built or fetched at run time. */
const ASSETS_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * No inline script or style, nothing from elsewhere: the page may talk to this
 * gateway only, draw QR codes from blob: URLs, and be framed by nobody.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  // Small files that change with each release: revalidated, never stale.
  "cache-control": "no-cache",
};

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

/** Every file of the console by its URL path under /console, read once. */
export function loadConsoleAssets(dir = ASSETS_DIR): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (contentTypes[extname(entry.name)])
        assets.set(`/${relative(dir, path).split(sep).join("/")}`, {
          body: new Uint8Array(readFileSync(path)),
          type: contentTypes[extname(entry.name)]!,
        });
    }
  };
  walk(dir);
  return assets;
}

/** Whether a request is for the console's files (public: the files hold no secret; every API call they make needs the key). */
export function isConsoleRequest(method: string, path: string): boolean {
  return (
    (method === "GET" || method === "HEAD") &&
    (path === "/" || path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`))
  );
}

/** `GET /console`: the web console; `GET /` leads there. Only a lookup in a fixed map: no path reaches the disk. */
export function consoleRoutes(assets: ReadonlyMap<string, Asset> = loadConsoleAssets()): Hono {
  const routes = new Hono();
  const index = assets.get("/index.html");
  routes.get("/", (c) => c.redirect(CONSOLE_PATH, 302));
  const serve = (c: Context, asset: Asset | undefined) =>
    asset ? c.body(asset.body, 200, { ...securityHeaders, "content-type": asset.type }) : c.notFound();
  routes.get(CONSOLE_PATH, (c) => serve(c, index));
  routes.get(`${CONSOLE_PATH}/:file{.*}`, (c) => {
    const file = c.req.path.slice(CONSOLE_PATH.length);
    return serve(c, file === "/" ? index : assets.get(file));
  });
  return routes;
}
