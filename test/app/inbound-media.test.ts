import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { DiskMediaStore } from "../../src/adapters/media-store/disk/disk.media-store.ts";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { createLogger } from "../../src/app/logger.ts";
import { InboundMediaIntake } from "../../src/app/media/inbound-media-intake.ts";
import { RecordProviderEvent } from "../../src/app/use-cases/record-provider-event.ts";
import { ProviderError } from "../../src/domain/errors.ts";
import { defaultMediaLimits } from "../../src/domain/media.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import type { DomainEvent } from "../../src/domain/ports/domain-events.port.ts";
import type { InboundMedia, ReportedInboundMessage } from "../../src/domain/ports/messaging-provider.port.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { tempDir } from "../support/temp-dir.ts";

const logger = createLogger("silent");
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A provider's file that fails its first `failures` opens (retryable), then gives `bytes`; counts the opens. */
function flakyFile(bytes: Buffer, failures: number, overrides: Partial<InboundMedia> = {}) {
  const opens: number[] = [];
  const file: InboundMedia = {
    kind: "image",
    mimeType: "image/jpeg",
    caption: "look",
    ...overrides,
    async open(attempt) {
      opens.push(attempt);
      if (opens.length <= failures) throw new ProviderError("memory", "media server busy", true, "503");
      return Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]);
    },
  };
  return { file, opens };
}

function inbound(media: InboundMedia[], providerMessageId = "wa-in-1"): ReportedInboundMessage {
  return {
    provider: "memory",
    session: "default",
    channel: "whatsapp",
    from: "whatsapp:+40712345001",
    to: "whatsapp:+40700000000",
    text: "look",
    media,
    providerMessageId,
    at: new Date(),
  };
}

async function setup(repairDelaysMs: number[] = []) {
  const dir = await tempDir();
  const mediaStore = new DiskMediaStore({ dir: dir.path });
  cleanups.push(async () => {
    await mediaStore.close();
    await dir.remove();
  });
  const store = new MemoryMessageStore();
  const events = new InProcessDomainEvents(logger);
  const seen: DomainEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const intake = new InboundMediaIntake(mediaStore, defaultMediaLimits, logger, { attempts: 3, retryDelayMs: 1 });
  const recorder = new RecordProviderEvent(store, events, systemClock, logger, { media: intake, repairDelaysMs });
  const provider = new MemoryMessagingProvider("memory", ["whatsapp"]);
  const record = (message: ReportedInboundMessage) => recorder.handle(provider, { type: "inbound", message });
  return { store, mediaStore, seen, record };
}

describe("inbound media", () => {
  it("keeps the file before the message is recorded, after retrying a failing download", async () => {
    const { store, mediaStore, seen, record } = await setup();
    const jpeg = mediaFixture.jpeg(5000);
    const { file, opens } = flakyFile(jpeg, 2);
    await record(inbound([file]));
    expect(opens).toEqual([1, 2, 3]);
    const [announced] = seen.filter((e) => e.type === "message.inbound");
    const media = announced?.type === "message.inbound" ? announced.message.media : [];
    expect(media).toHaveLength(1);
    expect(media[0]).toMatchObject({
      kind: "image",
      mimeType: "image/jpeg",
      size: jpeg.length,
      sha256: sha256Hex(jpeg),
      caption: "look",
      error: null,
    });
    const held = await mediaStore.get(media[0]!.id!);
    expect(Buffer.from(await new Response(held!.stream).arrayBuffer()).equals(jpeg)).toBe(true);
    expect((await store.list({ limit: 10 })).items[0]?.media).toEqual(media);
  });

  it("records the message with the attachment's error when every attempt fails, and repairs it later", async () => {
    const { store, mediaStore, seen, record } = await setup([5]);
    const ogg = mediaFixture.oggOpus(3000);
    const { file, opens } = flakyFile(ogg, 3, {
      kind: "voice",
      mimeType: "audio/ogg; codecs=opus",
      caption: undefined,
    });
    await record(inbound([file]));
    const recorded = (await store.list({ limit: 10 })).items[0]!;
    expect(recorded.media[0]).toMatchObject({ id: null, kind: "voice", error: { code: "media.download_failed" } });
    expect(seen.filter((e) => e.type === "message.inbound")).toHaveLength(1);

    const repaired = await eventually(async () => {
      const message = await store.get(recorded.id);
      return message?.media[0]?.id ? message : undefined;
    });
    expect(opens.length).toBe(4);
    expect(repaired.media[0]).toMatchObject({ kind: "voice", sha256: sha256Hex(ogg), error: null });
    expect((await mediaStore.stat(repaired.media[0]!.id!))?.size).toBe(ogg.length);
  });

  it("does not retry a file that is too large, and keeps nothing of it", async () => {
    const { store, record } = await setup();
    const big = mediaFixture.pdf(defaultMediaLimits.document + 1);
    const { file, opens } = flakyFile(big, 0, { kind: "document", mimeType: "application/pdf", filename: "big.pdf" });
    await record(inbound([file]));
    expect(opens).toEqual([1]);
    const recorded = (await store.list({ limit: 10 })).items[0]!;
    expect(recorded.media[0]).toMatchObject({ id: null, filename: "big.pdf", error: { code: "media.too_large" } });
  });

  it("keeps one copy of a redelivered message's file", async () => {
    const { store, mediaStore, record } = await setup();
    const png = mediaFixture.png(1500);
    await record(inbound([flakyFile(png, 0).file], "wa-same"));
    await record(inbound([flakyFile(png, 0).file], "wa-same"));
    const items = (await store.list({ limit: 10 })).items;
    expect(items).toHaveLength(1);
    const held: string[] = [];
    await mediaStore.sweep(new Date(Date.now() + 60_000), (id) => {
      held.push(id);
      return true;
    });
    // The second download's id was released: only the message's own file has an id.
    expect(held).toEqual([items[0]!.media[0]!.id]);
    expect(await mediaStore.stat(items[0]!.media[0]!.id!)).toBeDefined();
  });
});
