import { CheckFailed, type Check } from "../types.ts";

export const queue: Check = async () => {
  throw new CheckFailed("not written yet");
};
