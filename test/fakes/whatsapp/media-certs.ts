import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The media server's TLS material: its own CA, and a leaf for 127.0.0.1 / localhost signed by it. */
export interface MediaCertificates {
  /** Path of the CA certificate (PEM): what a client trusts to reach the media server. */
  caFile: string;
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

type Material = Omit<MediaCertificates, "caFile">;

let issued: Promise<Material> | undefined;

/**
 * The media server's certificates, with the CA certificate written to
 * `dir/ca.pem`. The CA and its leaf are made once per process (three openssl
 * runs cost ~150 ms, and tests start many simulators); a failed issue is
 * not cached.
 */
export async function createMediaCertificates(dir: string): Promise<MediaCertificates> {
  issued ??= issue().catch((err: unknown) => {
    issued = undefined;
    throw err;
  });
  const material = await issued;
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, material.ca, { mode: 0o644 });
  return { caFile, ...material };
}

/**
 * Makes a CA and a server certificate with the `openssl` CLI (Node cannot
 * issue X.509 certificates itself) in a private temp dir, removed once the
 * PEMs are read back. The CA is a real issuer, not a self-signed leaf, so a
 * client that trusts it checks the chain and the names as it would against
 * WhatsApp's media hosts.
 */
async function issue(): Promise<Material> {
  const dir = await mkdtemp(join(tmpdir(), "wa-sim-ca-"));
  try {
    return await issueIn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function issueIn(dir: string): Promise<Material> {
  const path = (name: string): string => join(dir, name);
  const days = ["-days", "30"];
  await run("openssl", [
    ...["req", "-x509", ...EC_KEY, "-keyout", path("ca.key"), "-out", path("ca.pem"), ...days],
    ...["-subj", "/CN=WhatsApp simulator media CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  await run("openssl", [
    ...["req", "-new", ...EC_KEY, "-keyout", path("server.key"), "-out", path("server.csr")],
    ...["-subj", "/CN=127.0.0.1"],
  ]);
  await writeFile(
    path("server.ext"),
    [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  await run("openssl", [
    ...["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key")],
    ...["-set_serial", `0x${randomBytes(8).toString("hex")}`, ...days, "-extfile", path("server.ext")],
    ...["-out", path("server.pem")],
  ]);
  const [ca, key, cert] = await Promise.all(["ca.pem", "server.key", "server.pem"].map((f) => readFile(path(f))));
  return { ca: ca!, key: key!, cert: cert! };
}
