import { isValidSessionId } from "../../../domain/session.ts";

/** The port promises keys of at most 512 characters; longer ones are a caller bug. */
export const MAX_KEY_LENGTH = 512;

export function assertSessionId(session: string): void {
  if (!isValidSessionId(session)) throw new Error(`invalid session id ${JSON.stringify(session.slice(0, 80))}`);
}

export function assertKey(key: string): void {
  if (typeof key !== "string" || [...key].length > MAX_KEY_LENGTH) {
    throw new Error(`session store keys are strings of at most ${MAX_KEY_LENGTH} characters`);
  }
}
