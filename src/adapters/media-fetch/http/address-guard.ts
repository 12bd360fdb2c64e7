import ipaddr from "ipaddr.js";

/**
 * Why an address or a name is not fetched from. Each range is named so an
 * error can say what was refused ("169.254.169.254 is link-local").
 */
export const RefusedRanges = [
  "invalid",
  "unspecified",
  "loopback",
  "private",
  "link-local",
  "carrier-grade-nat",
  "ietf-protocol",
  "documentation",
  "benchmarking",
  "6to4-relay",
  "multicast",
  "broadcast",
  "reserved",
  "unique-local",
  "site-local",
  "ipv4-compatible",
  "nat64-local",
  "teredo",
  "scoped",
  "not-global-unicast",
  "local-name",
  "metadata-name",
] as const;
export type RefusedRange = (typeof RefusedRanges)[number];

export type AddressVerdict = { readonly public: true } | { readonly public: false; readonly range: RefusedRange };

type Table = readonly (readonly [RefusedRange, readonly string[]])[];

// IANA's IPv4 special-purpose registry, minus what is globally reachable and
// harmless (AS112, AMT). Order matters only for the name an error gives.
const IPV4_REFUSED: Table = [
  ["unspecified", ["0.0.0.0/8"]],
  ["loopback", ["127.0.0.0/8"]],
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]],
  // Includes the cloud metadata address 169.254.169.254 (AWS, GCP, Azure, OpenStack).
  ["link-local", ["169.254.0.0/16"]],
  ["carrier-grade-nat", ["100.64.0.0/10"]],
  ["ietf-protocol", ["192.0.0.0/24"]],
  ["documentation", ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]],
  ["benchmarking", ["198.18.0.0/15"]],
  ["6to4-relay", ["192.88.99.0/24"]],
  ["multicast", ["224.0.0.0/4"]],
  ["broadcast", ["255.255.255.255/32"]],
  ["reserved", ["240.0.0.0/4"]],
];

// IPv6: only global unicast (2000::/3) is ever public; the ranges below are
// named for clearer errors, and the carve-outs of 2000::/3 are refused.
// Ranges that embed an IPv4 address (mapped, NAT64, 6to4) are judged by it.
const IPV6_REFUSED: Table = [
  ["unspecified", ["::/128"]],
  ["loopback", ["::1/128"]],
  // Deprecated by RFC 4291 and never used legitimately; refused whole rather than decoded.
  ["ipv4-compatible", ["::/96"]],
  ["nat64-local", ["64:ff9b:1::/48"]],
  ["link-local", ["fe80::/10"]],
  ["site-local", ["fec0::/10"]],
  // Includes AWS's IPv6 metadata address fd00:ec2::254.
  ["unique-local", ["fc00::/7"]],
  ["multicast", ["ff00::/8"]],
  ["teredo", ["2001::/32"]],
  ["benchmarking", ["2001:2::/48"]],
  ["ietf-protocol", ["2001::/23"]],
  ["documentation", ["2001:db8::/32", "3fff::/20"]],
];

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;
type Compiled = readonly (readonly [RefusedRange, readonly [Parsed, number][]])[];

const compile = (table: Table): Compiled =>
  table.map(([range, cidrs]) => [range, cidrs.map((cidr) => ipaddr.parseCIDR(cidr))] as const);

const IPV4_TABLE = compile(IPV4_REFUSED);
const IPV6_TABLE = compile(IPV6_REFUSED);
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");
const IPV4_MAPPED = ipaddr.IPv6.parseCIDR("::ffff:0:0/96");
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");
const SIXTO4 = ipaddr.IPv6.parseCIDR("2002::/16");

const PUBLIC: AddressVerdict = { public: true };
const refused = (range: RefusedRange): AddressVerdict => ({ public: false, range });

function findRange(address: Parsed, table: Compiled): RefusedRange | undefined {
  for (const [range, cidrs] of table) {
    if (cidrs.some(([network, bits]) => address.kind() === network.kind() && address.match(network, bits))) {
      return range;
    }
  }
  return undefined;
}

function judgeV4(address: ipaddr.IPv4): AddressVerdict {
  const range = findRange(address, IPV4_TABLE);
  return range ? refused(range) : PUBLIC;
}

function judgeV6(address: ipaddr.IPv6): AddressVerdict {
  // A zone id (fe80::1%eth0) pins an interface: never meant for the internet.
  if (address.zoneId) return refused("scoped");
  if (address.match(IPV4_MAPPED)) return judgeV4(address.toIPv4Address());
  const parts = address.parts;
  // The last 32 bits carry the IPv4 address the translator connects to.
  if (address.match(NAT64)) return judgeV4(v4From(parts[6]!, parts[7]!));
  // 2002:AABB:CCDD::/48 is the 6to4 site of IPv4 AA.BB.CC.DD.
  if (address.match(SIXTO4)) return judgeV4(v4From(parts[1]!, parts[2]!));
  const range = findRange(address, IPV6_TABLE);
  if (range) return refused(range);
  return address.match(GLOBAL_UNICAST) ? PUBLIC : refused("not-global-unicast");
}

function v4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * Whether the gateway may connect to `address` (an IPv4 or IPv6 address, as
 * `dns.lookup` or a URL's host gives it; IPv6 with or without brackets).
 * Anything that does not parse as an address is refused as `invalid`.
 * Addresses that embed an IPv4 one (`::ffff:127.0.0.1`, NAT64
 * `64:ff9b::a00:1`, 6to4 `2002:a00:1::`) are judged by the IPv4 address.
 */
export function judgeAddress(address: string): AddressVerdict {
  const parsed = parse(address);
  if (!parsed) return refused("invalid");
  return parsed.kind() === "ipv4" ? judgeV4(parsed as ipaddr.IPv4) : judgeV6(parsed as ipaddr.IPv6);
}

function parse(address: string): Parsed | undefined {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  // Four-part decimal only for IPv4: DNS answers and WHATWG URL hosts are
  // already canonical, so a legacy spelling (127.1, 0x7f.1) here is a bug upstream.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  const v6 = hexTail(bare);
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : undefined;
}

/**
 * `::8.8.8.8` -> `::808:808`. ipaddr.js 2.5 reads any dotted tail as
 * IPv4-mapped (`::ffff:8.8.8.8`), and glibc prints IPv4-compatible
 * addresses that way, so the tail is turned into hex before it parses.
 */
function hexTail(text: string): string {
  const zone = text.indexOf("%");
  const address = zone === -1 ? text : text.slice(0, zone);
  const match = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (!match || !ipaddr.IPv4.isValidFourPartDecimal(match[2]!)) return text;
  const [a, b, c, d] = ipaddr.IPv4.parse(match[2]!).octets as [number, number, number, number];
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return `${match[1]}${hex}${zone === -1 ? "" : text.slice(zone)}`;
}

// Names that resolve to the machine itself or to a cloud's metadata service
// without any DNS record of their own (hosts files, the cloud's resolver).
const LOCAL_NAMES = new Set(["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"]);
const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"]);

/**
 * Whether a DNS name is refused before it is even resolved: `localhost`
 * and `*.localhost` (RFC 6761), and the cloud metadata names. Case and a
 * trailing dot do not matter. A name that passes still has every address it
 * resolves to judged by {@link judgeAddress}.
 */
export function judgeHostname(hostname: string): AddressVerdict {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  if (name === "") return refused("invalid");
  if (LOCAL_NAMES.has(name) || name.endsWith(".localhost")) return refused("local-name");
  if (METADATA_NAMES.has(name)) return refused("metadata-name");
  return PUBLIC;
}

/** The canonical text of an address (`::ffff:7f00:1` and `::ffff:127.0.0.1` alike), or undefined. */
export function canonicalAddress(address: string): string | undefined {
  return parse(address)?.toNormalizedString();
}
