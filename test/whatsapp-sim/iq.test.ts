import { describe, expect, it } from "vitest";
import { jid, linkedClient, startSim } from "./harness.ts";

const PHONE = "15550006001";
const CONTACT = "15550009020";

describe("IQ coverage", () => {
  it("answers every IQ a login, the init queries, sends and lookups produce", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);
    const sock = wa.sock!;

    const [props, blocklist, privacy, exists, status] = await Promise.all([
      sock.query({
        tag: "iq",
        attrs: { to: "s.whatsapp.net", xmlns: "abt", type: "get" },
        content: [{ tag: "props", attrs: { protocol: "1" } }],
      }),
      sock.fetchBlocklist(),
      sock.fetchPrivacySettings(true),
      sock.onWhatsApp(CONTACT),
      sock.fetchStatus(jid(CONTACT)),
    ]);
    await sock.sendMessage(jid(CONTACT), { text: "hi" });
    await sim.waitForMessages(PHONE, 1);

    expect(props.attrs.type).toBe("result");
    expect(blocklist).toEqual([]);
    expect(privacy.readreceipts).toBe("all");
    expect(exists).toEqual([{ jid: jid(CONTACT), exists: true }]);
    expect(status).toHaveLength(1);
    expect(sim.stats().unknownIqs).toEqual([]);
  });

  it("answers an unknown IQ with an error and records it", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);

    const query = wa.sock!.query({
      tag: "iq",
      attrs: { to: "s.whatsapp.net", xmlns: "made:up", type: "get" },
      content: [{ tag: "nothing", attrs: {} }],
    });

    await expect(query).rejects.toMatchObject({ data: 501 });
    expect(sim.stats().unknownIqs).toEqual([
      expect.objectContaining({ xmlns: "made:up", type: "get", child: "nothing" }),
    ]);
  });
});
