import sharp from "sharp";

/**
 * Small files that are real, not only their magic bytes: images any decoder
 * opens (made with sharp, which Baileys uses for thumbnails) and an Ogg Opus
 * voice note with valid pages (checksums, headers, one second of silence),
 * for tests where a library reads more than the type.
 */
export const realMedia = {
  /** A `size`x`size` PNG in one colour. */
  png: (size = 16, colour = "#c0392b") => image(size, colour).png().toBuffer(),
  jpeg: (size = 16, colour = "#2980b9") => image(size, colour).jpeg({ quality: 80 }).toBuffer(),
  webp: (size = 64, colour = "#27ae60") => image(size, colour).webp().toBuffer(),
  /** An Ogg Opus file, mono 48 kHz, `seconds` of silence: what WhatsApp voice notes are. */
  oggOpus: (seconds = 1) => oggOpus(seconds),
  /** An MP3: an empty ID3v2 tag, then `frames` MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz) of zeros. */
  mp3: (frames = 20) => mp3(frames),
};

/** Bytes of one 128 kbit/s 44.1 kHz Layer III frame without padding: 144 * 128000 / 44100. */
const MP3_FRAME_BYTES = 417;

function mp3(frames: number): Buffer {
  const id3 = Buffer.from([...Buffer.from("ID3", "latin1"), 4, 0, 0, 0, 0, 0, 0]);
  const frame = Buffer.alloc(MP3_FRAME_BYTES);
  // Sync, MPEG-1, Layer III, no CRC; 128 kbit/s, 44.1 kHz, no padding; mono.
  Buffer.from([0xff, 0xfb, 0x90, 0xc0]).copy(frame);
  return Buffer.concat([id3, ...new Array<Buffer>(frames).fill(frame)]);
}

function image(size: number, colour: string) {
  return sharp({ create: { width: size, height: size, channels: 3, background: colour } });
}

const SAMPLES_PER_FRAME = 960; // 20 ms at 48 kHz
const PRE_SKIP = 312;
/** One 20 ms Opus frame of silence (TOC 0xf8: CELT, fullband, 20 ms, mono, one frame). */
const SILENT_FRAME = Buffer.from([0xf8, 0xff, 0xfe]);

function oggOpus(seconds: number): Buffer {
  const serial = 0x5eed;
  const head = Buffer.alloc(19);
  head.write("OpusHead", 0, "latin1");
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // channels
  head.writeUInt16LE(PRE_SKIP, 10);
  head.writeUInt32LE(48_000, 12); // input sample rate
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // channel mapping family
  const vendor = Buffer.from("gateway tests", "utf8");
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write("OpusTags", 0, "latin1");
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length); // no user comments
  const frames = Math.max(1, Math.round((seconds * 48_000) / SAMPLES_PER_FRAME));
  const audio = Array.from({ length: frames }, () => SILENT_FRAME);
  return Buffer.concat([
    oggPage({ serial, sequence: 0, granule: 0n, flags: 0x02, packets: [head] }),
    oggPage({ serial, sequence: 1, granule: 0n, flags: 0, packets: [tags] }),
    oggPage({ serial, sequence: 2, granule: BigInt(frames * SAMPLES_PER_FRAME), flags: 0x04, packets: audio }),
  ]);
}

/** One Ogg page holding whole packets (each under 255 bytes, at most 255 of them). */
function oggPage(page: {
  serial: number;
  sequence: number;
  granule: bigint;
  flags: number;
  packets: Buffer[];
}): Buffer {
  const lacing = page.packets.flatMap((packet) => {
    const values = new Array<number>(Math.floor(packet.length / 255)).fill(255);
    values.push(packet.length % 255);
    return values;
  });
  if (lacing.length > 255) throw new Error("too many packets for one Ogg page");
  const header = Buffer.alloc(27 + lacing.length);
  header.write("OggS", 0, "latin1");
  header.writeUInt8(0, 4); // version
  header.writeUInt8(page.flags, 5);
  header.writeBigUInt64LE(page.granule, 6);
  header.writeUInt32LE(page.serial, 14);
  header.writeUInt32LE(page.sequence, 18);
  header.writeUInt32LE(0, 22); // checksum, filled in below
  header.writeUInt8(lacing.length, 26);
  Buffer.from(lacing).copy(header, 27);
  const bytes = Buffer.concat([header, ...page.packets]);
  bytes.writeUInt32LE(oggCrc(bytes), 22);
  return bytes;
}

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor. */
const CRC_TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = index << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}
