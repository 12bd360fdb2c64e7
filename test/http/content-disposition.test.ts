import { describe, expect, it } from "vitest";
import { contentDisposition } from "../../src/app/http/media.routes.ts";

describe("contentDisposition", () => {
  it("is a bare attachment without a name", () => {
    expect(contentDisposition(undefined)).toBe("attachment");
  });

  it("gives an ASCII name and its exact UTF-8 form, neither able to end the header or add a parameter", () => {
    const name = 'rapport "final"; size=1 \\ été (v2)*.pdf';
    const header = contentDisposition(name);
    expect(header).toBe(
      `attachment; filename="rapport _final_; size=1 _ _t_ (v2)*.pdf"; filename*=UTF-8''rapport%20%22final%22%3B%20size%3D1%20%5C%20%C3%A9t%C3%A9%20%28v2%29%2A.pdf`,
    );
    const encoded = /filename\*=UTF-8''(.*)$/.exec(header)![1]!;
    expect(encoded).toMatch(/^[A-Za-z0-9%!._~-]+$/);
    expect(decodeURIComponent(encoded)).toBe(name);
  });
});
