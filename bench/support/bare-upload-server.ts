// The baseline POST /media is compared with: a bare node:http handler that
// streams the request body to a file through a SHA-256 (stream.pipeline, so
// the disk's pace holds the socket back) and answers 201 with size and hash.
// No framework, no type detection, no index: what streaming an upload to disk
// costs Node itself. BARE_UPLOAD_DIR: where the files go (one per request,
// removed once answered).
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
// Does nothing unless BENCH_MEMORY_TRACE_FILE is set.
import "./memory-trace.ts";

const dir = process.env.BARE_UPLOAD_DIR!;

const server = createServer((req, res) => {
  const path = join(dir, randomUUID());
  const hash = createHash("sha256");
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  pipeline(req, hashing, createWriteStream(path, { mode: 0o600 }))
    .then(() => {
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ size, sha256: hash.digest("hex") }));
    })
    .catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    })
    .finally(() => void unlink(path).catch(() => undefined));
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
