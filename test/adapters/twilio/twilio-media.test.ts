import { describe, expect, it } from "vitest";
import { mediaKindOf, TwilioMediaDownloads } from "../../../src/adapters/messaging/twilio/twilio-media.ts";
import { ProviderError } from "../../../src/domain/errors.ts";
import { MediaFetchError } from "../../../src/domain/ports/media-fetcher.port.ts";
import { RecordingMediaFetcher } from "./recording-media-fetcher.ts";

const ACCOUNT = `AC${"2".repeat(32)}`;
const TOKEN = "media-test-token-0123456789abcdef";
const CREDENTIALS = { username: ACCOUNT, password: TOKEN };
const TWILIO_MEDIA = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages/MM1/Media/ME1`;

function downloads(apiBaseUrl?: string) {
  const fetcher = new RecordingMediaFetcher();
  return { fetcher, media: new TwilioMediaDownloads({ fetcher, accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl }) };
}

async function openError(d: ReturnType<typeof downloads>, failure: Error): Promise<unknown> {
  d.fetcher.failWith = failure;
  return d.media
    .file(TWILIO_MEDIA, "image/png")
    .open(1)
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

describe("TwilioMediaDownloads", () => {
  it.each([
    ["image/jpeg", "image"],
    ["IMAGE/PNG", "image"],
    ["image/webp", "image"],
    ["video/mp4", "video"],
    ["audio/ogg; codecs=opus", "audio"],
    ["audio/amr", "audio"],
    ["application/pdf", "document"],
    ["text/vcard", "document"],
    [undefined, "document"],
  ])("names a file announced as %s a(n) %s", (type, kind) => {
    expect(mediaKindOf(type)).toBe(kind);
  });

  it("sends the account's credentials to api.twilio.com, and to no other origin", async () => {
    const d = downloads();
    for (const url of [
      TWILIO_MEDIA,
      "https://media.example.com/ME1",
      "https://api.twilio.com.attacker.example/ME1",
      "http://api.twilio.com/ME1",
      "https://api.twilio.com:8443/ME1",
    ]) {
      await d.media.file(url, "image/jpeg").open(1);
    }
    expect(d.fetcher.calls).toEqual([
      { url: TWILIO_MEDIA, credentials: CREDENTIALS },
      { url: "https://media.example.com/ME1", credentials: null },
      { url: "https://api.twilio.com.attacker.example/ME1", credentials: null },
      { url: "http://api.twilio.com/ME1", credentials: null },
      { url: "https://api.twilio.com:8443/ME1", credentials: null },
    ]);
  });

  it("with TWILIO_API_BASE_URL, fetches Twilio's media from there (path prefix kept), with the credentials there only", async () => {
    const d = downloads("http://127.0.0.1:4010/twilio");
    await d.media.file(TWILIO_MEDIA, "image/jpeg").open(1);
    await d.media.file("http://127.0.0.1:4010/twilio/2010-04-01/Accounts/X/Media/ME2", undefined).open(1);
    await d.media.file("http://127.0.0.1:4011/ME3", undefined).open(1);
    await d.media.file("https://media.example.com/ME4", undefined).open(1);
    expect(d.fetcher.calls).toEqual([
      {
        url: `http://127.0.0.1:4010/twilio/2010-04-01/Accounts/${ACCOUNT}/Messages/MM1/Media/ME1`,
        credentials: CREDENTIALS,
      },
      { url: "http://127.0.0.1:4010/twilio/2010-04-01/Accounts/X/Media/ME2", credentials: CREDENTIALS },
      { url: "http://127.0.0.1:4011/ME3", credentials: null },
      { url: "https://media.example.com/ME4", credentials: null },
    ]);
  });

  it("opens to the fetched bytes", async () => {
    const d = downloads();
    const chunks: Uint8Array[] = [];
    for await (const chunk of (await d.media.file(TWILIO_MEDIA, "image/png").open(1)) as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
    }
    expect(Buffer.concat(chunks).toString()).toBe("file");
  });

  it.each([
    ["a 503", new MediaFetchError("MEDIA.FETCH_FAILED", "api.twilio.com answered 503", true, 503), true],
    ["a timeout", new MediaFetchError("MEDIA.FETCH_FAILED", "no response within 10000 ms", true), true],
    [
      "a 401 (the account's credentials, as for sends)",
      new MediaFetchError("MEDIA.FETCH_FAILED", "401", false, 401),
      true,
    ],
    ["a 404", new MediaFetchError("MEDIA.FETCH_FAILED", "api.twilio.com answered 404", false, 404), false],
    ["a refused address", new MediaFetchError("MEDIA.URL_FORBIDDEN", "the media URL is refused: x"), false],
    ["anything unexpected", new Error("socket hang up"), true],
  ])("turns %s into a Twilio ProviderError, retryable: %s", async (_, failure, retryable) => {
    const error = await openError(downloads(), failure);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ providerId: "twilio", retryable });
    expect((error as Error).message).toContain(TWILIO_MEDIA);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it("lets a file over the size limit fail as MEDIA.TOO_LARGE, which no retry can fix", async () => {
    const tooLarge = new MediaFetchError("MEDIA.TOO_LARGE", "the media is larger than 10 bytes");
    expect(await openError(downloads(), tooLarge)).toBe(tooLarge);
  });
});
