/** Enough for the replies and reactions of a busy session; the oldest are forgotten first. */
const MAX_ENTRIES = 20_000;

/**
 * Who sent the group messages a session received lately (WhatsApp id ->
 * the sender's jid as the message named it). A reply or reaction in a group
 * names its target by sender as well as by id; the app passes the sender
 * with the target when it knows it, and this fills in when it does not.
 */
export class RecentGroupSenders {
  private readonly senders = new Map<string, string>();

  note(waId: string, participantJid: string): void {
    this.senders.delete(waId);
    this.senders.set(waId, participantJid);
    if (this.senders.size > MAX_ENTRIES) this.senders.delete(this.senders.keys().next().value!);
  }

  of(waId: string): string | undefined {
    return this.senders.get(waId);
  }
}
