import { describe, expect, it } from "vitest";
import { filenameOf, parseMediaUrl } from "../../../src/adapters/media-fetch/http/media-url.ts";
import { MediaFetchError } from "../../../src/domain/ports/media-fetcher.port.ts";

describe("parseMediaUrl", () => {
  it.each([
    "file:///etc/passwd",
    "ftp://example.com/a.jpg",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "gopher://example.com/",
    "ws://example.com/",
    "not a url",
    "/relative/path.jpg",
    "",
    "http://user:secret@example.com/a.jpg",
    "https://user@example.com/a.jpg",
    "http://:secret@example.com/a.jpg",
  ])("refuses %j as MEDIA.URL_INVALID", (raw) => {
    expect(() => parseMediaUrl(raw)).toThrow(MediaFetchError);
    try {
      parseMediaUrl(raw);
    } catch (error) {
      expect((error as MediaFetchError).code).toBe("MEDIA.URL_INVALID");
      expect((error as MediaFetchError).retryable).toBe(false);
    }
  });

  // The address check relies on WHATWG parsing turning every spelling into one.
  it.each([
    "127.1",
    "2130706433",
    "0x7f000001",
    "017700000001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "127.0.0.1.",
    "127.000.000.001",
  ])("normalises the loopback spelling %s to 127.0.0.1", (host) => {
    expect(parseMediaUrl(`http://${host}:8080/a`).hostname).toBe("127.0.0.1");
  });

  it("normalises IPv4-mapped IPv6 to its hexadecimal form", () => {
    expect(parseMediaUrl("http://[::ffff:127.0.0.1]/").hostname).toBe("[::ffff:7f00:1]");
  });

  it("keeps http and https URLs", () => {
    expect(parseMediaUrl("https://cdn.example.com/a/b.jpg?x=1").href).toBe("https://cdn.example.com/a/b.jpg?x=1");
    expect(parseMediaUrl("HTTP://Example.COM/x").href).toBe("http://example.com/x");
  });
});

describe("filenameOf", () => {
  const url = new URL("https://cdn.example.com/files/photo%20one.jpg?sig=abc");

  it("takes the last path segment, decoded, without the query", () => {
    expect(filenameOf(undefined, url)).toBe("photo one.jpg");
  });

  it("prefers Content-Disposition, filename* over filename", () => {
    expect(filenameOf('attachment; filename="invoice.pdf"', url)).toBe("invoice.pdf");
    expect(filenameOf("attachment; filename=invoice.pdf", url)).toBe("invoice.pdf");
    expect(filenameOf(`attachment; filename="plain.pdf"; filename*=UTF-8''na%C3%AFve%20%E2%82%AC.pdf`, url)).toBe(
      "naïve €.pdf",
    );
    expect(filenameOf("attachment; filename*=iso-8859-1'en'caf%E9.txt", url)).toBe("café.txt");
    expect(filenameOf('attachment; filename="say \\"hi\\".txt"', url)).toBe('say "hi".txt');
  });

  it("drops directories and control characters", () => {
    expect(filenameOf('attachment; filename="../../etc/passwd"', url)).toBe("passwd");
    expect(filenameOf('attachment; filename="C:\\\\Windows\\\\evil.exe"', url)).toBe("evil.exe");
    expect(filenameOf("attachment; filename*=UTF-8''a%0D%0Ab.txt", url)).toBe("ab.txt");
    expect(filenameOf(undefined, new URL("https://x.example/a/%2e%2e"))).toBeUndefined();
  });

  it("falls back to the URL when the header names nothing usable", () => {
    expect(filenameOf('attachment; filename=".."', url)).toBe("photo one.jpg");
    expect(filenameOf("inline", url)).toBe("photo one.jpg");
    expect(filenameOf(undefined, new URL("https://x.example/"))).toBeUndefined();
  });

  it("keeps at most 255 characters", () => {
    expect(filenameOf(`attachment; filename="${"a".repeat(400)}.jpg"`, url)).toHaveLength(255);
  });
});
