import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import { ControlError } from "./errors.ts";

export const FAULT_KINDS = ["close", "stream-error", "failure", "silence"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A fault to inject. Baileys reports them as `lastDisconnect` status codes:
 * close -> 428; stream-error 515/401/440/500/503 -> that code; failure
 * 401/403/405/... -> that code (500 without one); silence -> 408 after the
 * client's keep-alive interval + 5 s.
 */
export interface FaultRequest {
  /** Linked account to hit; all connections when absent. */
  phone?: string;
  kind: FaultKind;
  code?: number;
  /** For close: a TCP reset instead of a WebSocket close handshake. */
  reset?: boolean;
}

/** The stanza for a stream error with the given code. */
export function streamErrorNode(code: number): BinaryNode {
  switch (code) {
    case 440:
      return { tag: "stream:error", attrs: {}, content: [{ tag: "conflict", attrs: { type: "replaced" } }] };
    case 401:
      return {
        tag: "stream:error",
        attrs: { code: "401" },
        content: [{ tag: "conflict", attrs: { type: "device_removed" } }],
      };
    case 500:
      // No code and an unknown child: Baileys maps it to badSession (500).
      return { tag: "stream:error", attrs: {}, content: [{ tag: "internal-server-error", attrs: {} }] };
    default:
      return { tag: "stream:error", attrs: { code: String(code) } };
  }
}

/** The stanza for a login failure with the given reason (none for 500). */
export function failureNode(code: number | undefined): BinaryNode {
  return code === undefined || code === 500
    ? { tag: "failure", attrs: {} }
    : { tag: "failure", attrs: { reason: String(code) } };
}

/** Validates a fault request coming from outside. */
export function parseFault(body: unknown): FaultRequest {
  const input = (body ?? {}) as Record<string, unknown>;
  const kind = input.kind;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new ControlError(400, `kind must be one of ${FAULT_KINDS.join(", ")}`);
  }
  const code = input.code;
  if (code !== undefined && (typeof code !== "number" || !Number.isInteger(code) || code < 100 || code > 999)) {
    throw new ControlError(400, "code must be an integer status code");
  }
  if (kind === "stream-error" && code === undefined) throw new ControlError(400, "stream-error needs a code");
  const phone = input.phone;
  if (phone !== undefined && typeof phone !== "string") throw new ControlError(400, "phone must be a string");
  return {
    kind: kind as FaultKind,
    ...(code !== undefined ? { code } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(input.reset === true ? { reset: true } : {}),
  };
}

/** Applies a fault to one connection. A 401 also unlinks the device. */
export function applyFault(conn: SimConnection, fault: FaultRequest): void {
  if ((fault.kind === "stream-error" || fault.kind === "failure") && fault.code === 401 && conn.device) {
    conn.device.removed = true;
  }
  switch (fault.kind) {
    case "close":
      conn.close(fault.reset === true);
      break;
    case "stream-error":
      conn.sendAndEnd(streamErrorNode(fault.code ?? 500));
      break;
    case "failure":
      conn.sendAndEnd(failureNode(fault.code));
      break;
    case "silence":
      conn.silent = true;
      break;
  }
}
