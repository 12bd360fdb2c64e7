import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startWhatsAppGateway } from "../support/linked-gateway.ts";
import type { WebhookReceiver } from "../support/webhook-receiver.ts";
import { chromiumAvailable, launchChromium } from "../support/browser.ts";
import { eventually, TEST_API_KEY } from "../support/in-process-gateway.ts";
import { serveOverHttp } from "../support/served-gateway.ts";

// The web console in Debian's Chromium, driven by playwright-core, against
// the gateway (real Baileys) and the WhatsApp simulator: what a new user does
// after `npm start`, without curl.

const PHONE = "40711119191";
const CONTACT = "40722229191";

const cleanups: Array<() => Promise<void> | void> = [];
let browser: Browser;

beforeAll(async () => {
  if (chromiumAvailable()) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  sim: WhatsAppSimulator;
  hooks: WebhookReceiver;
  url: string;
}

async function startConsole(env: Record<string, string> = {}): Promise<Setup> {
  const { sim, hooks, gw } = await startWhatsAppGateway(cleanups, { env, simulator: { receipts: { delayMs: 300 } } });
  const served = await serveOverHttp(gw);
  cleanups.push(() => served.close());
  return { sim, hooks, url: served.url };
}

/** A page that records every request URL and every console error (a CSP violation shows as one). */
async function openPage(options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {}) {
  const context = await browser.newContext(options);
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, requests, errors };
}

async function signIn(page: Page, url: string, key = TEST_API_KEY) {
  await page.goto(`${url}/console`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe.skipIf(!chromiumAvailable())("the web console in a real browser", () => {
  it("signs in, links a session by QR, sends a message that reaches read, shows a reply and replays a failed webhook", async () => {
    // Every webhook fails at first (one attempt each), so deliveries park as failed.
    const setup = await startConsole({ WEBHOOK_MAX_ATTEMPTS: "1" });
    setup.hooks.answer(...Array.from({ length: 50 }, () => 500));
    const { page, requests, errors } = await openPage({ viewport: { width: 1200, height: 900 } });

    const response = await page.goto(`${setup.url}/console`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    await page.getByLabel("API key").fill("not-the-key-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That key was refused");
    expect(await page.locator("#workspace").isHidden()).toBe(true);

    await signIn(page, setup.url);
    await page.getByRole("heading", { name: "WhatsApp sessions" }).waitFor();
    await expect.poll(() => page.locator("#live").textContent()).toContain("Live");

    await page.getByLabel("New session name").fill("shop");
    await page.getByRole("button", { name: "Create and link" }).click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("Session shop");
    const qr = await eventually(
      () =>
        page
          .locator("#qr")
          .getAttribute("data-qr")
          .then((v) => v ?? undefined),
      20_000,
      "QR shown",
    );
    expect(await page.getByRole("img", { name: /QR code to link session shop/ }).isVisible()).toBe(true);
    // A mark in the page's memory: still there afterwards means the page was never reloaded.
    await page.evaluate("window.notReloaded = true");
    await setup.sim.scanQr(qr, PHONE);
    // No reload: the session.state events turn it open.
    await expect.poll(() => page.locator("#detail-state").textContent(), { timeout: 20_000 }).toBe("Connected");
    await expect.poll(() => page.locator('[data-session="shop"] .number').textContent()).toBe(`+${PHONE}`);
    expect(await page.locator("#qr").isHidden()).toBe(true);
    expect(await page.evaluate("window.notReloaded")).toBe(true);

    await page.getByLabel("From session").selectOption("shop");
    await page.getByLabel("To", { exact: true }).fill(`+${CONTACT}`);
    await page.getByLabel("Text").fill("Hello from the console");
    await page.getByRole("button", { name: "Send" }).click();
    const accepted = await eventually(
      async () => /Accepted as (\S+);/.exec((await page.locator("#send-status").textContent()) ?? "")?.[1],
      10_000,
      "accepted",
    );
    const row = page.locator(`tr[data-message-id="${accepted}"]`);
    await expect.poll(() => row.locator(".status").textContent(), { timeout: 20_000 }).toBe("read");
    expect(setup.sim.messages(PHONE).some((m) => m.text === "Hello from the console")).toBe(true);

    await setup.sim.inbound({ from: CONTACT, to: PHONE, text: "Got it, thanks!" });
    const inbound = page.locator('tr[data-direction="inbound"]', { hasText: "Got it, thanks!" });
    await inbound.waitFor({ timeout: 20_000 });
    expect(await inbound.locator(".address").textContent()).toContain(CONTACT);

    // docs/console.png is taken here: CONSOLE_SCREENSHOT=docs/console.png npx vitest run test/e2e/console.e2e.test.ts
    if (process.env["CONSOLE_SCREENSHOT"])
      await page.screenshot({ path: process.env["CONSOLE_SCREENSHOT"], fullPage: true });

    // Failed deliveries, each with a replay button; the receiver now accepts.
    await page.getByLabel("Failed only").check();
    const failed = page.locator('#delivery-list li[data-status="failed"]').first();
    await failed.waitFor({ timeout: 20_000 });
    const deliveryId = await failed.getAttribute("data-delivery-id");
    const before = setup.hooks.received.length;
    setup.hooks.clearAnswers();
    // That delivery by its id: the list is read again every 5 s, and newer failures come first.
    await page
      .locator(`#delivery-list li[data-delivery-id="${deliveryId}"]`)
      .getByRole("button", { name: /Replay/ })
      .click();
    await expect
      .poll(() => page.locator("#deliveries-action").textContent())
      .toContain(`Delivery ${deliveryId} queued again`);
    const { eventId } = (await (
      await fetch(`${setup.url}/webhooks/deliveries/${deliveryId}`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      })
    ).json()) as { eventId: string };
    await eventually(
      () => setup.hooks.received.slice(before).some((r) => r.answer === 200 && r.headers["webhook-id"] === eventId),
      10_000,
      "the replayed delivery received and accepted",
    );
    await expect
      .poll(() => page.locator(`#delivery-list li[data-delivery-id="${deliveryId}"]`).count(), { timeout: 10_000 })
      .toBe(0);

    // The key never left the tab: not in a URL, not in localStorage; no script was refused by the CSP.
    expect(requests.filter((u) => u.includes(TEST_API_KEY))).toEqual([]);
    expect(await page.evaluate("window.localStorage.length")).toBe(0);
    expect(await page.evaluate('window.sessionStorage.getItem("gateway.apiKey")')).toBe(TEST_API_KEY);
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
  });

  it("works on a phone screen and with the keyboard alone", async () => {
    const setup = await startConsole();
    const { page } = await openPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    await page.goto(`${setup.url}/console`);
    // The key field has the focus: type, Enter.
    await page.keyboard.type(TEST_API_KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "WhatsApp sessions" }).waitFor();
    await page.getByLabel("New session name").focus();
    await page.keyboard.type("pocket");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("Session pocket");
    // Nothing wider than the screen: no sideways scrolling of the page.
    const widths = (await page.evaluate(
      "({ page: document.documentElement.scrollWidth, screen: window.innerWidth })",
    )) as { page: number; screen: number };
    expect(widths.page).toBeLessThanOrEqual(widths.screen);
    // Sign out forgets the key.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate('window.sessionStorage.getItem("gateway.apiKey")')).toBeNull();
  });

  it("is not served with CONSOLE_ENABLED=false", async () => {
    const setup = await startConsole({ CONSOLE_ENABLED: "false" });
    const res = await fetch(`${setup.url}/console`);
    expect(res.status).toBe(401);
  });
});
