/**
 * The one canonical form of a request path. verigate routes, authorizes and forwards
 * exactly the path this module returns, so the router, the policy and the upstream can
 * never disagree about which resource a request names (the class of Envoy
 * CVE-2019-9901 and Pomerium CVE-2023-33189).
 *
 * Invariants of every path returned (the tests check them as properties):
 * - it starts with `/` and contains no `//`, no `.` or `..` segment (raw or encoded),
 *   no `\`, no control character, no `%2F` / `%5C` and no overlong UTF-8 sequence;
 * - every byte is either allowed raw in an RFC 3986 path segment or written as `%XX`
 *   with uppercase hex, and no escape encodes an unreserved character;
 * - it is a fixed point of the canonicalizer (idempotent) and of
 *   `new URL(path, base).pathname`, so the proxy library forwards it byte for byte.
 *
 * What cannot be canonicalized without guessing is rejected, never repaired.
 *
 * @module
 */

/** The result of {@link canonicalizeTarget}. */
export type CanonicalTarget =
  | {
      readonly ok: true;
      /** The canonical path: the only path to route, authorize and forward. */
      readonly path: string;
      /** The query exactly as sent, without the `?`; `""` when absent or empty. */
      readonly query: string;
    }
  | {
      readonly ok: false;
      /** Why the target was refused: short and fixed, for the audit log. */
      readonly problem: string;
    };

/** The result of {@link canonicalizePathPrefix}. */
export type CanonicalPathPrefix =
  { readonly ok: true; readonly prefix: string } | { readonly ok: false; readonly problem: string };

type PathResult =
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

// Byte classes of the path scanner. Plain numbers (not an enum) indexed by char code.
/** Allowed raw in a path segment: unreserved, sub-delims, `:` and `@` (RFC 3986 pchar). */
const RAW = 0;
/** Not allowed raw in a path, but harmless: written as `%XX`. */
const ENCODE = 1;
const SLASH = 2;
const PERCENT = 3;
/** C0 controls and DEL: refused raw and encoded, they end up in logs and headers. */
const CONTROL = 4;
/** Refused because one of the proxy libraries turns it into `/`. */
const BACKSLASH = 5;
const HASH = 6;
/** Only reachable from a path prefix: a target is split at its first `?` beforehand. */
const QUESTION = 7;

const UNRESERVED_PUNCTUATION = "-._~";
const SUB_DELIMS_AND_COLON_AT = "!$&'()*+,;=:@";

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** Bytes that a percent escape is decoded back to: only the unreserved set (RFC 3986 §6.2.2.2). */
const IS_UNRESERVED = new Uint8Array(256);
const PATH_CLASS = new Uint8Array(256).fill(ENCODE);
for (let c = 0; c < 256; c++) {
  if (isAsciiAlnum(c) || UNRESERVED_PUNCTUATION.includes(String.fromCharCode(c))) {
    IS_UNRESERVED[c] = 1;
    PATH_CLASS[c] = RAW;
  } else if (SUB_DELIMS_AND_COLON_AT.includes(String.fromCharCode(c))) {
    PATH_CLASS[c] = RAW;
  } else if (isControl(c)) {
    PATH_CLASS[c] = CONTROL;
  }
}
PATH_CLASS[0x2f] = SLASH;
PATH_CLASS[0x25] = PERCENT;
PATH_CLASS[0x5c] = BACKSLASH;
PATH_CLASS[0x23] = HASH;
PATH_CLASS[0x3f] = QUESTION;

/** Hex digit values, -1 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let d = 0; d < 10; d++) HEX_VALUE[0x30 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX_VALUE[0x41 + d] = 10 + d;
  HEX_VALUE[0x61 + d] = 10 + d;
}

function hexValue(c: number): number {
  return c > 0xff ? -1 : (HEX_VALUE[c] ?? -1);
}

/** `%XX` with uppercase hex for every byte, built once. */
const PERCENT_ENCODED: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
);

/**
 * Query bytes `new URL` would re-encode for a special scheme (its special-query
 * percent-encode set: C0 controls, space, `"`, `#`, `<`, `>`, `'`, DEL and non-ASCII).
 * Such a query is refused rather than re-encoded, so the upstream receives the query
 * exactly as the client sent it.
 */
const QUERY_REFUSED = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c <= 0x20 || c >= 0x7f || `"#<>'`.includes(String.fromCharCode(c))) QUERY_REFUSED[c] = 1;
}

/**
 * The start of an overlong UTF-8 sequence, in canonical form (every byte >= 0x80 is an
 * uppercase `%XX` there): a lead byte C0 or C1, or E0 followed by 80-9F, or F0 followed
 * by 80-8F. No encoder produces them; lenient decoders (IIS 4-5, the Tomcat of
 * CVE-2008-2938) read `%C0%AE` as `.` and `%C0%AF` as `/`, which would put a `..`
 * segment back into a path after verigate authorized it.
 */
const OVERLONG_UTF8 = /%C[01]%[89AB]|%E0%[89]|%F0%8/;

const SLASH_CODE = 0x2f;
const DOT_CODE = 0x2e;
const SEMICOLON_CODE = 0x3b;

function fail(problem: string): { readonly ok: false; readonly problem: string } {
  return { ok: false, problem };
}

function problemForClass(cls: number): string {
  switch (cls) {
    case CONTROL:
      return "control character in path";
    case BACKSLASH:
      return "backslash in path";
    case HASH:
      return "fragment in request-target";
    case QUESTION:
      return "query in path";
    default:
      return "invalid character in path";
  }
}

/**
 * Whether raw[start, end) is a segment the fast path cannot keep as it is: empty
 * (from `//`), `.` or `..`, or a dot segment carrying `;` parameters.
 */
function needsSegmentWork(raw: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0) return true;
  if (raw.charCodeAt(start) !== DOT_CODE) return false;
  if (length === 1) return true;
  const second = raw.charCodeAt(start + 1);
  if (second === SEMICOLON_CODE) return true;
  if (second !== DOT_CODE) return false;
  return length === 2 || raw.charCodeAt(start + 2) === SEMICOLON_CODE;
}

/**
 * `..;x` and `.;x` are plain segments to RFC 3986 but dot segments to servlet
 * containers, which strip `;` path parameters before resolving dots (the `/public/..;/admin`
 * bypass). verigate cannot know what the upstream does, so it refuses the ambiguity.
 */
function isDotSegmentWithParameters(segment: string): boolean {
  return (
    segment.startsWith(".;") ||
    segment.startsWith("..;") ||
    segment.startsWith(".%3B") ||
    segment.startsWith("..%3B")
  );
}

/**
 * Canonicalizes raw[0, end), which starts with `/`. Common paths are already canonical:
 * the fast scan checks that in one pass and returns a slice of the input. At the first
 * byte or segment that needs work it hands over to the general builder, which restarts
 * at the current segment (the segments before it are canonical as they are).
 */
function canonicalizePath(raw: string, end: number, allowDotSegments: boolean): PathResult {
  let segmentStart = 1;
  for (let i = 1; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c === SLASH_CODE) {
      if (needsSegmentWork(raw, segmentStart, i)) {
        return buildPath(raw, segmentStart, end, allowDotSegments);
      }
      segmentStart = i + 1;
    } else if (c > 0xff || PATH_CLASS[c] !== RAW) {
      return buildPath(raw, segmentStart, end, allowDotSegments);
    }
  }
  // An empty last segment is a trailing slash (or the root), which is canonical.
  if (segmentStart !== end && needsSegmentWork(raw, segmentStart, end)) {
    return buildPath(raw, segmentStart, end, allowDotSegments);
  }
  return { ok: true, path: end === raw.length ? raw : raw.slice(0, end) };
}

/**
 * The general builder: decodes, encodes and validates each segment, merges empty
 * segments and resolves dot segments with a stack. Starts at `from`, the first byte of
 * a segment; raw[1, from - 1) holds segments already known to be canonical.
 */
function buildPath(raw: string, from: number, end: number, allowDotSegments: boolean): PathResult {
  const kept: string[] = from > 1 ? raw.slice(1, from - 1).split("/") : [];
  // Whether the canonical path ends with `/`: decided by the last segment only, which
  // the loop below always reaches.
  let trailingSlash: boolean;
  let i = from;
  for (;;) {
    let segment = "";
    let runStart = i;
    let j = i;
    for (; j < end; j++) {
      const c = raw.charCodeAt(j);
      if (c > 0xff) return fail("non-byte character in path");
      const cls = PATH_CLASS[c];
      if (cls === RAW) continue;
      if (cls === SLASH) break;
      if (cls === PERCENT) {
        const high = j + 1 < end ? hexValue(raw.charCodeAt(j + 1)) : -1;
        const low = j + 2 < end ? hexValue(raw.charCodeAt(j + 2)) : -1;
        if (high < 0 || low < 0) return fail("malformed percent escape in path");
        const byte = (high << 4) | low;
        if (isControl(byte)) return fail("encoded control character in path");
        if (byte === SLASH_CODE) return fail("encoded slash in path");
        if (byte === 0x5c) return fail("encoded backslash in path");
        segment += raw.slice(runStart, j);
        segment += IS_UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : PERCENT_ENCODED[byte];
        j += 2;
        runStart = j + 1;
      } else if (cls === ENCODE) {
        segment += raw.slice(runStart, j);
        segment += PERCENT_ENCODED[c];
        runStart = j + 1;
      } else {
        return fail(problemForClass(cls ?? ENCODE));
      }
    }
    segment += raw.slice(runStart, j);

    if (segment === "") {
      // Runs of `/` merge into one.
      trailingSlash = true;
    } else if (segment === "." || segment === "..") {
      if (!allowDotSegments) return fail("dot segment in path prefix");
      if (segment === ".." && kept.pop() === undefined) return fail("path climbs above the root");
      trailingSlash = true;
    } else if (isDotSegmentWithParameters(segment)) {
      return fail("dot segment with parameters in path");
    } else {
      kept.push(segment);
      trailingSlash = false;
    }

    if (j >= end) break;
    i = j + 1;
  }
  if (kept.length === 0) return { ok: true, path: "/" };
  const path = `/${kept.join("/")}`;
  // Only here: the fast path returns ASCII pchar only, which holds no escape.
  if (OVERLONG_UTF8.test(path)) return fail("overlong UTF-8 sequence in path");
  return { ok: true, path: trailingSlash ? `${path}/` : path };
}

/**
 * Turns a raw HTTP request-target (Node's `req.url`: a latin1 string, one char per byte)
 * into the canonical path verigate routes, authorizes and forwards, plus the query.
 *
 * Only origin-form is accepted (`/...`); absolute-form, authority-form and `*` are
 * refused. The target is split at its first `?`; a `#` anywhere is refused.
 *
 * In the path: control characters (raw or as `%00`-`%1F`, `%7F`), a raw `\`, an
 * encoded `/` or `\`, malformed escapes and overlong UTF-8 sequences (raw or encoded,
 * `%C0%AE`) are refused; other bytes that are not UTF-8 (`%FF`) pass as escapes.
 * Escapes of unreserved characters are decoded; other escapes are kept with uppercase
 * hex; bytes not allowed raw in a path segment (space, `"`, `<`, `>`, `[`, `]`, `^`,
 * `` ` ``, `{`, `|`, `}`, bytes >= 0x80) are percent-encoded. Then runs of `/` merge
 * and `.` / `..` segments resolve (after decoding, so `%2e%2e` is `..`; each escape is
 * decoded at most once, so `%252e` stays `%252e`); a `..` above the root is refused,
 * not clamped. A trailing
 * slash is kept, and a last segment of `.` or `..` leaves one (`/a/b/.` is `/a/b/`). A
 * segment that is `.` or `..` followed by `;` parameters is refused: servlet
 * containers resolve it as a dot segment.
 *
 * The query is returned exactly as sent (it is not used for routing), but refused when
 * it holds a byte `new URL` would re-encode for an `http` URL: controls, space, `"`,
 * `#`, `<`, `>`, `'`, DEL or bytes >= 0x80. Percent escapes in the query are not
 * checked: verigate neither decodes nor authorizes it, and forwards the same bytes.
 * `/a?` and `/a` are the same target (query `""`).
 *
 * Never throws.
 */
export function canonicalizeTarget(rawTarget: string): CanonicalTarget {
  if (typeof rawTarget !== "string" || rawTarget.length === 0) {
    return fail("empty request-target");
  }
  if (rawTarget.charCodeAt(0) !== SLASH_CODE) {
    return fail(
      rawTarget === "*" ? "asterisk-form request-target" : "request-target is not in origin-form",
    );
  }
  const questionMark = rawTarget.indexOf("?");
  const pathEnd = questionMark === -1 ? rawTarget.length : questionMark;
  const path = canonicalizePath(rawTarget, pathEnd, true);
  if (!path.ok) return path;
  if (questionMark === -1) return { ok: true, path: path.path, query: "" };

  for (let i = questionMark + 1; i < rawTarget.length; i++) {
    const c = rawTarget.charCodeAt(i);
    if (c > 0xff || QUERY_REFUSED[c] === 1) {
      if (c === 0x23) return fail("fragment in request-target");
      return fail(
        isControl(c) ? "control character in query" : "query byte that must be percent-encoded",
      );
    }
  }
  return { ok: true, path: path.path, query: rawTarget.slice(questionMark + 1) };
}

/**
 * Canonicalizes a config `match.pathPrefix` with the same rules as a request path, so a
 * prefix and the paths it matches are compared in one form (`/%61pi/` is `/api/`).
 * It must start with `/` and has no query or fragment. Unlike a request path, it may
 * not hold `.` or `..` segments: resolving them silently could widen what a route
 * covers (`/api/..` would become `/`). Runs of `/` merge. The returned prefix may
 * differ from the input; a caller may report that as a hint.
 *
 * A prefix is text (the config file is UTF-8) where a request-target is bytes, and
 * clients send non-ASCII as UTF-8: `/café` is matched as `/caf%C3%A9`, as a browser
 * sends it. (Read one byte per character, it became `/caf%E9`, which no browser sends:
 * the route never matched, and a wider route decided its requests instead.)
 */
export function canonicalizePathPrefix(prefix: string): CanonicalPathPrefix {
  if (typeof prefix !== "string" || prefix.length === 0) return fail("empty path prefix");
  if (prefix.charCodeAt(0) !== SLASH_CODE) return fail("path prefix must start with /");
  const bytes = utf8Bytes(prefix);
  const path = canonicalizePath(bytes, bytes.length, false);
  if (!path.ok) {
    return fail(path.problem === "query in path" ? "query in path prefix" : path.problem);
  }
  return { ok: true, prefix: path.path };
}

/** The UTF-8 encoding of `text`, one char per byte (the form Node gives a request-target in). */
function utf8Bytes(text: string): string {
  let isAscii = true;
  for (let i = 0; i < text.length && isAscii; i++) isAscii = text.charCodeAt(i) < 0x80;
  if (isAscii) return text;
  let bytes = "";
  for (const byte of new TextEncoder().encode(text)) bytes += String.fromCharCode(byte);
  return bytes;
}
