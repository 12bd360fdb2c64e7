import twilio from "twilio";

/** A webhook request as Twilio would send it: form body and X-Twilio-Signature. */
export interface SignedWebhook {
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface SignOptions {
  /** Replace the computed signature (a forgery); null leaves the header out. */
  readonly signature?: string | null;
  /** Send this body instead of the signed params (tampering after signing). */
  readonly body?: string;
}

/**
 * Signs `params` for `url` the way Twilio does, with the `twilio` library's
 * own `getExpectedTwilioSignature` (never the gateway's code), and encodes
 * them as the form body Twilio posts.
 */
export function signedWebhook(
  authToken: string,
  url: string,
  params: Record<string, string>,
  options: SignOptions = {},
): SignedWebhook {
  const signature =
    options.signature === undefined ? twilio.getExpectedTwilioSignature(authToken, url, params) : options.signature;
  return {
    body: options.body ?? new URLSearchParams(params).toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "TwilioProxy/1.1",
      ...(signature === null ? {} : { "x-twilio-signature": signature }),
    },
  };
}

/** The fields Twilio posts for an incoming message. */
export function inboundParams(fields: {
  accountSid: string;
  messageSid: string;
  from: string;
  to: string;
  body?: string;
  /** Each announced as image/jpeg. */
  mediaUrls?: readonly string[];
  /** After `mediaUrls`, each with its own type. */
  media?: readonly { readonly url: string; readonly contentType: string }[];
}): Record<string, string> {
  const media = [
    ...(fields.mediaUrls ?? []).map((url) => ({ url, contentType: "image/jpeg" })),
    ...(fields.media ?? []),
  ];
  const params: Record<string, string> = {
    ToCountry: "US",
    SmsMessageSid: fields.messageSid,
    NumMedia: String(media.length),
    SmsSid: fields.messageSid,
    SmsStatus: "received",
    Body: fields.body ?? "",
    To: fields.to,
    NumSegments: "1",
    MessageSid: fields.messageSid,
    AccountSid: fields.accountSid,
    From: fields.from,
    ApiVersion: "2010-04-01",
  };
  media.forEach(({ url, contentType }, i) => {
    params[`MediaUrl${i}`] = url;
    params[`MediaContentType${i}`] = contentType;
  });
  return params;
}

/** The fields Twilio posts to a StatusCallback. */
export function statusParams(fields: {
  accountSid: string;
  messageSid: string;
  status: string;
  from?: string;
  to?: string;
  errorCode?: string;
  errorMessage?: string;
}): Record<string, string> {
  return {
    AccountSid: fields.accountSid,
    MessageSid: fields.messageSid,
    SmsSid: fields.messageSid,
    MessageStatus: fields.status,
    SmsStatus: fields.status,
    ApiVersion: "2010-04-01",
    ...(fields.from ? { From: fields.from } : {}),
    ...(fields.to ? { To: fields.to } : {}),
    ...(fields.errorCode ? { ErrorCode: fields.errorCode } : {}),
    ...(fields.errorMessage ? { ErrorMessage: fields.errorMessage } : {}),
  };
}
