import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  HttpMediaFetcher,
  type HttpMediaFetcherOptions,
  type ResolvedAddress,
} from "../../../src/adapters/media-fetch/http/http.media-fetcher.ts";
import { MediaFetchError, type FetchedMedia } from "../../../src/domain/ports/media-fetcher.port.ts";
import { closeServers, makeCertificate, serveHttp, serveHttps } from "./local-servers.ts";

// Every connection these tests make goes to a server of their own on 127.0.0.1.
// Private, link-local and metadata addresses are only ever handed to the
// fetcher by an injected resolver, and the fetcher must refuse them before
// connecting: nothing here lets a socket reach them.

afterEach(closeServers);

const MB = 1024 * 1024;

/** A resolver that knows only the given names and counts its calls. */
function fakeDns(names: Record<string, string | readonly string[]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    calls.push(hostname);
    const answer = names[hostname];
    if (answer === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return (typeof answer === "string" ? [answer] : answer).map((address) => ({
      address,
      family: address.includes(":") ? 6 : 4,
    }));
  };
  return { resolve, calls };
}

async function failure(work: Promise<unknown>): Promise<MediaFetchError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(MediaFetchError);
    return error as MediaFetchError;
  }
  throw new Error("expected the fetch to fail");
}

async function readAll(media: FetchedMedia): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of media.stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const closed = (res: ServerResponse): Promise<void> => new Promise((resolve) => res.once("close", () => resolve()));

function fetcher(options: HttpMediaFetcherOptions = {}): HttpMediaFetcher {
  // A resolver that fails loudly: no test reaches the system's DNS by accident.
  return new HttpMediaFetcher({ resolve: fakeDns({}).resolve, ...options });
}

describe("HttpMediaFetcher: fetching", () => {
  it("streams the body of an allowed server with its type, length and file name", async () => {
    const body = randomBytes(300_000);
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": body.length }).end(body);
    });
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(
      `${server.origin}/photos/cat%20one.jpg?x=1`,
      {
        maxBytes: MB,
      },
    );
    expect(media.contentType).toBe("image/jpeg");
    expect(media.contentLength).toBe(body.length);
    expect(media.filename).toBe("cat one.jpg");
    expect(media.finalUrl).toBe(`${server.origin}/photos/cat%20one.jpg?x=1`);
    expect((await readAll(media)).equals(body)).toBe(true);
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("names the file from Content-Disposition and accepts a body of exactly maxBytes without Content-Length", async () => {
    const body = randomBytes(1000);
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-disposition": `attachment; filename*=UTF-8''facture%20n%C2%B01.pdf` });
      res.end(body);
    });
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/download`, {
      maxBytes: 1000,
    });
    expect(media.filename).toBe("facture n°1.pdf");
    expect(media.contentLength).toBeUndefined();
    expect((await readAll(media)).equals(body)).toBe(true);
  });

  it("connects to the address a name was checked at, sending the name as Host", async () => {
    const server = await serveHttp((_req, res) => res.end("ok"));
    const dns = fakeDns({ "media.test": "127.0.0.1" });
    const media = await fetcher({ allowAddresses: [server.endpoint], resolve: dns.resolve }).fetch(
      `http://media.test:${server.port}/a.txt`,
      { maxBytes: 100 },
    );
    expect((await readAll(media)).toString()).toBe("ok");
    expect(server.requests[0]?.headers.host).toBe(`media.test:${server.port}`);
    expect(dns.calls).toEqual(["media.test"]);
  });

  it("fetches over https from a server whose certificate it trusts", async () => {
    const certificate = await makeCertificate();
    const server = await serveHttps(certificate, (_req, res) => res.end("secure"));
    const media = await fetcher({ allowAddresses: [server.endpoint], ca: certificate.cert }).fetch(
      `${server.origin}/s.txt`,
      { maxBytes: 100 },
    );
    expect((await readAll(media)).toString()).toBe("secure");
  });

  it("with allowPrivate (MEDIA_FETCH_ALLOW_PRIVATE) fetches from loopback without any allowance", async () => {
    const server = await serveHttp((_req, res) => res.end("lifted"));
    const media = await fetcher({ allowPrivate: true }).fetch(`${server.origin}/`, { maxBytes: 100 });
    expect((await readAll(media)).toString()).toBe("lifted");
  });
});

describe("HttpMediaFetcher: loopback in every spelling", () => {
  const spellings = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "017700000001",
    "0177.0.0.1",
    "127.0.0.1.",
    "127.0.0.2",
    "0.0.0.0",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "localhost",
    "LOCALHOST.",
    "LocalHost",
    "app.localhost",
  ];

  it.each(spellings)("refuses http://%s:<port> and no connection reaches the server", async (host) => {
    const server = await serveHttp((_req, res) => res.end("must not be served"));
    const other = await serveHttp((_req, res) => res.end());
    const dns = fakeDns({});
    // Allowed: another port of the same address, which must not open this one.
    const subject = fetcher({ allowAddresses: [other.endpoint], resolve: dns.resolve });
    const url = `http://${host}:${server.port}/x.jpg`;
    const fetched = await failure(subject.fetch(url, { maxBytes: MB }));
    expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(fetched.retryable).toBe(false);
    expect((await failure(subject.check(url))).code).toBe("MEDIA.URL_FORBIDDEN");
    expect(server.connections()).toBe(0);
    // Refused by name or by address: never looked up.
    expect(dns.calls).toEqual([]);
  });
});

describe("HttpMediaFetcher: translated IPv4 inside IPv6", () => {
  // Only checked, never fetched: were the check broken, a connection to these would leave the machine.
  it.each(["[64:ff9b::127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::1]", "[2002:a00:1::1]"])(
    "check refuses %s",
    async (host) => {
      expect((await failure(fetcher().check(`http://${host}/x.jpg`))).code).toBe("MEDIA.URL_FORBIDDEN");
    },
  );
});

describe("HttpMediaFetcher: names that resolve where the gateway must not go", () => {
  const hostile = {
    "private.test": "10.0.0.1",
    "private172.test": "172.16.5.4",
    "private192.test": "192.168.1.1",
    "metadata.test": "169.254.169.254",
    "cgnat.test": "100.64.0.1",
    "ula.test": "fd00:ec2::254",
    "mapped.test": "::ffff:10.0.0.1",
  };

  // `check` resolves and judges without ever connecting: the hostile address can be the only answer.
  it.each(Object.entries(hostile))("check refuses %s (%s) without connecting", async (name, address) => {
    const dns = fakeDns({ [name]: address });
    const checked = await failure(fetcher({ resolve: dns.resolve }).check(`http://${name}/media.jpg`));
    expect(checked.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(checked.message).toContain(address);
    expect(dns.calls).toEqual([name]);
  });

  // `fetch` does connect once the lookup passes. So the hostile address comes second, after an
  // allowed local server's: a fetcher that let the name through would reach that server (and
  // fail the test), never the hostile address. One bad address must refuse the whole name.
  it.each(Object.entries(hostile))("fetch refuses %s (%s) at its lookup, connecting nowhere", async (name, address) => {
    const server = await serveHttp((_req, res) => res.end("must not be served"));
    const dns = fakeDns({ [name]: ["127.0.0.1", address] });
    const subject = fetcher({ allowAddresses: [server.endpoint], resolve: dns.resolve });
    const fetched = await failure(subject.fetch(`http://${name}:${server.port}/media.jpg`, { maxBytes: MB }));
    expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(fetched.message).toContain(`${name} resolves to ${address}`);
    expect(dns.calls).toEqual([name]);
    expect(server.connections()).toBe(0);
  });

  it("check refuses a name when any one of its addresses is not public", async () => {
    const dns = fakeDns({ "mixed.test": ["8.8.8.8", "2001:4860:4860::8888", "10.0.0.1"] });
    const checked = await failure(fetcher({ resolve: dns.resolve }).check("https://mixed.test/a.jpg"));
    expect(checked.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(checked.message).toContain("10.0.0.1");
  });

  it("refuses a name resolving to loopback (127.0.0.1.nip.io) with no connection reaching the server there", async () => {
    const server = await serveHttp((_req, res) => res.end("must not be served"));
    const subject = fetcher({ resolve: fakeDns({ "127.0.0.1.nip.io": "127.0.0.1" }).resolve });
    const url = `http://127.0.0.1.nip.io:${server.port}/`;
    expect((await failure(subject.fetch(url, { maxBytes: MB }))).code).toBe("MEDIA.URL_FORBIDDEN");
    expect((await failure(subject.check(url))).code).toBe("MEDIA.URL_FORBIDDEN");
    expect(server.connections()).toBe(0);
  });

  it.each(["metadata.google.internal", "metadata", "instance-data", "METADATA.GOOGLE.INTERNAL."])(
    "refuses the metadata name %s without even resolving it",
    async (name) => {
      // Resolving to an allowed local server: only the name itself can make this fail.
      const server = await serveHttp((_req, res) => res.end("must not be served"));
      const names = fakeDns({ [name]: "127.0.0.1" });
      const subject = fetcher({ allowAddresses: [server.endpoint], resolve: names.resolve });
      const url = `http://${name}:${server.port}/computeMetadata/v1/`;
      expect((await failure(subject.fetch(url, { maxBytes: MB }))).code).toBe("MEDIA.URL_FORBIDDEN");
      expect((await failure(subject.check(url))).code).toBe("MEDIA.URL_FORBIDDEN");
      expect(names.calls).toEqual([]);
      expect(server.connections()).toBe(0);
    },
  );

  it("checks again when connecting: a name that rebinds to loopback after the check is refused", async () => {
    const server = await serveHttp((_req, res) => res.end("must not be served"));
    let calls = 0;
    // First answer public (the check does not connect), every later one loopback.
    const resolve = async (): Promise<readonly ResolvedAddress[]> => [
      { address: calls++ === 0 ? "8.8.8.8" : "127.0.0.1", family: 4 },
    ];
    const subject = fetcher({ resolve });
    const url = `http://rebind.test:${server.port}/`;
    await subject.check(url);
    expect((await failure(subject.fetch(url, { maxBytes: MB }))).code).toBe("MEDIA.URL_FORBIDDEN");
    expect(calls).toBe(2);
    expect(server.connections()).toBe(0);
  });

  it("fails retryably when the name does not resolve", async () => {
    const fetched = await failure(fetcher().fetch("http://unknown.test/a.jpg", { maxBytes: MB }));
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(true);
    expect((await failure(fetcher().check("http://unknown.test/a.jpg"))).code).toBe("MEDIA.FETCH_FAILED");
  });
});

describe("HttpMediaFetcher: redirects", () => {
  it("refuses a redirect from an allowed server to a loopback port that is not allowed", async () => {
    const forbidden = await serveHttp((_req, res) => res.end("must not be served"));
    const allowed = await serveHttp((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${forbidden.port}/secret` }).end();
    });
    const fetched = await failure(
      fetcher({ allowAddresses: [allowed.endpoint] }).fetch(`${allowed.origin}/start`, { maxBytes: MB }),
    );
    expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(allowed.requests).toHaveLength(1);
    expect(forbidden.connections()).toBe(0);
  });

  it("refuses a redirect to a name that resolves to the metadata address", async () => {
    const allowed = await serveHttp((_req, res) => {
      res.writeHead(301, { location: `http://sneaky.test:${allowed.port}/latest/meta-data/` }).end();
    });
    // After the allowed server's own address, so a fetcher that let it through would stay on this machine.
    const dns = fakeDns({ "sneaky.test": ["127.0.0.1", "169.254.169.254"] });
    const fetched = await failure(
      fetcher({ allowAddresses: [allowed.endpoint], resolve: dns.resolve }).fetch(`${allowed.origin}/`, {
        maxBytes: MB,
      }),
    );
    expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(dns.calls).toEqual(["sneaky.test"]);
    expect(allowed.requests).toHaveLength(1);
  });

  /** `/hops/N` redirects to `/hops/N-1` (relative Location) until `/hops/0`. */
  async function chain() {
    return serveHttp((req, res) => {
      const left = Number(/^\/hops\/(\d+)/.exec(req.url ?? "")?.[1] ?? 0);
      if (left === 0) res.end("arrived");
      else res.writeHead(307, { location: `/hops/${left - 1}` }).end();
    });
  }

  it("follows 3 redirects", async () => {
    const server = await chain();
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/hops/3`, {
      maxBytes: MB,
    });
    expect((await readAll(media)).toString()).toBe("arrived");
    expect(media.finalUrl).toBe(`${server.origin}/hops/0`);
  });

  it("refuses a 4th redirect, without following it", async () => {
    const server = await chain();
    const fetched = await failure(
      fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/hops/4`, { maxBytes: MB }),
    );
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(false);
    expect(server.requests.map((r) => r.url)).toEqual(["/hops/4", "/hops/3", "/hops/2", "/hops/1"]);
  });

  it("refuses a redirect from https to http", async () => {
    const certificate = await makeCertificate();
    const plain = await serveHttp((_req, res) => res.end("downgraded"));
    const secure = await serveHttps(certificate, (_req, res) => {
      res.writeHead(302, { location: `${plain.origin}/file.jpg` }).end();
    });
    const fetched = await failure(
      fetcher({ allowAddresses: [secure.endpoint, plain.endpoint], ca: certificate.cert }).fetch(
        `${secure.origin}/file.jpg`,
        { maxBytes: MB },
      ),
    );
    expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    expect(fetched.message).toContain("https to http");
    expect(secure.requests).toHaveLength(1);
    expect(plain.connections()).toBe(0);
  });

  it.each(["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/plain,hi", "http://user:pw@unknown.test/"])(
    "refuses a redirect to %s",
    async (location) => {
      const server = await serveHttp((_req, res) => res.writeHead(302, { location }).end());
      const fetched = await failure(
        fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/`, { maxBytes: MB }),
      );
      expect(fetched.code).toBe("MEDIA.URL_FORBIDDEN");
    },
  );

  it("fails without retry on a redirect with no Location", async () => {
    const server = await serveHttp((_req, res) => res.writeHead(302).end());
    const fetched = await failure(
      fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/`, { maxBytes: MB }),
    );
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(false);
  });
});

describe("HttpMediaFetcher: URLs it never fetches", () => {
  it.each([
    "file:///etc/passwd",
    "ftp://example.com/a.jpg",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "http://user:secret@example.com/a.jpg",
    "not a url",
  ])("refuses %s as MEDIA.URL_INVALID", async (url) => {
    const subject = fetcher();
    expect((await failure(subject.fetch(url, { maxBytes: MB }))).code).toBe("MEDIA.URL_INVALID");
    expect((await failure(subject.check(url))).code).toBe("MEDIA.URL_INVALID");
  });
});

describe("HttpMediaFetcher: error answers", () => {
  it.each([
    [404, false],
    [403, false],
    [410, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ] as const)("fails on %i with retryable %s", async (status, retryable) => {
    const server = await serveHttp((_req, res) => res.writeHead(status).end("nope"));
    const fetched = await failure(
      fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/a.jpg`, { maxBytes: MB }),
    );
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(retryable);
    expect(fetched.status).toBe(status);
  });

  it("fails retryably when the connection is refused", async () => {
    const server = await serveHttp((_req, res) => res.end());
    const endpoint = server.endpoint;
    const url = `${server.origin}/`;
    await server.close();
    const fetched = await failure(fetcher({ allowAddresses: [endpoint] }).fetch(url, { maxBytes: MB }));
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(true);
  });
});

describe("HttpMediaFetcher: timeouts", () => {
  it("gives up retryably on a server that never answers", async () => {
    const server = await serveHttp(() => undefined);
    const fetched = await failure(
      fetcher({ allowAddresses: [server.endpoint], connectTimeoutMs: 200 }).fetch(`${server.origin}/`, {
        maxBytes: MB,
      }),
    );
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(true);
    expect(fetched.message).toContain("no response");
  });

  it("gives up retryably on a body that stalls", async () => {
    const server = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-length": 1000 });
      res.write(Buffer.alloc(100));
    });
    const media = await fetcher({ allowAddresses: [server.endpoint], idleTimeoutMs: 200 }).fetch(`${server.origin}/`, {
      maxBytes: MB,
    });
    const fetched = await failure(readAll(media));
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(true);
  });

  it("gives up retryably on a body that trickles past the total time", async () => {
    const server = await serveHttp((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x"), 20);
      res.once("close", () => clearInterval(timer));
    });
    const media = await fetcher({
      allowAddresses: [server.endpoint],
      idleTimeoutMs: 5000,
      totalTimeoutMs: 300,
    }).fetch(`${server.origin}/`, { maxBytes: MB });
    const fetched = await failure(readAll(media));
    expect(fetched.code).toBe("MEDIA.FETCH_FAILED");
    expect(fetched.retryable).toBe(true);
  });
});

describe("HttpMediaFetcher: size", () => {
  it("refuses an announced Content-Length over maxBytes before reading any body, and closes the connection", async () => {
    let serverSide: Promise<void> | undefined;
    const server = await serveHttp((_req, res) => {
      serverSide = closed(res);
      // Headers only: a fetcher that waited for the body would hang here.
      res.writeHead(200, { "content-type": "video/mp4", "content-length": 50 * MB }).flushHeaders();
    });
    const fetched = await failure(
      fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/big.mp4`, { maxBytes: 16 * MB }),
    );
    expect(fetched.code).toBe("MEDIA.TOO_LARGE");
    await serverSide;
  });

  it("without Content-Length, counts while streaming and cuts the connection past maxBytes", async () => {
    let written = 0;
    let serverSide: Promise<void> | undefined;
    const server = await serveHttp((_req, res) => {
      serverSide = closed(res);
      res.writeHead(200, { "content-type": "application/pdf" });
      const chunk = Buffer.alloc(16 * 1024);
      const pump = (): void => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/endless.pdf`, {
      maxBytes: 100_000,
    });
    const fetched = await failure(readAll(media));
    expect(fetched.code).toBe("MEDIA.TOO_LARGE");
    await serverSide;
    // The server would write forever: it got past the limit, and only the connection going stopped it.
    expect(written).toBeGreaterThan(100_000);
  });

  it("closes the connection when the reader stops early", async () => {
    let serverSide: Promise<void> | undefined;
    const server = await serveHttp((_req, res) => {
      serverSide = closed(res);
      res.writeHead(200);
      res.write(Buffer.alloc(1000));
    });
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/`, { maxBytes: MB });
    for await (const chunk of media.stream) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await serverSide;
  });
});

describe("HttpMediaFetcher: credentials", () => {
  const credentials = { username: "AC123", password: "token" };
  const basic = `Basic ${Buffer.from("AC123:token").toString("base64")}`;

  it("sends Basic credentials to the first host, and again after a redirect on the same origin", async () => {
    const server = await serveHttp((req, res) => {
      if (req.url === "/first") res.writeHead(302, { location: "/second" }).end();
      else res.end("media");
    });
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/first`, {
      maxBytes: MB,
      credentials,
    });
    await readAll(media);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([basic, basic]);
  });

  it("never sends them after a redirect to another port", async () => {
    const storage = await serveHttp((_req, res) => res.end("media"));
    const api = await serveHttp((_req, res) => res.writeHead(307, { location: `${storage.origin}/blob` }).end());
    const media = await fetcher({ allowAddresses: [api.endpoint, storage.endpoint] }).fetch(`${api.origin}/Media/ME1`, {
      maxBytes: MB,
      credentials,
    });
    expect((await readAll(media)).toString()).toBe("media");
    expect(api.requests[0]?.headers.authorization).toBe(basic);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    expect(storage.requests[0]?.headers.cookie).toBeUndefined();
  });

  it("never sends them after a redirect to another host on the same port", async () => {
    const server = await serveHttp((req, res) => {
      if (req.url === "/first") res.writeHead(302, { location: `http://cdn.test:${server.port}/blob` }).end();
      else res.end("media");
    });
    const dns = fakeDns({ "api.test": "127.0.0.1", "cdn.test": "127.0.0.1" });
    const media = await fetcher({ allowAddresses: [server.endpoint], resolve: dns.resolve }).fetch(
      `http://api.test:${server.port}/first`,
      { maxBytes: MB, credentials },
    );
    await readAll(media);
    expect(server.requests.map((r) => [r.headers.host, r.headers.authorization])).toEqual([
      [`api.test:${server.port}`, basic],
      [`cdn.test:${server.port}`, undefined],
    ]);
  });
});

describe("HttpMediaFetcher: abort", () => {
  it("rejects with the signal's reason and closes the connection", async () => {
    let serverSide: Promise<void> | undefined;
    const server = await serveHttp((_req, res) => {
      serverSide = closed(res);
      res.writeHead(200);
      res.write("partial");
    });
    const controller = new AbortController();
    const media = await fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/`, {
      maxBytes: MB,
      signal: controller.signal,
    });
    const reading = readAll(media);
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(reading).rejects.toBe(reason);
    await serverSide;
  });

  it("rejects at once with an aborted signal, without connecting", async () => {
    const server = await serveHttp((_req, res) => res.end());
    const reason = new Error("already");
    await expect(
      fetcher({ allowAddresses: [server.endpoint] }).fetch(`${server.origin}/`, {
        maxBytes: MB,
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(server.connections()).toBe(0);
  });
});

describe("HttpMediaFetcher: options", () => {
  it("refuses an allowAddresses entry that is not ip:port", () => {
    expect(() => new HttpMediaFetcher({ allowAddresses: ["localhost:80"] })).toThrow(/ip:port/);
    expect(() => new HttpMediaFetcher({ allowAddresses: ["127.0.0.1"] })).toThrow(/ip:port/);
  });
});
