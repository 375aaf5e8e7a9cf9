import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalizeHost, canonicalizeRouteHost } from "../../../src/proxy/host.js";
import type { CanonicalHost } from "../../../src/proxy/host.js";

function host(value: string): CanonicalHost {
  return { ok: true, host: value };
}

function refused(problem: string): CanonicalHost {
  return { ok: false, problem };
}

describe("canonicalizeHost", () => {
  it.each([
    // DNS names.
    ["example.com", host("example.com")],
    ["Payroll.Internal.EXAMPLE", host("payroll.internal.example")],
    ["example.com:8443", host("example.com")],
    ["example.com.", host("example.com")],
    ["example.com.:443", host("example.com")],
    ["localhost", host("localhost")],
    ["xn--bcher-kva.example", host("xn--bcher-kva.example")],
    ["a-b.c-d.example", host("a-b.c-d.example")],
    ["123.example.com", host("123.example.com")],
    [`${"a".repeat(63)}.example`, host(`${"a".repeat(63)}.example`)],
    [`${"a".repeat(64)}.example`, refused("host name label longer than 63 characters")],
    [`${"abcdefghi.".repeat(25)}abc`, host(`${"abcdefghi.".repeat(25)}abc`)],
    [`${"abcdefghi.".repeat(25)}abcd`, refused("host name longer than 253 characters")],
    ["example.com..", refused("empty label in host name")],
    [".example.com", refused("empty label in host name")],
    ["a..b", refused("empty label in host name")],
    [".", refused("empty host")],
    ["-a.example", refused("host name label starts or ends with a hyphen")],
    ["a-.example", refused("host name label starts or ends with a hyphen")],
    ["under_score.example", refused("underscore in host name")],
    // Ports.
    ["example.com:1", host("example.com")],
    ["example.com:65535", host("example.com")],
    ["example.com:0", refused("invalid port in host")],
    ["example.com:65536", refused("invalid port in host")],
    ["example.com:", refused("invalid port in host")],
    ["example.com:123456", refused("invalid port in host")],
    ["example.com:+80", refused("invalid port in host")],
    ["example.com:80a", refused("invalid port in host")],
    ["example.com: 80", refused("invalid port in host")],
    [":80", refused("empty host")],
    // IPv4: a strict dotted quad only.
    ["127.0.0.1", host("127.0.0.1")],
    ["127.0.0.1:8443", host("127.0.0.1")],
    ["255.255.255.255", host("255.255.255.255")],
    ["0.0.0.0", host("0.0.0.0")],
    ["10.0.0.1.", host("10.0.0.1")],
    ["256.0.0.1", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["127.1", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["2130706433", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["010.0.0.1", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["0x7f.0.0.1", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["example.0x1f", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["1.2.3.4.5", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["example.123", refused("numeric host that is not a dotted-quad IPv4 address")],
    // IPv6: bracketed only, serialized the WHATWG way.
    ["[::1]", host("::1")],
    ["[::1]:8443", host("::1")],
    ["[0:0:0:0:0:0:0:1]", host("::1")],
    ["[2001:DB8::A]", host("2001:db8::a")],
    ["[::ffff:1.2.3.4]", host("::ffff:102:304")],
    ["::1", refused("IPv6 address without brackets")],
    ["[::1", refused("unterminated IPv6 address in host")],
    ["[::1]:", refused("invalid port in host")],
    ["[::1]x", refused("invalid port in host")],
    ["[::1]:0", refused("invalid port in host")],
    ["[fe80::1%25eth0]", refused("IPv6 zone identifier in host")],
    ["[fe80::1%eth0]", refused("IPv6 zone identifier in host")],
    ["[1:2:3:4:5:6:7:8:9]", refused("invalid IPv6 address")],
    ["[::g]", refused("invalid IPv6 address")],
    ["[]", refused("empty IPv6 address")],
    ["[example.com]", refused("invalid IPv6 address")],
    // Everything else.
    [undefined, refused("missing host")],
    ["", refused("missing host")],
    ["user@example.com", refused("userinfo in host")],
    ["user:pass@example.com", refused("invalid port in host")],
    ["evil.example@example.com", refused("userinfo in host")],
    ["example.com ", refused("whitespace in host")],
    [" example.com", refused("whitespace in host")],
    ["exa mple.com", refused("whitespace in host")],
    ["example.com\t", refused("whitespace in host")],
    ["example.com\u0000", refused("control character in host")],
    ["example.com/", refused("path or query in host")],
    ["example.com\\x", refused("path or query in host")],
    ["example.com?", refused("path or query in host")],
    ["example.com#", refused("path or query in host")],
    ["*.example.com", refused("wildcard in host")],
    ["b\u00fccher.example", refused("invalid character in host")],
    ["example.com,other.example", refused("invalid character in host")],
  ] as const)("%j", (input, expected) => {
    expect(canonicalizeHost(input)).toEqual(expected);
  });

  it("is idempotent and lowercase on anything it accepts", () => {
    const hostChar = fc.constantFrom(..."aZ09-._:[]@ *%".split(""));
    const hostLike = fc.oneof(
      fc.string({ unit: hostChar, maxLength: 30 }),
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.domain().map((d) => d.toUpperCase()),
      fc.ipV4().map((a) => `${a}:8443`),
      fc.ipV6().map((a) => `[${a}]`),
    );
    fc.assert(
      fc.property(hostLike, (input) => {
        const result = canonicalizeHost(input);
        if (!result.ok) return;
        expect(result.host).toBe(result.host.toLowerCase());
        const again = canonicalizeHost(
          result.host.includes(":") ? `[${result.host}]` : result.host,
        );
        expect(again).toEqual(result);
        // What verigate routes on is what a URL parser sees.
        const forUrl = result.host.includes(":") ? `[${result.host}]` : result.host;
        const parsed = new URL(`http://${forUrl}/`).hostname;
        expect(parsed).toBe(forUrl);
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts every domain and address fast-check makes", () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        // fast-check's domains may end in a numeric label, which URL parsers read as IPv4.
        const last = domain.split(".").at(-1) ?? "";
        fc.pre(!/^(?:\d+|0x[0-9a-f]*)$/i.test(last));
        expect(canonicalizeHost(`${domain}:443`)).toEqual(host(domain.toLowerCase()));
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(canonicalizeHost(address)).toEqual(host(address));
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const expected = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        expect(canonicalizeHost(`[${address}]:443`)).toEqual(host(expected));
      }),
    );
  });
});

describe("canonicalizeRouteHost", () => {
  it.each([
    ["payroll.internal.example", host("payroll.internal.example")],
    ["Payroll.Internal.Example.", host("payroll.internal.example")],
    ["*.example.com", host("*.example.com")],
    ["*.Example.COM.", host("*.example.com")],
    ["*.internal", host("*.internal")],
    ["10.0.0.1", host("10.0.0.1")],
    ["::1", host("::1")],
    ["[::1]", host("::1")],
    ["[0::1]", host("::1")],
    ["", refused("empty host")],
    ["*", refused('"*" alone is not a host: leave the host out to match any host')],
    ["*.", refused("empty host")],
    ["*example.com", refused('"*" is allowed only as the whole leftmost label ("*.example.com")')],
    [
      "a*.example.com",
      refused('"*" is allowed only as the whole leftmost label ("*.example.com")'),
    ],
    [
      "a.*.example.com",
      refused('"*" is allowed only as the whole leftmost label ("*.example.com")'),
    ],
    [
      "*.*.example.com",
      refused('"*" is allowed only as the whole leftmost label ("*.example.com")'),
    ],
    ["*.10.0.0.1", refused("a wildcard host needs a domain name, not an IP address")],
    ["*.0.1", refused("numeric host that is not a dotted-quad IPv4 address")],
    ["example.com:8443", refused("a route host has no port (routes match any port)")],
    ["[::1]:8443", refused("a route host has no port; IPv6 goes in brackets or bare")],
    ["under_score.example", refused("underscore in host name")],
    ["user@example.com", refused("userinfo in host")],
    [" example.com", refused("whitespace in host")],
  ] as const)("%j", (input, expected) => {
    expect(canonicalizeRouteHost(input)).toEqual(expected);
  });
});
