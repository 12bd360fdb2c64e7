import { CheckFailed, type Check } from "../types.ts";

export const twilio: Check = async () => {
  throw new CheckFailed("not written yet");
};
