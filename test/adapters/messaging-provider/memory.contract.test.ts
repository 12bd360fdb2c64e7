import { ProviderError } from "../../../src/domain/errors.ts";
import { runMessagingProviderContract } from "../../contracts/messaging-provider.contract.ts";
import { MemoryMessagingProvider } from "../../fakes/memory-messaging-provider.ts";

const SESSION = "default";
const ACCOUNT = "whatsapp:+15550001000";
let inboundCounter = 0;

// The fake the other tests stand on must keep the port's promises as the real
// providers do, or those tests prove nothing: its double is itself.
runMessagingProviderContract("memory (test fake)", { idempotentSends: true, logins: false }, async () => {
  const fake = new MemoryMessagingProvider("memory", ["whatsapp", "sms"], { [SESSION]: true });
  await fake.start();
  return {
    provider: fake,
    session: SESSION,
    channel: "whatsapp",
    account: ACCOUNT,
    recipient: "whatsapp:+15550001001",
    contact: "whatsapp:+15550001002",
    driver: {
      async untilReady() {},
      async receivedBy(to) {
        return fake.sent
          .filter((m) => m.to === to)
          .map((m) => ({ providerMessageId: fake.providerMessageId(m), text: m.text }));
      },
      async reportStatus({ receipt }, status) {
        fake.emit({ type: "status", providerMessageId: receipt.providerMessageId, status });
      },
      async deliverInbound(from, text) {
        inboundCounter += 1;
        fake.emit({
          type: "inbound",
          message: {
            provider: fake.id,
            session: SESSION,
            channel: "whatsapp",
            from,
            to: ACCOUNT,
            text,
            media: [],
            providerMessageId: `memory-inbound-${inboundCounter}`,
            at: new Date(),
          },
        });
      },
      async failNextSend(kind) {
        if (kind === "retryable") fake.failRetryable(1);
        else fake.failWith(new ProviderError(fake.id, "the recipient cannot be reached", false, "invalid-recipient"));
      },
    },
    dispose: () => fake.stop(),
  };
});
