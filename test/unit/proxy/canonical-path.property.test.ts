import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalizePathPrefix, canonicalizeTarget } from "../../../src/proxy/canonical-path.js";
import { buildRouteTable } from "../../../src/proxy/route-table.js";
import { hasControlCharacter } from "../../support/control-characters.js";

/**
 * Properties of path canonicalization against hostile request-targets and random
 * route tables: what verigate routes and authorizes is what it forwards, and no
 * upstream that decodes and resolves the forwarded path can read it as a path outside
 * the route prefix it was authorized under. (canonical-path.test.ts holds the tables
 * of known attacks and the properties against the WHATWG URL parser.)
 */

const BASE = "http://upstream.test";
const HOST = "app.test";

// ---------------------------------------------------------------------------------------
// Generators

/**
 * Segments of route prefixes, as an operator writes them: unreserved characters, an
 * escaped unreserved character (`%61pi` is `api`) and escaped UTF-8. Prefixes with
 * sub-delimiters (`;`, `$`, `:`...) are left out on purpose: verigate keeps `%24` and
 * `$` distinct (RFC 3986 §2.2), so `/odata/%24batch` is not under a `/odata/$batch`
 * route, while an upstream that decodes merges them. That is a known open
 * differential of the route table, not of canonicalization; these properties are
 * about everything else.
 */
const PREFIX_SEGMENTS = [
  "api",
  "admin",
  "public",
  "v1",
  "a",
  "b",
  "%61pi",
  "x~y",
  "a.b",
  "caf%C3%A9",
] as const;

/** Segments and fragments attackers put in request-targets to step out of a prefix. */
const HOSTILE_PIECES = [
  "",
  ".",
  "..",
  "%2e",
  "%2E",
  "%2e%2e",
  "%2E%2e",
  ".%2E",
  "%2e.",
  "%2f",
  "%2F",
  "%5c",
  "%5C",
  "\\",
  ";",
  "..;",
  ".;",
  "..;x=1",
  "%2e%2e;",
  "..%3b",
  "%3B",
  "%00",
  "%25",
  "%252e%252e",
  "%252f",
  "//",
  "/",
  "%c0%ae",
  "%C0%AE%c0%ae",
  "%c0%af",
  "%c1%9c",
  "%e0%80%ae",
  "%f0%80%80%ae",
  "%ff",
  "%c3",
  "\u00c0\u00ae",
  "\u00e9",
  "%",
  "%4",
  "#",
  "?",
] as const;

const QUERIES = [
  "",
  "?",
  "?x=1",
  "?next=/../admin",
  "?q=%2e%2e%2fadmin",
  "?a=b?c=/d",
  "?x=%zz",
  "?#frag",
  "?x y",
] as const;

interface Route {
  /** The prefix as written in the config. */
  readonly written: string;
  /** Its canonical form: what the route table matches and what these properties compare with. */
  readonly prefix: string;
}

/** A prefix as written in a config: 1-3 segments, with or without a trailing slash. */
const writtenPrefix = fc
  .tuple(
    fc.array(fc.constantFrom(...PREFIX_SEGMENTS), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([segments, slash]) => `/${segments.join("/")}${slash ? "/" : ""}`);

/** A route table: 1-4 distinct canonical prefixes, often with a catch-all `/` beside them. */
const routes: fc.Arbitrary<readonly Route[]> = fc
  .tuple(fc.array(writtenPrefix, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([written, withRoot]) => {
    const byPrefix = new Map<string, Route>();
    for (const text of withRoot ? [...written, "/"] : written) {
      const canonical = canonicalizePathPrefix(text);
      if (!canonical.ok) throw new Error(`generated prefix ${text} refused: ${canonical.problem}`);
      if (!byPrefix.has(canonical.prefix))
        byPrefix.set(canonical.prefix, { written: text, prefix: canonical.prefix });
    }
    return [...byPrefix.values()];
  });

/**
 * A hostile request-target for a route table: it starts at one of the table's
 * prefixes (as written, or canonical) or at the root, goes on with pieces drawn from
 * the hostile alphabet and the prefixes' own segments, joined by `/` or glued so that
 * pieces form new escapes, and may end with a query.
 */
function hostileTarget(table: readonly Route[]): fc.Arbitrary<string> {
  const ownSegments = [...new Set(table.flatMap((r) => r.prefix.split("/")))];
  const start = fc.constantFrom("/", ...table.flatMap((r) => [r.written, r.prefix]));
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
    { weight: 2, arbitrary: fc.constantFrom(...ownSegments, ...PREFIX_SEGMENTS) },
  );
  const rest = fc.oneof(
    fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join("/")),
    fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join("")),
  );
  return fc
    .tuple(start, fc.boolean(), rest, fc.constantFrom(...QUERIES))
    .map(([from, slash, tail, query]) => `${from}${slash ? "/" : ""}${tail}${query}`);
}

const tableAndTarget = routes.chain((table) => fc.tuple(fc.constant(table), hostileTarget(table)));

// ---------------------------------------------------------------------------------------
// How upstreams read a path

/** Segment-aware prefix matching, as the route table defines it. */
function isUnderPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith("/")) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Decodes every `%XX` to its byte (one char per byte), as nginx does: no UTF-8 checks. */
function decodeBytes(segment: string): string {
  return segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Decodes like a lenient UTF-8 decoder that accepts overlong forms (IIS 4-5, the
 * Tomcat of CVE-2008-2938, old Java): `%C0%AE` is `.`, `%C0%AF` is `/`, `%C1%9C` is `\`.
 */
function decodeOverlongLeniently(segment: string): string {
  return decodeBytes(segment)
    .replace(/[\xc0\xc1][\x80-\xbf]/g, (s) =>
      String.fromCharCode(((s.charCodeAt(0) & 0x1f) << 6) | (s.charCodeAt(1) & 0x3f)),
    )
    .replace(/\xe0[\x80-\x9f][\x80-\xbf]/g, (s) =>
      String.fromCharCode(((s.charCodeAt(1) & 0x3f) << 6) | (s.charCodeAt(2) & 0x3f)),
    )
    .replace(/\xf0[\x80-\x8f][\x80-\xbf][\x80-\xbf]/g, (s) =>
      String.fromCharCode(
        ((s.charCodeAt(1) & 0x3f) << 12) |
          ((s.charCodeAt(2) & 0x3f) << 6) |
          (s.charCodeAt(3) & 0x3f),
      ),
    );
}

/**
 * How an upstream turns the forwarded path into the resource it serves: each segment
 * decoded (`undefined` when the upstream would refuse the path), then what decoding
 * produced split again at `/` and `\` (Windows servers treat both as separators), runs
 * of `/` merged and dot segments resolved, clamping `..` at the root (the more
 * dangerous of the two choices real servers make).
 */
type UpstreamReading = (path: string) => string | undefined;

function readAs(decode: (segment: string) => string | undefined): UpstreamReading {
  return (path) => {
    const decoded: string[] = [];
    for (const segment of path.split("/")) {
      const value = decode(segment);
      if (value === undefined) return undefined;
      decoded.push(value);
    }
    const kept: string[] = [];
    let trailingSlash = false;
    for (const segment of decoded.join("/").split(/[/\\]/).slice(1)) {
      if (segment === "" || segment === ".") {
        trailingSlash = true;
      } else if (segment === "..") {
        kept.pop();
        trailingSlash = true;
      } else {
        kept.push(segment);
        trailingSlash = false;
      }
    }
    if (kept.length === 0) return "/";
    return `/${kept.join("/")}${trailingSlash ? "/" : ""}`;
  };
}

const UPSTREAMS: readonly (readonly [string, UpstreamReading])[] = [
  [
    "decodeURIComponent per segment (express, WHATWG-based servers)",
    readAs((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    }),
  ],
  ["byte-wise decoding (nginx)", readAs(decodeBytes)],
  [
    "path parameters stripped before decoding (Tomcat, Jetty)",
    readAs((segment) => decodeBytes(segment.split(";")[0] ?? "")),
  ],
  ["lenient UTF-8 decoding of overlong forms (IIS, old Tomcat)", readAs(decodeOverlongLeniently)],
];

/** The longest prefix covering `path`, with prefixes and path both as an upstream reads them. */
function longestCovering(
  table: readonly Route[],
  read: UpstreamReading,
  path: string,
): string | undefined {
  let best: { prefix: string; length: number } | undefined;
  for (const { prefix } of table) {
    const view = read(prefix);
    if (view === undefined || !isUnderPrefix(path, view)) continue;
    if (best === undefined || view.length > best.length) best = { prefix, length: view.length };
  }
  return best?.prefix;
}

/** A host-less route table of `table`, each route's prefix as written (`written`) or canonical (`prefix`); a route's value is its canonical prefix. */
function routeTableOf(table: readonly Route[], use: "prefix" | "written") {
  return buildRouteTable(
    table.map((r, i) => ({
      host: undefined,
      pathPrefix: r[use],
      value: r.prefix,
      where: `routes[${i}]`,
    })),
  );
}

// ---------------------------------------------------------------------------------------
// Properties

describe("canonicalizeTarget on hostile targets", () => {
  const anyHostileTarget = tableAndTarget.map(([, target]) => target);

  it("is idempotent: an accepted target canonicalizes to itself, query and all", () => {
    fc.assert(
      fc.property(anyHostileTarget, (target) => {
        const first = canonicalizeTarget(target);
        if (!first.ok) return;
        const again = first.query === "" ? first.path : `${first.path}?${first.query}`;
        expect(canonicalizeTarget(again)).toEqual(first);
        expect(canonicalizeTarget(first.path)).toEqual({ ok: true, path: first.path, query: "" });
      }),
      { numRuns: 4000 },
    );
  });

  it("never accepts a path with //, dot segments, encoded or raw slashes and backslashes, controls or #", () => {
    fc.assert(
      fc.property(anyHostileTarget, (target) => {
        const result = canonicalizeTarget(target);
        if (!result.ok) return;
        const { path, query } = result;
        expect(path.startsWith("/")).toBe(true);
        for (const bad of ["//", "/./", "/../", "\\", "#", "?"]) expect(path).not.toContain(bad);
        expect(path.endsWith("/..")).toBe(false);
        expect(path.endsWith("/.")).toBe(false);
        expect(path).not.toMatch(/%2F|%5C/i);
        expect(path).not.toMatch(/%(?:[01][0-9A-F]|7F)/i);
        expect(hasControlCharacter(path)).toBe(false);
        // No segment that a servlet container resolves as a dot segment.
        for (const segment of path.split("/")) expect(segment).not.toMatch(/^\.\.?(?:;|%3B)/i);
        expect(query).not.toContain("#");
        expect(hasControlCharacter(query)).toBe(false);
      }),
      { numRuns: 4000 },
    );
  });

  it("routes, authorizes and forwards one path: the query never changes it", () => {
    fc.assert(
      fc.property(anyHostileTarget, (target) => {
        const result = canonicalizeTarget(target);
        if (!result.ok) return;
        const questionMark = target.indexOf("?");
        if (questionMark === -1) return;
        expect(canonicalizeTarget(target.slice(0, questionMark))).toEqual({
          ok: true,
          path: result.path,
          query: "",
        });
      }),
      { numRuns: 2000 },
    );
  });
});

describe("no request-target maps outside the route prefix it was authorized under", () => {
  it("the canonical path, and what the proxy library forwards of it, lie under the chosen prefix", () => {
    fc.assert(
      fc.property(tableAndTarget, ([table, target]) => {
        const { table: routeTable, problems } = routeTableOf(table, "written");
        expect(problems).toEqual([]);
        const result = canonicalizeTarget(target);
        if (!result.ok) return;
        const chosen = routeTable.lookup(HOST, result.path);
        if (chosen === undefined) {
          // A 404 is safe only when no prefix covers the path.
          expect(table.some((r) => isUnderPrefix(result.path, r.prefix))).toBe(false);
          return;
        }
        expect(isUnderPrefix(result.path, chosen)).toBe(true);
        // The longest covering prefix wins: no shorter, laxer route can take it.
        for (const { prefix } of table) {
          if (isUnderPrefix(result.path, prefix))
            expect(prefix.length).toBeLessThanOrEqual(chosen.length);
        }
        const forwarded = new URL(
          result.query === "" ? result.path : `${result.path}?${result.query}`,
          BASE,
        );
        expect(forwarded.pathname).toBe(result.path);
        expect(forwarded.search).toBe(result.query === "" ? "" : `?${result.query}`);
      }),
      { numRuns: 5000 },
    );
  });

  it.each(UPSTREAMS)(
    "an upstream doing %s still reads the forwarded path under the chosen prefix",
    (_name, read) => {
      fc.assert(
        fc.property(tableAndTarget, ([table, target]) => {
          const { table: routeTable } = routeTableOf(table, "prefix");
          const result = canonicalizeTarget(target);
          if (!result.ok) return;
          const chosen = routeTable.lookup(HOST, result.path);
          if (chosen === undefined) return;
          const seen = read(result.path);
          // The upstream refuses the path (an invalid escape): nothing is served.
          if (seen === undefined) return;
          const prefix = read(chosen);
          expect(prefix).toBeDefined();
          expect(isUnderPrefix(seen, prefix ?? "")).toBe(true);
        }),
        { numRuns: 5000 },
      );
    },
  );

  it.each(UPSTREAMS.filter(([name]) => !name.startsWith("path parameters")))(
    "an upstream doing %s picks the same route as verigate",
    (_name, read) => {
      // Not asserted for servlet-style upstreams: they read `/admin;x` as `/admin`,
      // which verigate routes as a sibling of `/admin` (a known open differential of the route table).
      fc.assert(
        fc.property(tableAndTarget, ([table, target]) => {
          const { table: routeTable } = routeTableOf(table, "prefix");
          const result = canonicalizeTarget(target);
          if (!result.ok) return;
          const seen = read(result.path);
          if (seen === undefined) return;
          expect(longestCovering(table, read, seen)).toBe(routeTable.lookup(HOST, result.path));
        }),
        { numRuns: 5000 },
      );
    },
  );
});

describe("canonicalizePathPrefix on prefixes written as text", () => {
  /** Segments an operator may type in YAML, non-ASCII included. */
  const textSegment = fc.constantFrom("api", "café", "日本", "über", "a b", "%C3%A9", "x");
  const textPrefix = fc
    .tuple(fc.array(textSegment, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([segments, slash]) => `/${segments.join("/")}${slash ? "/" : ""}`);

  it("matches what a browser sends for the same path, so a written route is never silently dead", () => {
    fc.assert(
      fc.property(textPrefix, fc.constantFrom("", "x", "deeper/doc"), (written, below) => {
        const canonical = canonicalizePathPrefix(written);
        expect(canonical.ok).toBe(true);
        if (!canonical.ok) return;
        const { table } = buildRouteTable([
          { host: undefined, pathPrefix: written, value: "written", where: "routes[0]" },
          { host: undefined, pathPrefix: "/", value: "catch-all", where: "routes[1]" },
        ]);
        // What a browser puts on the wire: WHATWG URL serialization, non-ASCII as UTF-8 escapes.
        const join = written.endsWith("/") || below === "" ? "" : "/";
        const sent = new URL(`${written}${join}${below}`, BASE).pathname;
        const target = canonicalizeTarget(sent);
        expect(target.ok).toBe(true);
        if (!target.ok) return;
        expect(table.lookup(HOST, target.path)).toBe("written");
      }),
      { numRuns: 1000 },
    );
  });

  it("is idempotent and yields a prefix that is a canonical request path", () => {
    fc.assert(
      fc.property(fc.oneof(textPrefix, writtenPrefix), (written) => {
        const first = canonicalizePathPrefix(written);
        if (!first.ok) return;
        expect(canonicalizePathPrefix(first.prefix)).toEqual(first);
        expect(canonicalizeTarget(first.prefix)).toEqual({
          ok: true,
          path: first.prefix,
          query: "",
        });
      }),
      { numRuns: 1000 },
    );
  });
});
