import QRCode from "qrcode";
import type { Logger } from "../logger.ts";
import type { Gateway } from "./gateway.ts";

/**
 * Draws a session's QR in the terminal each time it changes while the session
 * waits to be linked, so linking needs no other tool. Only wired when logs are
 * pretty: in JSON mode the lines go to a log shipper, where a drawing is noise.
 */
export function drawQrCodesInTerminal(
  gateway: Gateway,
  /** The gateway's URL, once it listens; a QR can be ready before that. */
  gatewayUrl: Promise<string>,
  print: (line: string) => void,
  logger: Logger,
  /** CONSOLE_ENABLED: the hint names the console, where the same QR can be scanned from a page. */
  consoleEnabled = false,
): void {
  const sessions = gateway.sessions;
  if (!sessions) return;
  const lastDrawn = new Map<string, string>();
  gateway.events.subscribe((event) => {
    if (event.type !== "session.state" || event.session.state !== "qr") return;
    const id = event.session.id;
    const pending = sessions.qr(id);
    if (!pending || pending.qr === lastDrawn.get(id)) return;
    lastDrawn.set(id, pending.qr);
    Promise.all([QRCode.toString(pending.qr, { type: "terminal", small: true }), gatewayUrl]).then(
      ([drawing, where]) =>
        print(
          `\nSession "${id}" waits to be linked: scan with WhatsApp > Settings > Linked devices` +
            (consoleEnabled ? `, or from the console at ${where}/console` : ` (or GET ${where}/sessions/${id}/qr)`) +
            `; expires ${pending.expiresAt}\n${drawing}`,
        ),
      (error: unknown) => logger.warn({ err: error, session: id }, "could not draw the QR"),
    );
  });
}
