// The baseline the gateway's accept path is compared with: a bare node:http
// handler that reads the body and answers 202 with a small JSON document.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    res.writeHead(202, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "x", status: "queued", bytes: Buffer.concat(chunks).length }));
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
