import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { tempDir } from "../../support/temp-dir.ts";

/** A test server on 127.0.0.1 that counts the connections and requests reaching it. */
export interface LocalServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` (or https). */
  readonly origin: string;
  /** `127.0.0.1:<port>`, as `allowAddresses` takes it. */
  readonly endpoint: string;
  connections(): number;
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

const open: Server[] = [];

/** Closes every server started since the last call (afterEach). */
export async function closeServers(): Promise<void> {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function listen(server: Server, scheme: "http" | "https", handler: RequestListener): Promise<LocalServer> {
  let connections = 0;
  const requests: IncomingMessage[] = [];
  // TLS servers count the TCP connection too ("connection" fires before the handshake).
  server.on("connection", () => connections++);
  server.on("request", (req: IncomingMessage, res) => {
    requests.push(req);
    handler(req, res);
  });
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${scheme}://127.0.0.1:${port}`,
    endpoint: `127.0.0.1:${port}`,
    connections: () => connections,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function serveHttp(handler: RequestListener): Promise<LocalServer> {
  return listen(createHttpServer(), "http", handler);
}

/** A certificate for 127.0.0.1, self-signed: the fetcher under test is given it as its `ca`. */
export interface TestCertificate {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await tempDir("media-fetch-tls-");
  try {
    const key = join(dir.path, "key.pem");
    const cert = join(dir.path, "cert.pem");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
        ...["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    await dir.remove();
  }
}

export function serveHttps(certificate: TestCertificate, handler: RequestListener): Promise<LocalServer> {
  return listen(createHttpsServer({ key: certificate.key, cert: certificate.cert }), "https", handler);
}
