import { linkSession, nextPhone } from "../local-parts.ts";
import { CheckFailed, type Check } from "../types.ts";

const QR_WITHIN_MS = 5_000;

/**
 * DoD-2: a new session shows a QR within 5 s (read through the API, as a UI
 * would), the simulated phone scans it, and the session opens.
 */
export const qr: Check = async (ctx) => {
  const parts = ctx.parts!;
  const sim = await parts.simulator();
  const gw = await parts.mainGateway();
  const phone = nextPhone();
  const timings = await linkSession(gw.client, sim, "dod-qr", phone, QR_WITHIN_MS);
  const session = await gw.client.session("dod-qr");
  if (!session?.me?.includes(phone))
    throw new CheckFailed(`session dod-qr opened as ${session?.me ?? "nobody"}, not the phone that scanned (${phone})`);
  const figures = { msToQr: Math.round(timings.msToQr), msToOpen: Math.round(timings.msToOpen) };
  return {
    pass: true,
    figures,
    detail: `QR within ${QR_WITHIN_MS / 1000} s, scanned by the simulated phone, open as ${session.me}`,
  };
};
