import type { MessageMedia } from "../domain/media.ts";
import type { Message } from "../domain/message.ts";

/** An attachment as the API and webhooks show it: with `url`, where a held file can be downloaded. */
export type MediaView = MessageMedia & { readonly url: string | null };

export type MessageView = Omit<Message, "media"> & { readonly media: readonly MediaView[] };

/** A message as the API and the webhooks show it: each held file gets its `url` (`/media/{id}`, API key required). */
export function toMessageView(message: Message): MessageView {
  return {
    ...message,
    media: message.media.map((media) => ({
      ...media,
      url: media.id === null ? null : `/media/${encodeURIComponent(media.id)}`,
    })),
  };
}
