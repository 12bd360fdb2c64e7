import type { ProviderStatus } from "../../../domain/message-status.ts";
import { proto } from "@whiskeysockets/baileys";

const { ERROR, SERVER_ACK, DELIVERY_ACK, READ, PLAYED } = proto.WebMessageInfo.Status;

/**
 * Our status for a Baileys message status: SERVER_ACK -> sent, DELIVERY_ACK ->
 * delivered, READ and PLAYED -> read, ERROR (a negative server ack) -> failed.
 * PENDING and unknown values say nothing new: undefined.
 */
export function toProviderStatus(status: number | null | undefined): ProviderStatus | undefined {
  switch (status) {
    case SERVER_ACK:
      return "sent";
    case DELIVERY_ACK:
      return "delivered";
    case READ:
    case PLAYED:
      return "read";
    case ERROR:
      return "failed";
    default:
      return undefined;
  }
}
