import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every line the process wrote to stdout and stderr so far. */
  readonly output: string[];
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a gateway entry point as its own process, the way a user does
 * (node + tsx), on a free port, and waits for its "gateway listening" line.
 */
export async function startGatewayProcess(
  entry: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    // No rate limit unless the test sets one: tests post hundreds of messages at once with one key.
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", RATE_LIMIT_PER_SECOND: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start within ${timeoutMs} ms:\n${output.join("\n")}`)),
      timeoutMs,
    );
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('"gateway listening"')) return;
      const { port } = JSON.parse(line) as { port: number };
      clearTimeout(timer);
      resolve(`http://127.0.0.1:${port}`);
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${output.join("\n")}`));
    });
  });
  return { child, url, output, exited };
}
