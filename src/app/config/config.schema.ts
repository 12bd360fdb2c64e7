import { Buffer } from "node:buffer";
import { hostname } from "node:os";
import { z } from "zod";
import { defaultMediaLimits, type MediaLimits } from "../../domain/media.ts";
import { BAILEYS_PROVIDER, ProviderIds, TWILIO_PROVIDER } from "../../domain/ports/messaging-provider.port.ts";
import { FirestoreAuthStateModes } from "../../domain/ports/session-store.port.ts";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");
const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" });
// A media limit: at most 2 GiB, beyond what any provider carries.
const mediaBytes = positiveInt.max(2 * 1024 ** 3);
const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

/** CLUSTER_MODE: one process on embedded storage, or several instances sharing Firestore (docs/cluster.md). */
export const ClusterModes = ["off", "firestore"] as const;

// An instance id names documents (instances/{id}) and shows as a session's owner.
const instanceId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    "must be 1-128 letters, digits, '.', '_', ':' or '-', from a letter or digit",
  );

/** The host name and process id, e.g. `gw-7f9c-12`: unique per process on one host, readable in logs. */
export function defaultInstanceId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 100);
  return `${host === "" ? "instance" : host}-${process.pid}`;
}

/**
 * The whole environment of the gateway, in one schema. Every variable is
 * documented in .env.example and in the README's configuration table.
 */
const configShape = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Unset: pretty when stdout is a terminal, JSON lines otherwise (containers). */
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
  API_KEYS: list.default([]),
  PUBLIC_ROUTES_METRICS: bool.default(true),
  BODY_LIMIT_BYTES: positiveInt.max(16 * 1024 * 1024).default(64 * 1024),
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  // Per API key; 0 disables (e.g. behind a gateway that already limits).
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(50),
  RATE_LIMIT_BURST: positiveInt.max(1_000_000).default(100),
  GATEWAY_PROVIDERS: list
    .pipe(z.array(z.enum(ProviderIds, { message: `each must be one of ${ProviderIds.join(", ")}` })))
    .default([BAILEYS_PROVIDER]),
  WHATSAPP_PROVIDER: z.enum(ProviderIds).default(BAILEYS_PROVIDER),
  DEFAULT_CHANNEL: z.enum(["whatsapp", "sms"]).default("whatsapp"),
  DEFAULT_SESSION: z.string().default("default"),
  MAX_SESSIONS: positiveInt.default(100),
  SQLITE_SYNCHRONOUS: z.enum(["full", "normal"]).default("full"),
  DISPATCH_CONCURRENCY: positiveInt.max(256).default(8),
  DISPATCH_MAX_ATTEMPTS: positiveInt.max(100).default(5),
  DISPATCH_BACKOFF_BASE_MS: positiveInt.default(1_000),
  DISPATCH_BACKOFF_MAX_MS: positiveInt.default(60_000),
  DISPATCH_LEASE_MS: positiveInt.min(1_000).default(120_000),
  DISPATCH_SEND_TIMEOUT_MS: positiveInt.default(60_000),
  SEND_MIN_INTERVAL_MS: nonNegativeInt.default(0),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

  // WhatsApp (Baileys)
  WA_WEBSOCKET_URL: z.url({ protocol: /^wss?$/, message: "must be a ws:// or wss:// URL" }).optional(),
  // Testing only: a CA certificate (PEM file) WhatsApp's media hosts are also trusted under (the simulator's caFile)
  WA_MEDIA_CA_FILE: z.string().min(1).optional(),
  WA_KEEPALIVE_INTERVAL_MS: positiveInt.min(500).default(30_000),
  WA_SEND_WINDOW: positiveInt.max(64).default(8),
  BAILEYS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
  RECONNECT_BACKOFF_BASE_MS: positiveInt.default(1_000),
  RECONNECT_BACKOFF_MAX_MS: positiveInt.default(60_000),
  // WhatsApp sockets opened a second across all sessions, after a burst of as many; 0: unpaced
  WA_CONNECTS_PER_SECOND: nonNegativeInt.max(10_000).default(50),
  REPLACED_COOLDOWN_MS: nonNegativeInt.default(60_000),
  REPLACED_MAX_RECONNECTS: nonNegativeInt.default(3),
  REPLACED_WINDOW_MS: positiveInt.default(3_600_000),

  // Session stores
  FIRESTORE_AUTH_STATE_MODE: z.enum(FirestoreAuthStateModes).default("off"),
  FIRESTORE_PROJECT_ID: z.string().min(1).optional(),
  FIRESTORE_EMULATOR_HOST: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, "must be host:port")
    .optional(),
  FIRESTORE_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a collection id")
    .optional(),

  // Cluster mode: session leases with fencing tokens in Firestore (docs/cluster.md)
  CLUSTER_MODE: z.enum(ClusterModes).default("off"),
  INSTANCE_ID: instanceId.default(defaultInstanceId),
  SESSION_LEASE_MS: positiveInt.min(1_000).max(600_000).default(15_000),

  // Twilio (required when GATEWAY_PROVIDERS includes twilio, see below)
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, "must be an Account SID: AC followed by 32 hex digits")
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +15551234567")
    .optional(),
  TWILIO_MESSAGING_SERVICE_SID: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, "must be a Messaging Service SID: MG followed by 32 hex digits")
    .optional(),
  TWILIO_API_BASE_URL: httpUrl.optional(),
  PUBLIC_BASE_URL: httpUrl
    .refine((v) => !/[?#]/.test(v), "must not carry a query or fragment")
    .transform((v) => v.replace(/\/+$/, ""))
    .optional(),

  // Outbound webhooks (Standard Webhooks); WEBHOOK_SECRET is required with WEBHOOK_URL, see below
  WEBHOOK_URL: httpUrl.optional(),
  WEBHOOK_SECRET: z
    .string()
    .regex(
      /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
      "must be whsec_ followed by base64 (Standard Webhooks form)",
    )
    .refine(
      (v) => Buffer.from(v.slice("whsec_".length), "base64").length >= 24,
      "must hold at least 24 random bytes after whsec_",
    )
    .optional(),
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(100).default(8),
  WEBHOOK_TIMEOUT_MS: positiveInt.max(300_000).default(10_000),
  WEBHOOK_BACKOFF_BASE_MS: positiveInt.default(1_000),
  WEBHOOK_BACKOFF_MAX_MS: positiveInt.default(300_000),
  WEBHOOK_CONCURRENCY: positiveInt.max(64).default(4),

  // Event stream (GET /events, DATA_DIR/events.db): how long events stay replayable, and the heartbeat
  EVENTS_RETENTION_HOURS: positiveInt.max(8_760).default(24),
  EVENTS_HEARTBEAT_MS: positiveInt.min(100).max(300_000).default(15_000),
  // The web console at /console (its files are public; every call it makes needs an API key)
  CONSOLE_ENABLED: bool.default(true),

  // Media (POST /media, DATA_DIR/media): retention, and the largest file per kind (defaults: WhatsApp's own)
  MEDIA_RETENTION_DAYS: positiveInt.max(36_500).default(30),
  // Testing only: lets media URLs point at loopback and private addresses (SSRF protection off)
  MEDIA_FETCH_ALLOW_PRIVATE: bool.default(false),
  // WhatsApp: mark every inbound message read (blue ticks) once it is recorded
  WA_AUTO_READ: bool.default(false),
  // Signs public media links (Twilio fetches MMS files by them); unset: a key generated in DATA_DIR/media-link.key
  MEDIA_LINK_SECRET: z.string().min(32, "must be at least 32 characters (e.g. openssl rand -base64 32)").optional(),
  MEDIA_MAX_BYTES_IMAGE: mediaBytes.default(defaultMediaLimits.image),
  MEDIA_MAX_BYTES_VIDEO: mediaBytes.default(defaultMediaLimits.video),
  MEDIA_MAX_BYTES_AUDIO: mediaBytes.default(defaultMediaLimits.audio),
  MEDIA_MAX_BYTES_VOICE: mediaBytes.default(defaultMediaLimits.voice),
  MEDIA_MAX_BYTES_DOCUMENT: mediaBytes.default(defaultMediaLimits.document),
  MEDIA_MAX_BYTES_STICKER: mediaBytes.default(defaultMediaLimits.sticker),
});

/** Every variable the gateway reads. */
export const configKeys: readonly string[] = Object.keys(configShape.shape);

export const configSchema = configShape.superRefine((config, ctx) => {
  if (config.FIRESTORE_AUTH_STATE_MODE !== "off" && !config.FIRESTORE_PROJECT_ID) {
    ctx.addIssue({
      code: "custom",
      path: ["FIRESTORE_PROJECT_ID"],
      message: `is required when FIRESTORE_AUTH_STATE_MODE=${config.FIRESTORE_AUTH_STATE_MODE}`,
    });
  }
  if (config.CLUSTER_MODE === "firestore" && !config.FIRESTORE_PROJECT_ID) {
    ctx.addIssue({
      code: "custom",
      path: ["FIRESTORE_PROJECT_ID"],
      message: "is required when CLUSTER_MODE=firestore",
    });
  }
  if (config.GATEWAY_PROVIDERS.includes(TWILIO_PROVIDER)) {
    const when = "is required when GATEWAY_PROVIDERS includes twilio";
    for (const key of ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"] as const) {
      if (!config[key]) ctx.addIssue({ code: "custom", path: [key], message: when });
    }
    if (!config.TWILIO_FROM && !config.TWILIO_MESSAGING_SERVICE_SID) {
      ctx.addIssue({ code: "custom", path: ["TWILIO_FROM"], message: `or TWILIO_MESSAGING_SERVICE_SID ${when}` });
    }
  }
  if (config.WEBHOOK_URL && !config.WEBHOOK_SECRET) {
    ctx.addIssue({
      code: "custom",
      path: ["WEBHOOK_SECRET"],
      message: "is required when WEBHOOK_URL is set (whsec_ followed by base64)",
    });
  }
  if (config.WHATSAPP_PROVIDER === TWILIO_PROVIDER && !config.GATEWAY_PROVIDERS.includes(TWILIO_PROVIDER)) {
    ctx.addIssue({
      code: "custom",
      path: ["WHATSAPP_PROVIDER"],
      message: "is twilio, so GATEWAY_PROVIDERS must include twilio",
    });
  }
});

export type Config = z.infer<typeof configSchema>;

/** The largest file per kind, from MEDIA_MAX_BYTES_<KIND>. */
export function mediaLimits(config: Config): MediaLimits {
  return {
    image: config.MEDIA_MAX_BYTES_IMAGE,
    video: config.MEDIA_MAX_BYTES_VIDEO,
    audio: config.MEDIA_MAX_BYTES_AUDIO,
    voice: config.MEDIA_MAX_BYTES_VOICE,
    document: config.MEDIA_MAX_BYTES_DOCUMENT,
    sticker: config.MEDIA_MAX_BYTES_STICKER,
  };
}
