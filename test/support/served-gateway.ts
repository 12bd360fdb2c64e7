import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { InProcessGateway } from "./in-process-gateway.ts";

/** Serves an in-process gateway's app over real HTTP on a free loopback port, for a browser. */
export async function serveOverHttp(gw: InProcessGateway): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: gw.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Open event streams would hold close() until they end.
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
