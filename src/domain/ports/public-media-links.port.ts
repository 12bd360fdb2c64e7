import { injectionToken, type InjectionToken } from "../injection-token.ts";

/**
 * Links to held media that someone without an API key can open (a provider
 * that fetches the file itself, like Twilio for MMS): signed, expiring, under
 * the gateway's public base URL (PUBLIC_BASE_URL, required with Twilio).
 */
export interface PublicMediaLinks {
  /** An absolute URL that serves the file until `ttlMs` from now (default: a day). */
  link(mediaId: string, ttlMs?: number): string;
}

export const PublicMediaLinks: InjectionToken<PublicMediaLinks> = injectionToken("PublicMediaLinks");
