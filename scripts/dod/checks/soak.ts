import { CheckFailed, type Check } from "../types.ts";

export const soak: Check = async () => {
  throw new CheckFailed("not written yet");
};
