// The measurements of bench/media.bench.ts: a file uploaded to the gateway
// (POST /media), sent through it (POST /messages), or sent by raw Baileys,
// each timed from the benchmark's side and with the RSS growth of the process
// doing the work sampled from /proc. Every send is then checked on the
// simulator, which decrypts what arrived: wrong bytes fail the benchmark.
import { createReadStream } from "node:fs";
import { request } from "node:http";
import type { SimEndpoints } from "../baileys-raw.bench.ts";
import { BENCH_API_KEY, waitFor, type GatewayProcess } from "./gateway-process.ts";
import type { BenchFile } from "./media-files.ts";
import type { RawMediaCommand, RawMediaFile } from "./raw-media.ts";
import type { RawSessionsProcess } from "./raw-sessions-process.ts";
import { cpuMs } from "./processes.ts";
import { sampleRss, type RssGrowth } from "./rss-sampler.ts";
import { simCall } from "./sim-control.ts";

/** A send, as one round of the benchmark measured it. */
export interface Measured {
  ms: number;
  rss: RssGrowth;
  /** CPU time (user + system) the measured process used meanwhile. */
  cpuMs: number;
  /** When it ran (epoch ms), to find it in a memory trace. */
  window: { from: number; to: number };
}

/** What POST /media answers (201). */
export interface UploadedMedia {
  id: string;
  kind: string;
  mimeType: string;
  size: number;
  sha256: string;
}

/** `work` timed, with the RSS growth and CPU time of process `pid` while it ran. */
async function measure<T>(pid: number, work: () => Promise<T>): Promise<Measured & { value: T }> {
  const cpuBefore = await cpuMs(pid);
  const from = Date.now();
  const sampler = sampleRss(pid);
  const start = performance.now();
  let value: T;
  try {
    value = await work();
  } catch (error) {
    // Its timer would keep the benchmark alive.
    sampler.cancel();
    throw error;
  }
  const ms = performance.now() - start;
  const rss = sampler.stop();
  const window = { from, to: Date.now() };
  return { value, ms, rss, cpuMs: (await cpuMs(pid)) - cpuBefore, window };
}

/** A whole send takes seconds; bounds leave room for a busy machine. */
const SEND_TIMEOUT_MS = 180_000;

/**
 * POST /media with the file as the raw body, streamed from disk with its
 * length announced (as curl --data-binary @file would), timed to the 201.
 */
export async function uploadToGateway(
  gw: GatewayProcess,
  file: BenchFile,
  contentType: string,
  filename: string,
): Promise<Measured & { media: UploadedMedia }> {
  const url = `${gw.url}/media?filename=${encodeURIComponent(filename)}`;
  const { value: answer, ...measured } = await measure(gw.pid, () => postFile(url, file, contentType));
  if (answer.status !== 201) throw new Error(`POST /media -> ${answer.status}: ${answer.text}`);
  const media = JSON.parse(answer.text) as UploadedMedia;
  if (media.sha256 !== file.sha256 || media.size !== file.size) {
    throw new Error(`POST /media kept other bytes: ${JSON.stringify(media)}, sent ${file.size} B ${file.sha256}`);
  }
  return { ...measured, media };
}

/** The same upload to the bare node:http baseline (bare-upload-server.ts), checked by its answer's hash. */
export async function uploadToBare(
  server: { pid: number; url: string },
  file: BenchFile,
  contentType: string,
): Promise<Measured> {
  const { value: answer, ...measured } = await measure(server.pid, () => postFile(server.url, file, contentType));
  if (answer.status !== 201) throw new Error(`bare upload -> ${answer.status}: ${answer.text}`);
  const got = JSON.parse(answer.text) as { size: number; sha256: string };
  if (got.sha256 !== file.sha256 || got.size !== file.size) {
    throw new Error(`the bare server got other bytes: ${answer.text}, sent ${file.size} B ${file.sha256}`);
  }
  return measured;
}

function postFile(url: string, file: BenchFile, contentType: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${BENCH_API_KEY}`,
          "content-type": contentType,
          "content-length": String(file.size),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    const body = createReadStream(file.path);
    body.on("error", (error) => req.destroy(error));
    body.pipe(req);
  });
}

interface GatewayMessage {
  id: string;
  status: string;
  providerMessageId: string | null;
  error: unknown;
}

/**
 * POST /messages with the held file, timed until GET /messages/{id} shows it
 * `sent` (the server acked it); then the simulator must hold the same bytes.
 */
export async function sendThroughGateway(
  gw: GatewayProcess,
  sim: SimEndpoints,
  send: { to: string; session: string; mediaId: string; fromPhone: string; file: BenchFile; kind: string },
): Promise<Measured> {
  const { value: sent, ...measured } = await measure(gw.pid, async () => {
    const posted = await gw.call<GatewayMessage>("POST", "/messages", {
      to: send.to,
      session: send.session,
      media: [{ id: send.mediaId }],
    });
    if (posted.status !== 202) throw new Error(`POST /messages -> ${posted.status}: ${JSON.stringify(posted.body)}`);
    // 10 ms polls: a GET costs the gateway well under a millisecond, against sends of hundreds of ms.
    return waitFor(
      async () => {
        const { body } = await gw.call<GatewayMessage>("GET", `/messages/${posted.body.id}`);
        if (body.status === "failed") throw new Error(`the gateway failed the message: ${JSON.stringify(body.error)}`);
        return body.status === "sent" || body.status === "delivered" || body.status === "read" ? body : undefined;
      },
      `message ${posted.body.id} sent`,
      SEND_TIMEOUT_MS,
      10,
    );
  });
  if (!sent.providerMessageId) throw new Error(`message ${sent.id} is sent but has no providerMessageId`);
  await expectOnSimulator(sim, send.fromPhone, sent.providerMessageId, send.file, send.kind);
  return measured;
}

/** The raw socket sends the file by path, timed from the command to its "acked" line. */
export async function sendRaw(
  raw: RawSessionsProcess<RawMediaCommand>,
  sim: SimEndpoints,
  send: { fromPhone: string; file: BenchFile; media: RawMediaFile },
): Promise<Measured & { inProcessMs: number }> {
  const { value: acked, ...measured } = await measure(raw.pid, () => {
    raw.command({ cmd: "media", ...send.media });
    return raw.expect("acked", SEND_TIMEOUT_MS);
  });
  await expectOnSimulator(sim, send.fromPhone, String(acked.id), send.file, send.media.kind);
  return { ...measured, inProcessMs: Number(acked.ms) };
}

interface SimMessage {
  id: string;
  kind: string;
  media?: { kind: string; mimeType: string; size: number; sha256: string };
  mediaError?: string;
}

/**
 * Waits for the simulator to record message `id` from `phone` (it decrypts
 * and verifies the media after acking, so the record comes a little later)
 * and checks it carries the file: same kind, size and SHA-256.
 */
export async function expectOnSimulator(
  sim: SimEndpoints,
  phone: string,
  id: string,
  file: BenchFile,
  kind: string,
): Promise<void> {
  const entry = await waitFor(
    async () => {
      const list = await simCall<SimMessage[]>(sim, "GET", `/control/messages?from=${phone}`);
      return list.find((m) => m.id === id);
    },
    `the simulator's record of ${id}`,
    60_000,
    20,
  );
  if (entry.mediaError) throw new Error(`the simulator could not verify ${id}: ${entry.mediaError}`);
  const media = entry.media;
  if (!media) throw new Error(`the simulator recorded ${id} without media (kind ${entry.kind})`);
  if (media.sha256 !== file.sha256 || media.size !== file.size || media.kind !== kind) {
    throw new Error(
      `the simulator decrypted other bytes for ${id}: ${JSON.stringify(media)}, expected ${kind} of ${file.size} B ${file.sha256}`,
    );
  }
}
