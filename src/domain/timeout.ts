/**
 * Settles like `work`, or rejects with `onTimeout()` once `ms` have passed
 * first. The timer never keeps the process alive and is cleared as soon as
 * `work` settles. A late rejection of `work` is swallowed: nobody awaits it
 * any more, and an unhandled rejection would crash the process.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    (timer as { unref?: () => void }).unref?.();
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
