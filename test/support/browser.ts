import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (package `chromium`); playwright-core drives it and downloads nothing. */
export const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const INSTALL_HINT = "install Debian's package: apt-get install chromium (or set CHROMIUM_PATH)";

let warned = false;

/**
 * Whether browser tests can run in this file. Missing Chromium: with `CI=true`
 * this throws (the run fails); elsewhere it prints one loud line and returns
 * false so the caller can skip.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH}: ${INSTALL_HINT}.`;
  if (process.env["CI"] === "true") throw new Error(`${message} CI=true, so this is a failure, not a skip.`);
  if (!warned) {
    warned = true;
    console.warn(`\n!!! SKIPPING BROWSER TESTS: ${message}\n`);
  }
  return false;
}

/**
 * Headless Chromium that talks to this machine only: the flags keep it from
 * reaching for Google's services (updates, sync, field trials), which this
 * network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-features=Translate,OptimizationHints,MediaRouter",
    ],
  });
}
