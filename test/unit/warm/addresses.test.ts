import { describe, expect, it } from "vitest";
import { createHttpDeps, restrictedAddressKind } from "../../../adapters/http-warm.ts";
import { runWarm } from "../../../runbooks/warm/engine.ts";
import type { WarmServer } from "../../../sandbox/scenarios/http-origin.ts";
import { targetSet, useWarmServer } from "./builders.ts";

/**
 * IPv6 forms that carry an IPv4 address: a DNS answer in one of them must not reach a private,
 * loopback or link-local IPv4 through a translator or tunnel. Embedded values used below:
 * 10.0.0.1 = a00:1, 127.0.0.1 = 7f00:1, 169.254.169.254 = a9fe:a9fe, 8.8.8.8 = 808:808, 93.184.216.34 = 5db8:d822.
 */
describe("restrictedAddressKind: IPv6 forms embedding an IPv4 address", () => {
  it.each([
    // IPv4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2): the socket connects to the IPv4 address itself.
    ["::ffff:a00:1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:808:808", undefined],
    // IPv4-translated ::ffff:0:0:0/96 (RFC 6145, SIIT).
    ["::ffff:0:a00:1", "private"],
    ["::ffff:0:7f00:1", "loopback"],
    ["::ffff:0:808:808", undefined],
    // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): what a DNS64 answers for an IPv4-only site, so a public one is allowed.
    ["64:ff9b::a00:1", "private"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b::808:808", undefined],
    // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215): translated inside the operator's network, refused whatever it embeds.
    ["64:ff9b:1::a00:1", "private"],
    ["64:ff9b:1::808:808", "private"],
    // 6to4 2002::/16 (RFC 3056): the IPv4 of the 6to4 router is in bits 16–47; a public router is an ordinary IPv6 site.
    ["2002:a00:1::1", "private"],
    ["2002:7f00:1:1::1", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["2002:808:808::1", undefined],
    // Teredo 2001::/32 (RFC 4380): server IPv4 in bits 32–63, client IPv4 inverted in bits 96–127; both must be public.
    ["2001:0:a00:1::f7f7:f7f7", "private"], // server 10.0.0.1, client 8.8.8.8
    ["2001:0:808:808::f5ff:fffe", "private"], // server 8.8.8.8, client 10.0.0.1
    ["2001:0:808:808:8000:0:80ff:fffe", "loopback"], // client 127.0.0.1
    ["2001:0:808:808:8000:0:a247:27dd", undefined], // client 93.184.216.34
    // IPv4-compatible ::/96 (RFC 4291 §2.5.5.1, deprecated and no longer routed): refused whatever it embeds.
    ["::a00:1", "private"],
    ["::127.0.0.2", "loopback"],
    ["::808:808", "unspecified, multicast or reserved"],
    // ISATAP interface identifier (RFC 5214): ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d under any prefix.
    ["2600:1f18:1:2:0:5efe:a00:1", "private"],
    ["2600:1f18:1:2:200:5efe:a9fe:a9fe", "link-local"],
    ["2600:1f18:1:2:200:5efe:808:808", undefined],
  ])("%s → %s", (address, kind) => {
    expect(restrictedAddressKind(address)).toBe(kind);
  });

  it.each([
    ["2600:1f18::1", undefined],
    ["2606:4700::1111", undefined],
    ["fd00::1", "private"],
    ["fec0::1", "private"],
    ["fe80::1%eth0", "link-local"],
    ["::", "unspecified, multicast or reserved"],
    ["2001:db8::1", "unspecified, multicast or reserved"],
    ["100::1", "unspecified, multicast or reserved"],
    ["ff02::1", "unspecified, multicast or reserved"],
  ])("plain IPv6 %s → %s", (address, kind) => {
    expect(restrictedAddressKind(address)).toBe(kind);
  });
});

describe("checkHost through runWarm: a hostname answering an embedded private IPv4", () => {
  let server!: WarmServer;
  useWarmServer((s) => (server = s));

  const resolvingTo = (address: string) => {
    const real = createHttpDeps();
    return { ...real, lookup: async () => [{ address, family: 6 as const }] };
  };

  it.each([
    ["64:ff9b::a9fe:a9fe", "link-local address 64:ff9b::a9fe:a9fe (NAT64 of IPv4 169.254.169.254)"],
    ["2002:7f00:1::1", "loopback address 2002:7f00:1::1 (6to4 of IPv4 127.0.0.1)"],
    ["2001:0:808:808::f5ff:fffe", "private address 2001:0:808:808::f5ff:fffe (Teredo client IPv4 10.0.0.1)"],
    ["::ffff:0:a00:1", "private address ::ffff:0:a00:1 (IPv4-translated 10.0.0.1)"],
    ["64:ff9b:1::808:808", "private address 64:ff9b:1::808:808 (local-use NAT64 prefix 64:ff9b:1::/48, RFC 8215: translated inside the operator's network)"],
  ])("refuses %s, naming the embedded IPv4, and sends nothing", async (address, what) => {
    const http = resolvingTo(address);
    const report = await runWarm({
      targets: targetSet({ urls: [`http://warm.test:${server.port}/page/1`], allowPrivate: false }),
      now: Date.now,
      http,
    });
    http.close();
    expect(server.requests).toHaveLength(0);
    expect(report.skippedByKind).toEqual({ "private-address": 1 });
    expect(report.errors).toEqual([`host "warm.test" resolves to ${what}; refused because target set "site" does not set allowPrivate`]);
  });

  it("allows an embedded form of a private address when the target set allows private addresses", async () => {
    const real = createHttpDeps();
    // ::ffff:127.0.0.1 reaches the local server through the pinned lookup.
    const http = { ...real, lookup: async () => [{ address: "::ffff:127.0.0.1", family: 6 as const }] };
    const report = await runWarm({
      targets: targetSet({ urls: [`http://warm.test:${server.port}/page/1`], allowPrivate: true, verify: false }),
      now: Date.now,
      http,
    });
    real.close();
    expect(report.errors).toEqual([]);
    expect(report.first).toMatchObject({ requested: 1, successPct: 100 });
  });
});
