import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";

export interface SimProcess {
  readonly child: ChildProcess;
  readonly ws: string;
  readonly control: string;
  /** The certificate of the simulator's media CA (for WA_MEDIA_CA_FILE); undefined from a simulator without media. */
  readonly caFile: string | undefined;
  /** JSON call to the control API; throws on a non-2xx answer. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the WhatsApp Web simulator as its own process (`npm run sim`), as the DoD runner and demo do. */
export async function startSimProcess(): Promise<SimProcess> {
  const cli = join(import.meta.dirname, "../fakes/whatsapp/cli.ts");
  const child = spawn(process.execPath, ["--import", "tsx", cli], { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.resume();
  const { ws, control, caFile } = await new Promise<{ ws: string; control: string; caFile?: string }>(
    (resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
      createInterface({ input: child.stdout! }).once("line", (line) =>
        resolve(JSON.parse(line) as { ws: string; control: string; caFile?: string }),
      );
    },
  );
  return {
    child,
    ws,
    control,
    caFile,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${control}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`simulator ${method} ${path} -> ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}
