/** An error answer in Twilio's REST format: `{code, message, more_info, status}`. */
export interface TwilioErrorBody {
  readonly code: number;
  readonly message: string;
  readonly more_info: string;
  readonly status: number;
}

export function twilioError(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** Twilio's wording for the errors the fake raises by itself or is most often scripted with. */
export const knownErrors: Readonly<Record<number, { status: number; message: string }>> = {
  20003: { status: 401, message: "Authenticate" },
  20404: { status: 404, message: "The requested resource was not found" },
  20429: { status: 429, message: "Too Many Requests" },
  20500: { status: 500, message: "Internal Server Error" },
  20503: { status: 503, message: "Service Unavailable" },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21408: {
    status: 400,
    message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  },
  21602: { status: 400, message: "Message body is required." },
  21603: { status: 400, message: "A 'From' phone number is required." },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21610: { status: 400, message: "Attempt to send to unsubscribed recipient" },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
  63016: { status: 400, message: "Failed to send freeform message because you are outside the allowed window." },
};

/** The error body for a known code, or a generic one with the given status. */
export function errorFor(code: number | undefined, status: number | undefined, message?: string): TwilioErrorBody {
  const known = code === undefined ? undefined : knownErrors[code];
  const finalStatus = status ?? known?.status ?? 400;
  const finalCode = code ?? (finalStatus === 429 ? 20429 : finalStatus >= 500 ? 20500 : 21211);
  return twilioError(
    finalStatus,
    finalCode,
    message ?? known?.message ?? knownErrors[finalCode]?.message ?? `error ${finalCode}`,
  );
}
