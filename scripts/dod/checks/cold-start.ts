import { CheckFailed, type Check } from "../types.ts";

export const coldStart: Check = async () => {
  throw new CheckFailed("not written yet");
};
