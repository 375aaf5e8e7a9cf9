import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalizePathPrefix, canonicalizeTarget } from "../../../src/proxy/canonical-path.js";
import type { CanonicalTarget } from "../../../src/proxy/canonical-path.js";
import { buildRouteTable } from "../../../src/proxy/route-table.js";
import { hasControlCharacter } from "../../support/control-characters.js";

const BASE = "http://x";

function ok(path: string, query = ""): CanonicalTarget {
  return { ok: true, path, query };
}

function refused(problem: string): CanonicalTarget {
  return { ok: false, problem };
}

/** Segment-aware prefix matching, as the route table defines it. */
function isUnderPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith("/")) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

describe("canonicalizeTarget", () => {
  const attacks: readonly (readonly [string, CanonicalTarget])[] = [
    ["/api/../admin", ok("/admin")],
    ["/api/%2e%2e/admin", ok("/admin")],
    ["/api/%2E%2e/admin", ok("/admin")],
    ["/api/..%2fadmin", refused("encoded slash in path")],
    ["/api%2f..%2fadmin", refused("encoded slash in path")],
    ["/api%2F..%2Fadmin", refused("encoded slash in path")],
    ["//admin", ok("/admin")],
    ["///admin//x", ok("/admin/x")],
    ["/api/.%2e/admin", ok("/admin")],
    ["/api/%2e./admin", ok("/admin")],
    ["/api\\..\\admin", refused("backslash in path")],
    ["/api/%5c../admin", refused("encoded backslash in path")],
    ["/api/%5C../admin", refused("encoded backslash in path")],
    // Double encoding: decoded once, and `%25` is not unreserved, so it stays encoded.
    ["/api/%252e%252e/admin", ok("/api/%252e%252e/admin")],
    ["/api/%252f/admin", ok("/api/%252f/admin")],
    ["/api/%2e/admin", ok("/api/admin")],
    ["/api/./admin", ok("/api/admin")],
    ["/api//../admin", ok("/admin")],
    ["/..", refused("path climbs above the root")],
    ["/../admin", refused("path climbs above the root")],
    ["/api/../../admin", refused("path climbs above the root")],
    ["/%2e%2e/admin", refused("path climbs above the root")],
    ["/public/..;/admin", refused("dot segment with parameters in path")],
    ["/public/..;x=1/admin", refused("dot segment with parameters in path")],
    ["/public/.;/admin", refused("dot segment with parameters in path")],
    ["/public/..%3b/admin", refused("dot segment with parameters in path")],
    ["/public/%2e%2e;/admin", refused("dot segment with parameters in path")],
    ["/admin;x/y", ok("/admin;x/y")],
    ["/a/...;/b", ok("/a/...;/b")],
    ["/api/admin%00", refused("encoded control character in path")],
    ["/api/admin\u0000", refused("control character in path")],
    ["/api/%0d%0aSet-Cookie:x", refused("encoded control character in path")],
    ["/api/\r\n", refused("control character in path")],
    ["/api/%7f", refused("encoded control character in path")],
    ["/api/\u007f", refused("control character in path")],
    ["/api/\t", refused("control character in path")],
    ["/api/x#frag", refused("fragment in request-target")],
    ["/api/x?a=1#frag", refused("fragment in request-target")],
    ["/api/x#", refused("fragment in request-target")],
  ];

  const forms: readonly (readonly [string, CanonicalTarget])[] = [
    ["", refused("empty request-target")],
    ["*", refused("asterisk-form request-target")],
    ["http://evil.example/admin", refused("request-target is not in origin-form")],
    ["https://evil.example", refused("request-target is not in origin-form")],
    ["evil.example:443", refused("request-target is not in origin-form")],
    ["admin", refused("request-target is not in origin-form")],
    ["?x", refused("request-target is not in origin-form")],
    ["\\admin", refused("request-target is not in origin-form")],
  ];

  const normalization: readonly (readonly [string, CanonicalTarget])[] = [
    ["/", ok("/")],
    ["/a/b", ok("/a/b")],
    ["/a/b/", ok("/a/b/")],
    ["/a/b/.", ok("/a/b/")],
    ["/a/b/..", ok("/a/")],
    ["/a/b/../", ok("/a/")],
    ["/a/..", ok("/")],
    ["/a/./b/../c/", ok("/a/c/")],
    ["/.well-known/verigate/jwks.json", ok("/.well-known/verigate/jwks.json")],
    ["/a/.../b", ok("/a/.../b")],
    ["/a/..b/.c", ok("/a/..b/.c")],
    // Unreserved escapes decode; others keep, in uppercase hex.
    ["/%61%70%69/%7e%2D%5f%2E%30", ok("/api/~-_.0")],
    ["/a%3bb/%3a%40%21", ok("/a%3Bb/%3A%40%21")],
    ["/%c3%a9/%ff/%25", ok("/%C3%A9/%FF/%25")],
    // Raw bytes not allowed in a segment are encoded; latin1 chars are single bytes.
    ["/a b", ok("/a%20b")],
    ['/"<>^`{|}[]', ok("/%22%3C%3E%5E%60%7B%7C%7D%5B%5D")],
    ["/caf\u00e9/\u00ff\u0080", ok("/caf%E9/%FF%80")],
    // Sub-delims, `:` and `@` stay raw.
    ["/!$&'()*+,;=:@", ok("/!$&'()*+,;=:@")],
    ["/a%", refused("malformed percent escape in path")],
    ["/a%4", refused("malformed percent escape in path")],
    ["/a%4/b", refused("malformed percent escape in path")],
    ["/a%zz", refused("malformed percent escape in path")],
    ["/a%g0", refused("malformed percent escape in path")],
    ["/a%4?x", refused("malformed percent escape in path")],
    ["/a\u0100", refused("non-byte character in path")],
    ["/a%4\u0101", refused("malformed percent escape in path")],
  ];

  const queries: readonly (readonly [string, CanonicalTarget])[] = [
    ["/a?", ok("/a")],
    ["/a?x=1&y=%zz", ok("/a", "x=1&y=%zz")],
    ["/a?x=1?y=/../b", ok("/a", "x=1?y=/../b")],
    ["/a/../b?x=%2e%2e", ok("/b", "x=%2e%2e")],
    ["/a?q=\\{|}^`[]", ok("/a", "q=\\{|}^`[]")],
    ["/a?x=%00", ok("/a", "x=%00")],
    ["/a?x y", refused("query byte that must be percent-encoded")],
    ['/a?x="', refused("query byte that must be percent-encoded")],
    ["/a?x='", refused("query byte that must be percent-encoded")],
    ["/a?x=<>", refused("query byte that must be percent-encoded")],
    ["/a?x=\u00e9", refused("query byte that must be percent-encoded")],
    ["/a?x=\u0000", refused("control character in query")],
    ["/a?x=\r\n", refused("control character in query")],
    ["/a?x=\u007f", refused("control character in query")],
  ];

  it.each([...attacks, ...forms, ...normalization, ...queries])("%j", (input, expected) => {
    expect(canonicalizeTarget(input)).toEqual(expected);
  });

  it("refuses a target that is not a string at run time", () => {
    expect(canonicalizeTarget(undefined as unknown as string).ok).toBe(false);
  });

  it("returns the input itself for an already canonical path without a query", () => {
    const target = "/api/v1/users/12345/profile";
    const result = canonicalizeTarget(target);
    expect(result).toEqual(ok(target));
  });

  it("handles long hostile inputs in linear time", () => {
    const started = performance.now();
    const inputs = [
      `/${"a/".repeat(50_000)}${"../".repeat(50_000)}`,
      `/${"%2e%2E/".repeat(1)}`,
      `/x/${"%41".repeat(100_000)}`,
      `/${"/".repeat(100_000)}`,
      `/${"%".repeat(100_000)}`,
      `/a?${"=".repeat(100_000)}`,
    ];
    for (const input of inputs) canonicalizeTarget(input);
    expect(canonicalizeTarget(inputs[0] ?? "")).toEqual(ok("/"));
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("canonicalizePathPrefix", () => {
  it.each([
    ["/", { ok: true, prefix: "/" }],
    ["/api", { ok: true, prefix: "/api" }],
    ["/api/", { ok: true, prefix: "/api/" }],
    ["/%61pi//v1", { ok: true, prefix: "/api/v1" }],
    ["/a b/", { ok: true, prefix: "/a%20b/" }],
    ["/%c3%a9", { ok: true, prefix: "/%C3%A9" }],
    ["", { ok: false, problem: "empty path prefix" }],
    ["api/", { ok: false, problem: "path prefix must start with /" }],
    ["/api/..", { ok: false, problem: "dot segment in path prefix" }],
    ["/api/../admin", { ok: false, problem: "dot segment in path prefix" }],
    ["/api/./x", { ok: false, problem: "dot segment in path prefix" }],
    ["/api/%2e%2e/", { ok: false, problem: "dot segment in path prefix" }],
    ["/api?x=1", { ok: false, problem: "query in path prefix" }],
    ["/api#x", { ok: false, problem: "fragment in request-target" }],
    ["/api%2f", { ok: false, problem: "encoded slash in path" }],
    ["/api\\", { ok: false, problem: "backslash in path" }],
    ["/..;/", { ok: false, problem: "dot segment with parameters in path" }],
  ] as const)("%j", (input, expected) => {
    expect(canonicalizePathPrefix(input)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------
// Properties

/** Any latin1 string (as Node hands over `req.url`). */
const latin1Char = fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c));
const latin1String = fc.string({ unit: latin1Char, maxLength: 60 });

/** Pieces attackers and browsers put in paths, encoded and not. */
const PIECES = [
  "",
  ".",
  "..",
  "%2e",
  "%2E",
  "%2e%2e",
  "%2E%2e",
  ".%2E",
  "%2e.",
  "./",
  "../",
  "//",
  "a",
  "api",
  "admin",
  "x y",
  "%41",
  "%7e",
  "%7E",
  "%25",
  "%252e",
  "%3b",
  ";",
  "..;",
  "%2f",
  "%5c",
  "\\",
  "%00",
  "%",
  "%zz",
  "~",
  "\u00e9",
  "%C3%A9",
  ":",
  "@",
  "{}",
] as const;
const piece = fc.constantFrom(...PIECES);
const pathLike = fc
  .array(fc.oneof(piece, latin1String), { maxLength: 12 })
  .map((parts) => `/${parts.join("/")}`);
/** Concatenations without separators as well, so pieces glue into new escapes. */
const gluedPath = fc
  .array(fc.oneof(piece, fc.constant("/")), { maxLength: 16 })
  .map((parts) => `/${parts.join("")}`);
const anyTarget = fc.oneof(
  pathLike,
  gluedPath,
  latin1String.map((s) => `/${s}`),
  latin1String,
  fc.string({ unit: "binary", maxLength: 40 }).map((s) => `/${s}`),
);

describe("canonicalizeTarget properties", () => {
  it("never throws and always returns a result", () => {
    fc.assert(
      fc.property(fc.oneof(anyTarget, fc.string({ unit: "binary" })), (input) => {
        const result = canonicalizeTarget(input);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(anyTarget, (input) => {
        const first = canonicalizeTarget(input);
        if (!first.ok) return;
        expect(canonicalizeTarget(first.path)).toEqual(ok(first.path));
        const withQuery = first.query === "" ? first.path : `${first.path}?${first.query}`;
        expect(canonicalizeTarget(withQuery)).toEqual(first);
      }),
      { numRuns: 3000 },
    );
  });

  it("is a fixed point of new URL", () => {
    fc.assert(
      fc.property(anyTarget, (input) => {
        const result = canonicalizeTarget(input);
        if (!result.ok) return;
        expect(new URL(result.path, BASE).pathname).toBe(result.path);
        if (result.query !== "") {
          const url = new URL(`${result.path}?${result.query}`, BASE);
          expect(url.pathname).toBe(result.path);
          expect(url.search).toBe(`?${result.query}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("never returns a path with empty or dot segments, backslashes, controls or encoded slashes", () => {
    fc.assert(
      fc.property(anyTarget, (input) => {
        const result = canonicalizeTarget(input);
        if (!result.ok) return;
        const { path } = result;
        expect(path.startsWith("/")).toBe(true);
        expect(path).not.toContain("//");
        expect(path).not.toContain("/./");
        expect(path).not.toContain("/../");
        expect(path.endsWith("/..")).toBe(false);
        expect(path.endsWith("/.")).toBe(false);
        expect(path).not.toContain("\\");
        expect(hasControlCharacter(path)).toBe(false);
        expect(path).not.toMatch(/%2F|%5C/i);
        // Only pchar and `/` raw; escapes uppercase and never of an unreserved byte.
        expect(path).toMatch(/^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$/);
        expect(path).not.toMatch(/%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2D|2E|5F|7E)/);
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with WHATWG URL resolution of the slash-merged input", () => {
    // An independent resolver: merge raw runs of `/` (encoded slashes are refused, so
    // this is the same as merging after decoding), let WHATWG resolve the dot segments
    // (it knows `%2e` too), and canonicalize that dot-free result. ASCII only, because
    // WHATWG encodes non-ASCII as UTF-8 where verigate keeps the raw byte.
    const asciiPath = fc
      .array(fc.constantFrom(...PIECES.filter((p) => p !== "\u00e9" && p !== "\\")), {
        maxLength: 12,
      })
      .chain((parts) => fc.constantFrom(`/${parts.join("/")}`, `/${parts.join("")}`));
    fc.assert(
      fc.property(asciiPath, (input) => {
        const ours = canonicalizeTarget(input);
        if (!ours.ok) return;
        const whatwg = new URL(input.replace(/\/+/g, "/"), BASE).pathname;
        expect(canonicalizeTarget(whatwg)).toEqual(ours);
      }),
      { numRuns: 3000 },
    );
  });

  it("never lets an input escape the path prefix it was routed by", () => {
    const prefixes = fc.oneof(
      fc.constantFrom("/", "/api", "/api/", "/api/v1", "/a/b/", "/admin", "/%C3%A9/x"),
      fc
        .array(fc.constantFrom("a", "api", "b", "v1", "%41", "x y"), {
          minLength: 1,
          maxLength: 3,
        })
        .chain((parts) => fc.constantFrom(`/${parts.join("/")}`, `/${parts.join("/")}/`))
        .map((prefix) => {
          const canonical = canonicalizePathPrefix(prefix);
          return canonical.ok ? canonical.prefix : "/";
        }),
    );
    const tail = fc.array(fc.oneof(piece, fc.constant("/")), { maxLength: 10 });
    fc.assert(
      fc.property(prefixes, tail, (prefix, parts) => {
        const entries = [
          { host: undefined, pathPrefix: prefix, value: "prefix", where: "routes[0]" },
        ];
        if (prefix !== "/") {
          entries.push({ host: undefined, pathPrefix: "/", value: "root", where: "routes[1]" });
        }
        const { table, problems } = buildRouteTable(entries);
        expect(problems).toEqual([]);
        const input = prefix + parts.join("");
        const result = canonicalizeTarget(input);
        if (!result.ok) return;
        const routed = table.lookup("example.com", result.path);
        expect(routed).toBe(isUnderPrefix(result.path, prefix) ? "prefix" : "root");
        if (routed === "prefix") {
          expect(isUnderPrefix(result.path, prefix)).toBe(true);
          // What the proxy library forwards is under the prefix too.
          expect(isUnderPrefix(new URL(result.path, BASE).pathname, prefix)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
