/**
 * WhatsApp Web simulator: a loopback server that the real, unmodified
 * Baileys 7.0.0-rc14 links to, logs in to, sends through and gets knocked
 * down by. Test infrastructure only; the product never imports it.
 */
export { startWhatsAppSimulator, WS_PATH } from "./simulator.ts";
export type {
  ContactInfo,
  LinkedAccountInfo,
  SimulatorOptions,
  SimulatorStats,
  WhatsAppSimulator,
} from "./simulator.ts";
export type { ProvisionedAccount } from "./provision.ts";
export type { AddressingMode, GroupInfo } from "./groups.ts";
export type { GroupRequest, GroupUpdateRequest, ParticipantResult, ParticipantsRequest } from "./group-control.ts";
export type { FaultKind, FaultRequest } from "./faults.ts";
export { FAULT_KINDS } from "./faults.ts";
export type { InboundRequest, ReceiptRequest } from "./messaging.ts";
export type { InboundMedia } from "./media-inbound.ts";
export type { MediaKind, ReceivedMedia } from "./media-verify.ts";
export { MEDIA_KINDS } from "./media-verify.ts";
export type { MediaFaultKind, MediaStats } from "./media-server.ts";
export { MEDIA_FAULT_KINDS } from "./media-server.ts";
export type { AccountStats, ClientReceipt, PresenceUpdate, ReceivedMessage } from "./message-log.ts";
export type { DecodedContent, MessageKind, SharedLocation } from "./message-decode.ts";
export type { ContactCard } from "./vcard.ts";
export type { ReceiptSettings, UnknownIq } from "./context.ts";
export type { LinkResult } from "./pairing.ts";
export { parseQr } from "./adv.ts";
export type { QrData } from "./adv.ts";
export type { SimLogger } from "./logger.ts";
export { silentLogger } from "./logger.ts";
