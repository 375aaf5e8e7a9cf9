/**
 * The one canonical form of a request's host, for route selection and the policy's
 * `request.host`. Anything a DNS name, an IPv4 address or a bracketed IPv6 address
 * cannot be is refused rather than guessed at, so that verigate and the upstream (and
 * any URL parser between them) agree on which host a request names.
 *
 * @module
 */

/** The result of {@link canonicalizeHost} and {@link canonicalizeRouteHost}. */
export type CanonicalHost =
  { readonly ok: true; readonly host: string } | { readonly ok: false; readonly problem: string };

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

const DOT = 0x2e;
const HYPHEN = 0x2d;

function fail(problem: string): { readonly ok: false; readonly problem: string } {
  return { ok: false, problem };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isAllDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/**
 * A last label that WHATWG URL parsers read as a number (`1`, `0x7f`, `0x`) makes them
 * treat the whole host as an IPv4 address in their lenient syntax (`127.1`,
 * `0x7f.0.0.1`). Such a host must then be a strict dotted quad, or it is refused.
 * Looks at the label from `start` to the end of `text`.
 */
function isNumericLabel(text: string, start: number): boolean {
  if (start >= text.length) return false;
  const isHex = text.charCodeAt(start) === 0x30 && (text.charCodeAt(start + 1) | 0x20) === 0x78;
  for (let i = isHex ? start + 2 : start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!(isHex ? isHexDigit(c) : isDigit(c))) return false;
  }
  return true;
}

/** Strict dotted-quad IPv4: four decimal octets 0-255 without leading zeros (no octal doubt). */
function isStrictIpv4(labels: readonly string[]): boolean {
  if (labels.length !== 4) return false;
  for (const label of labels) {
    if (!isAllDigits(label) || label.length > 3) return false;
    if (label.length > 1 && label.charCodeAt(0) === 0x30) return false;
    if (Number(label) > 255) return false;
  }
  return true;
}

function problemForHostCharacter(c: number): string {
  if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c) {
    return "whitespace in host";
  }
  if (c === 0x40) return "userinfo in host";
  if (c === 0x5f) return "underscore in host name";
  if (c === 0x2a) return "wildcard in host";
  if (c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23) return "path or query in host";
  if (c < 0x20 || c === 0x7f) return "control character in host";
  return "invalid character in host";
}

type NameResult =
  | { readonly ok: true; readonly host: string; readonly isIpv4: boolean }
  | { readonly ok: false; readonly problem: string };

/**
 * Canonicalizes a DNS name or IPv4 address (no port, no brackets): ASCII letters,
 * digits, `-` and `.` only, lowercased, one trailing dot removed.
 */
function canonicalizeName(name: string): NameResult {
  let hasUpper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) hasUpper = true;
    else if (!(isDigit(c) || (c >= 0x61 && c <= 0x7a) || c === HYPHEN || c === DOT)) {
      return fail(problemForHostCharacter(c));
    }
  }
  // One trailing dot names the same (fully qualified) host; only ASCII remains here, so
  // lowercasing cannot change the length.
  const bare = name.charCodeAt(name.length - 1) === DOT ? name.slice(0, -1) : name;
  const host = hasUpper ? bare.toLowerCase() : bare;
  if (host.length === 0) return fail("empty host");
  if (host.length > MAX_NAME_LENGTH) return fail("host name longer than 253 characters");

  // Labels are checked in place: this runs on every request.
  if (isNumericLabel(host, host.lastIndexOf(".") + 1)) {
    return isStrictIpv4(host.split("."))
      ? { ok: true, host, isIpv4: true }
      : fail("numeric host that is not a dotted-quad IPv4 address");
  }
  let labelStart = 0;
  for (let i = 0; i <= host.length; i++) {
    if (i < host.length && host.charCodeAt(i) !== DOT) continue;
    const length = i - labelStart;
    if (length === 0) return fail("empty label in host name");
    if (length > MAX_LABEL_LENGTH) return fail("host name label longer than 63 characters");
    if (host.charCodeAt(labelStart) === HYPHEN || host.charCodeAt(i - 1) === HYPHEN) {
      return fail("host name label starts or ends with a hyphen");
    }
    labelStart = i + 1;
  }
  return { ok: true, host, isIpv4: false };
}

/**
 * Canonicalizes the inside of `[...]`: hex digits, `:` and an embedded dotted quad only
 * (no zone identifier), serialized the WHATWG way (lowercase, longest zero run as `::`),
 * so `[0:0::1]` and `[::1]` are the same host.
 */
function canonicalizeIpv6(inner: string): CanonicalHost {
  if (inner.length === 0) return fail("empty IPv6 address");
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === 0x25) return fail("IPv6 zone identifier in host");
    if (!(isHexDigit(c) || c === 0x3a || c === DOT)) return fail("invalid IPv6 address");
  }
  try {
    // Only reached for a string of hex digits, `:` and `.`, so nothing but the address
    // itself is parsed. IPv6 hosts are rare enough for this not to matter on the hot path.
    const hostname = new URL(`http://[${inner}]/`).hostname;
    return { ok: true, host: hostname.slice(1, -1) };
  } catch {
    return fail("invalid IPv6 address");
  }
}

/** A port: 1-5 digits with a value in 1-65535. An empty port (`host:`) is refused. */
function isValidPort(port: string): boolean {
  if (port.length === 0 || port.length > 5 || !isAllDigits(port)) return false;
  const value = Number(port);
  return value >= 1 && value <= 65535;
}

/**
 * Turns a `Host` header into the canonical host: lowercased, port removed (it must be
 * 1-65535), one trailing dot removed. Accepted: DNS names (labels of ASCII letters,
 * digits and inner hyphens, 1-63 characters, at most 253 in all; `_` refused),
 * dotted-quad IPv4 without leading zeros, and bracketed IPv6 (`[::1]:8443` is `::1`,
 * in WHATWG serialization). Refused: a missing or empty header, userinfo (`@`),
 * whitespace, unbracketed IPv6, zone identifiers, non-ASCII (IDNs arrive as `xn--`),
 * and numeric forms other than a dotted quad (`127.1`, `0x7f.0.0.1`), which URL
 * parsers read as other addresses.
 */
export function canonicalizeHost(hostHeader: string | undefined): CanonicalHost {
  if (typeof hostHeader !== "string" || hostHeader.length === 0) return fail("missing host");
  if (hostHeader.charCodeAt(0) === 0x5b) {
    const close = hostHeader.indexOf("]");
    if (close === -1) return fail("unterminated IPv6 address in host");
    const rest = hostHeader.slice(close + 1);
    if (rest.length > 0 && (rest.charCodeAt(0) !== 0x3a || !isValidPort(rest.slice(1)))) {
      return fail("invalid port in host");
    }
    return canonicalizeIpv6(hostHeader.slice(1, close));
  }
  const colon = hostHeader.indexOf(":");
  let name = hostHeader;
  if (colon !== -1) {
    if (hostHeader.indexOf(":", colon + 1) !== -1) return fail("IPv6 address without brackets");
    if (!isValidPort(hostHeader.slice(colon + 1))) return fail("invalid port in host");
    name = hostHeader.slice(0, colon);
  }
  if (name.length === 0) return fail("empty host");
  const result = canonicalizeName(name);
  return result.ok ? { ok: true, host: result.host } : result;
}

/**
 * Canonicalizes a config `match.host`: an exact host (as {@link canonicalizeHost}
 * accepts it, but without a port; IPv6 with or without brackets, returned without) or a
 * wildcard `*.domain`, where `*` is the whole leftmost label and stands for exactly one
 * label (as in TLS certificates). The domain of a wildcard must be a DNS name, not an
 * IP address. The result is lowercase; problems are phrased for `verigate check`.
 */
export function canonicalizeRouteHost(pattern: string): CanonicalHost {
  if (typeof pattern !== "string" || pattern.length === 0) return fail("empty host");
  if (pattern.charCodeAt(0) === 0x5b) {
    if (pattern.charCodeAt(pattern.length - 1) !== 0x5d) {
      return fail("a route host has no port; IPv6 goes in brackets or bare");
    }
    return canonicalizeIpv6(pattern.slice(1, -1));
  }
  const colon = pattern.indexOf(":");
  if (colon !== -1) {
    if (pattern.indexOf(":", colon + 1) !== -1) return canonicalizeIpv6(pattern);
    return fail("a route host has no port (routes match any port)");
  }
  if (pattern === "*") return fail('"*" alone is not a host: leave the host out to match any host');
  if (pattern.startsWith("*.") && !pattern.includes("*", 1)) {
    const domain = canonicalizeName(pattern.slice(2));
    if (!domain.ok) return domain;
    if (domain.isIpv4) return fail("a wildcard host needs a domain name, not an IP address");
    return { ok: true, host: `*.${domain.host}` };
  }
  if (pattern.includes("*")) {
    return fail('"*" is allowed only as the whole leftmost label ("*.example.com")');
  }
  const result = canonicalizeName(pattern);
  return result.ok ? { ok: true, host: result.host } : result;
}
