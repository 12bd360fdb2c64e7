import type { Channel } from "../domain/address.ts";
import { DomainError } from "../domain/errors.ts";
import type { Route } from "../domain/message.ts";
import { TWILIO_PROVIDER, type MessagingProvider } from "../domain/ports/messaging-provider.port.ts";

export interface RoutingPolicy {
  /** Provider id that carries `whatsapp:` when the request names none. */
  readonly whatsappProvider: string;
  readonly defaultSession: string;
}

/**
 * Decides which provider and session carry a message: `sms` goes to Twilio,
 * `whatsapp` to the configured WhatsApp provider, and an explicit `provider`
 * overrides both.
 */
export class Router {
  private readonly byId: ReadonlyMap<string, MessagingProvider>;

  constructor(
    providers: readonly MessagingProvider[],
    private readonly policy: RoutingPolicy,
  ) {
    this.byId = new Map(providers.map((p) => [p.id, p]));
  }

  resolve(channel: Channel, requested: { provider?: string | undefined; session?: string | undefined }): Route {
    const providerId = requested.provider ?? (channel === "sms" ? TWILIO_PROVIDER : this.policy.whatsappProvider);
    const provider = this.byId.get(providerId);
    if (!provider) {
      const enabled = [...this.byId.keys()].join(", ") || "none";
      throw new DomainError(
        "PROVIDER.NOT_ENABLED",
        `provider "${providerId}" is not enabled in this gateway (enabled: ${enabled}); set GATEWAY_PROVIDERS`,
        [{ field: requested.provider ? "provider" : "to", message: `provider "${providerId}" is not enabled` }],
      );
    }
    if (!provider.channels.includes(channel)) {
      throw new DomainError("REQUEST.INVALID", `provider "${providerId}" does not carry the ${channel} channel`, [
        { field: "provider", message: `does not carry ${channel}` },
      ]);
    }
    // A provider without logins (Twilio) has the one session "default".
    const session = requested.session ?? (provider.sessions ? this.policy.defaultSession : "default");
    if (!provider.hasSession(session)) {
      throw new DomainError("SESSION.NOT_FOUND", `session "${session}" does not exist on provider "${providerId}"`, [
        { field: "session", message: "unknown session" },
      ]);
    }
    return { provider: providerId, session };
  }
}
