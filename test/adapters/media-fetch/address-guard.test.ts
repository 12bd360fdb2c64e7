import { describe, expect, it } from "vitest";
import {
  canonicalAddress,
  judgeAddress,
  judgeHostname,
  type RefusedRange,
} from "../../../src/adapters/media-fetch/http/address-guard.ts";

// Every range the gateway never fetches from: [address, the range it is refused as].
const refused: readonly (readonly [string, RefusedRange])[] = [
  // IPv4
  ["0.0.0.0", "unspecified"],
  ["0.255.255.255", "unspecified"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.0.1", "private"],
  ["192.168.255.255", "private"],
  ["169.254.169.254", "link-local"],
  ["169.254.0.1", "link-local"],
  ["100.64.0.1", "carrier-grade-nat"],
  ["100.127.255.255", "carrier-grade-nat"],
  ["192.0.0.1", "ietf-protocol"],
  ["192.0.0.170", "ietf-protocol"],
  ["192.0.2.1", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.200", "documentation"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.255", "benchmarking"],
  ["192.88.99.1", "6to4-relay"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["254.255.255.255", "reserved"],
  ["255.255.255.255", "broadcast"],
  // IPv6
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["fe80::1", "link-local"],
  ["febf:ffff::1", "link-local"],
  ["fe80::1%eth0", "scoped"],
  ["fec0::1", "site-local"],
  ["fc00::1", "unique-local"],
  ["fd12:3456:789a::1", "unique-local"],
  ["fd00:ec2::254", "unique-local"], // AWS's IPv6 instance metadata
  ["ff02::1", "multicast"],
  ["ff0e::1", "multicast"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["2001::1", "teredo"],
  ["2001:2::1", "benchmarking"],
  ["2001:10::1", "ietf-protocol"],
  ["100::1", "not-global-unicast"], // discard-only
  ["4000::1", "not-global-unicast"],
  ["::ffff:0:0:1", "not-global-unicast"], // IPv4-translated (RFC 6145)
  // IPv4 inside IPv6: judged by the IPv4 address
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["[::ffff:127.0.0.1]", "loopback"],
  ["0:0:0:0:0:ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:169.254.169.254", "link-local"],
  ["::ffff:0.0.0.0", "unspecified"],
  ["::127.0.0.1", "ipv4-compatible"],
  ["::8.8.8.8", "ipv4-compatible"], // glibc's spelling of ::808:808, which ipaddr.js alone reads as mapped
  ["::808:808", "ipv4-compatible"],
  ["::ffff:127.0.0.1%eth0", "scoped"],
  ["64:ff9b::7f00:1", "loopback"], // NAT64 of 127.0.0.1
  ["64:ff9b::10.0.0.1", "private"],
  ["64:ff9b::a9fe:a9fe", "link-local"], // NAT64 of 169.254.169.254
  ["64:ff9b:1::808:808", "nat64-local"],
  ["2002:7f00:1::1", "loopback"], // 6to4 of 127.0.0.1
  ["2002:c0a8:101::1", "private"], // 6to4 of 192.168.1.1
  ["2002:a9fe:a9fe::", "link-local"], // 6to4 of 169.254.169.254
  // Not an address at all
  ["", "invalid"],
  ["localhost", "invalid"],
  ["example.com", "invalid"],
  ["256.0.0.1", "invalid"],
  // Legacy IPv4 spellings never reach the guard (WHATWG URL and DNS give four parts): refused if they do.
  ["127.1", "invalid"],
  ["2130706433", "invalid"],
  ["0x7f000001", "invalid"],
  ["017700000001", "invalid"],
];

const allowed: readonly string[] = [
  "8.8.8.8",
  "1.1.1.1",
  "93.184.216.34",
  "100.63.255.255", // just below CGNAT
  "100.128.0.0", // just above
  "172.15.255.255", // just below 172.16/12
  "172.32.0.0", // just above
  "169.253.255.255",
  "192.0.1.1",
  "198.17.255.255",
  "198.20.0.0",
  "223.255.255.255",
  "2001:4860:4860::8888",
  "2606:4700:4700::1111",
  "2a00:1450:4001::1",
  "::ffff:8.8.8.8",
  "64:ff9b::808:808", // NAT64 of 8.8.8.8
  "2002:808:808::1", // 6to4 of 8.8.8.8
  "[2001:4860:4860::8888]",
];

describe("judgeAddress", () => {
  it.each(refused)("refuses %s as %s", (address, range) => {
    expect(judgeAddress(address)).toEqual({ public: false, range });
  });

  it.each(allowed)("allows the public address %s", (address) => {
    expect(judgeAddress(address)).toEqual({ public: true });
  });
});

describe("judgeHostname", () => {
  it.each([
    ["localhost", "local-name"],
    ["LOCALHOST", "local-name"],
    ["LOCALHOST.", "local-name"],
    ["localhost..", "local-name"],
    ["app.localhost", "local-name"],
    ["localhost.localdomain", "local-name"],
    ["ip6-localhost", "local-name"],
    ["metadata", "metadata-name"],
    ["metadata.google.internal", "metadata-name"],
    ["Metadata.Google.Internal.", "metadata-name"],
    ["instance-data", "metadata-name"],
    ["instance-data.ec2.internal", "metadata-name"],
    [".", "invalid"],
  ] as const)("refuses %s as %s", (name, range) => {
    expect(judgeHostname(name)).toEqual({ public: false, range });
  });

  it.each(["example.com", "media.example.org", "127.0.0.1.nip.io", "localhost.example.com", "metadata.example.com"])(
    "leaves %s to the check of the addresses it resolves to",
    (name) => {
      expect(judgeHostname(name)).toEqual({ public: true });
    },
  );
});

describe("canonicalAddress", () => {
  it("gives one spelling per address", () => {
    expect(canonicalAddress("::ffff:7f00:1")).toBe(canonicalAddress("::ffff:127.0.0.1"));
    expect(canonicalAddress("[::1]")).toBe(canonicalAddress("0:0:0:0:0:0:0:1"));
    expect(canonicalAddress("127.0.0.1")).toBe("127.0.0.1");
    expect(canonicalAddress("example.com")).toBeUndefined();
  });
});
