import { describe, expect, it } from "vitest";
import {
  acceptedMediaTypes,
  checkMediaType,
  cleanFilename,
  defaultMediaLimits,
  inferMediaKind,
  largestMediaLimit,
  MediaKinds,
  mediaTooLarge,
  normalizeMimeType,
} from "../../src/domain/media.ts";

describe("media kinds and types", () => {
  it("infers the kind from the detected type, a document when nothing more specific fits", () => {
    expect(inferMediaKind("image/jpeg")).toBe("image");
    expect(inferMediaKind("image/png")).toBe("image");
    expect(inferMediaKind("image/webp")).toBe("sticker");
    expect(inferMediaKind("video/mp4")).toBe("video");
    expect(inferMediaKind("video/3gpp")).toBe("video");
    expect(inferMediaKind("audio/ogg; codecs=opus")).toBe("voice");
    expect(inferMediaKind("Audio/OGG;codecs=opus")).toBe("voice");
    expect(inferMediaKind("audio/mpeg")).toBe("audio");
    expect(inferMediaKind("audio/ogg")).toBe("audio");
    expect(inferMediaKind("application/pdf")).toBe("document");
    expect(inferMediaKind("image/gif")).toBe("document");
    expect(inferMediaKind("application/x-msdownload")).toBe("document");
  });

  it("accepts what WhatsApp accepts per kind, any type as a document", () => {
    expect(checkMediaType("image", "image/png")).toEqual({ ok: true });
    expect(checkMediaType("voice", "audio/ogg; codecs=opus")).toEqual({ ok: true });
    expect(checkMediaType("audio", "audio/ogg; codecs=opus")).toEqual({ ok: true });
    expect(checkMediaType("sticker", "image/webp")).toEqual({ ok: true });
    expect(checkMediaType("document", "application/x-elf")).toEqual({ ok: true });
  });

  it("refuses another type with MEDIA.UNSUPPORTED_TYPE naming the accepted ones", () => {
    const check = checkMediaType("image", "application/x-msdownload");
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.error.code).toBe("MEDIA.UNSUPPORTED_TYPE");
    expect(check.error.message).toContain("application/x-msdownload");
    expect(check.error.message).toContain("image/jpeg, image/png");
    expect(check.error.issues).toEqual([{ field: "file", message: "accepted image types: image/jpeg, image/png" }]);
    // A voice note is opus only: plain ogg/vorbis or mp3 is audio, not voice.
    expect(checkMediaType("voice", "audio/ogg").ok).toBe(false);
    expect(checkMediaType("voice", "audio/mpeg").ok).toBe(false);
    expect(checkMediaType("sticker", "image/png").ok).toBe(false);
    expect(checkMediaType("video", "video/quicktime").ok).toBe(false);
  });

  it("has an accepted list and a limit for every kind; documents are the largest", () => {
    for (const kind of MediaKinds) {
      expect(acceptedMediaTypes[kind]).toBeDefined();
      expect(defaultMediaLimits[kind]).toBeGreaterThan(0);
    }
    expect(defaultMediaLimits.image).toBe(5 * 1024 * 1024);
    expect(defaultMediaLimits.sticker).toBe(500 * 1024);
    expect(largestMediaLimit(defaultMediaLimits)).toBe(defaultMediaLimits.document);
    expect(largestMediaLimit({ ...defaultMediaLimits, video: 1e12 })).toBe(1e12);
  });

  it("normalizes type spellings and names the limit in a 413", () => {
    expect(normalizeMimeType(" Image/PNG ")).toBe("image/png");
    expect(normalizeMimeType("audio/ogg;codecs=opus;")).toBe("audio/ogg; codecs=opus");
    const error = mediaTooLarge(1000, "sticker");
    expect(error.code).toBe("MEDIA.TOO_LARGE");
    expect(error.message).toBe("the file exceeds the limit for sticker files of 1000 bytes");
  });

  it("keeps only the last path segment of a filename, without control characters", () => {
    expect(cleanFilename("invoice.pdf")).toBe("invoice.pdf");
    expect(cleanFilename("../../etc/passwd")).toBe("passwd");
    expect(cleanFilename("C:\\Users\\me\\photo 1.jpg")).toBe("photo 1.jpg");
    expect(cleanFilename("a\r\nb\u0000c\u0085.txt")).toBe("abc.txt");
    expect(cleanFilename("  spaced  ")).toBe("spaced");
    expect(cleanFilename("x".repeat(300))).toHaveLength(255);
    expect(cleanFilename("")).toBeUndefined();
    expect(cleanFilename("dir/")).toBeUndefined();
    expect(cleanFilename("..")).toBeUndefined();
    expect(cleanFilename(undefined)).toBeUndefined();
    expect(cleanFilename("Ünïcødé 漢字.png")).toBe("Ünïcødé 漢字.png");
  });
});
