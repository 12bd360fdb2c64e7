import { describe, expect, it } from "vitest";
import { buildVcard, parseVcard } from "../../../src/adapters/messaging/baileys/vcard.ts";

describe("buildVcard", () => {
  it("writes a vCard 3.0 with N, FN and one TEL with its waid per number, CRLF-terminated lines", () => {
    const vcard = buildVcard({ name: "Ana Pop", phones: ["+40712345678", "+15550309999"] });

    expect(vcard.split("\r\n")).toEqual([
      "BEGIN:VCARD",
      "VERSION:3.0",
      "N:;Ana Pop;;;",
      "FN:Ana Pop",
      "TEL;type=CELL;waid=40712345678:+40712345678",
      "TEL;type=CELL;waid=15550309999:+15550309999",
      "END:VCARD",
    ]);
  });

  it("escapes what vCard text values reserve, and reads it back", () => {
    const card = { name: "Pop, Ana; Sales\\EU\nnight shift", phones: ["+40712345678"] };

    const vcard = buildVcard(card);

    expect(vcard).toContain("FN:Pop\\, Ana\\; Sales\\\\EU\\nnight shift\r\n");
    expect(parseVcard(vcard)).toEqual(card);
  });
});

describe("parseVcard", () => {
  it("reads the name and numbers a phone writes, folded lines and grouped properties too", () => {
    const fromAndroid = [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "N:Pop;Ana;;;",
      "FN:Ana Pop",
      "TEL;type=CELL;type=VOICE;waid=40712345678:+40 712 345 678",
      "END:VCARD",
    ].join("\n");
    const fromIphone = [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Bob",
      "  Builder",
      "item1.TEL;WAID=15550309998:+1 (555) 030-9998",
      "item1.X-ABLabel:Mobile",
      "TEL;TYPE=HOME:0040 21 123 4567",
      "END:VCARD",
    ].join("\r\n");

    expect(parseVcard(fromAndroid)).toEqual({ name: "Ana Pop", phones: ["+40712345678"] });
    expect(parseVcard(fromIphone)).toEqual({ name: "Bob Builder", phones: ["+15550309998", "+40211234567"] });
  });

  it("takes the name from N, else the display name; leaves out numbers written without a country", () => {
    const onlyN =
      "BEGIN:VCARD\nVERSION:3.0\nN:Pop;Ana;Maria;Dr.;\nTEL;type=CELL:+40712345678\nTEL:0712 345 678\nEND:VCARD";
    const nameless = "BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri:tel:+15550309997\nEND:VCARD";

    expect(parseVcard(onlyN)).toEqual({ name: "Dr. Ana Maria Pop", phones: ["+40712345678"] });
    expect(parseVcard(nameless, "Carol")).toEqual({ name: "Carol", phones: ["+15550309997"] });
    expect(parseVcard("not a vcard", "Dan")).toEqual({ name: "Dan", phones: [] });
  });
});
