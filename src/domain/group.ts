/** A member's standing in a WhatsApp group. */
export const GroupRoles = ["superadmin", "admin", "member"] as const;
export type GroupRole = (typeof GroupRoles)[number];

export interface GroupParticipant {
  /** Phone-number form (`whatsapp:+E164`) when known, else the LID (`<digits>@lid`). */
  readonly address: string;
  readonly lid: string | null;
  readonly role: GroupRole;
}

/** A WhatsApp group as one session (linked account) sees it. */
export interface GroupInfo {
  /** The id part of `<id>@g.us`. */
  readonly id: string;
  /** `whatsapp:group:<id>`: where messages to the group go. */
  readonly address: string;
  readonly subject: string;
  readonly description: string | null;
  readonly owner: string | null;
  readonly createdAt: string | null;
  readonly participants: readonly GroupParticipant[];
  /** The session's own standing in the group; null once it left. */
  readonly ourRole: GroupRole | null;
}

/** A change to a group's members; each list holds addresses (`whatsapp:+E164`). */
export interface ParticipantsChange {
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  readonly promote?: readonly string[];
  readonly demote?: readonly string[];
}

/** What happened to a group, as a provider reports it (the `group.updated` webhook). */
export interface GroupUpdate {
  readonly group: string;
  /** `add`, `remove`, `promote`, `demote` (participants), `subject`, `description`, or another setting. */
  readonly action: string;
  /** The members concerned, for participant changes. */
  readonly participants: readonly string[];
  /** Who made the change, when known. */
  readonly by: string | null;
  readonly subject?: string;
  readonly description?: string;
}
