import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRouteTable } from "../../../src/proxy/route-table.js";
import type { RouteTableEntry } from "../../../src/proxy/route-table.js";

function route(
  host: string | undefined,
  pathPrefix: string,
  value: string,
  index: number,
): RouteTableEntry<string> {
  return { host, pathPrefix, value, where: `routes[${index}]` };
}

function table(...specs: readonly (readonly [string | undefined, string, string])[]) {
  return buildRouteTable(
    specs.map(([host, prefix, value], index) => route(host, prefix, value, index)),
  );
}

describe("buildRouteTable: path prefixes", () => {
  const { table: routes, problems } = table(
    [undefined, "/", "root"],
    [undefined, "/api", "api"],
    [undefined, "/api/", "api-slash"],
    [undefined, "/api/v1", "api-v1"],
    [undefined, "/static/", "static"],
    [undefined, "/a/b/c", "abc"],
  );

  it("has no problems", () => {
    expect(problems).toEqual([]);
  });

  it.each([
    ["/", "root"],
    ["/x", "root"],
    ["/api", "api"],
    ["/apix", "root"],
    ["/api/", "api-slash"],
    ["/api/x", "api-slash"],
    ["/api/v1", "api-v1"],
    ["/api/v1/", "api-v1"],
    ["/api/v1/users", "api-v1"],
    ["/api/v10", "api-slash"],
    ["/api/v1x/y", "api-slash"],
    ["/static", "root"],
    ["/static/", "static"],
    ["/static/app.js", "static"],
    ["/staticx/app.js", "root"],
    ["/a/b/c", "abc"],
    ["/a/b/c/d", "abc"],
    ["/a/b/cd", "root"],
    ["/a/b", "root"],
  ])("%s -> %s", (path, expected) => {
    expect(routes.lookup("example.com", path)).toBe(expected);
  });

  it("finds nothing without a matching prefix", () => {
    const { table: narrow } = table([undefined, "/api/", "api"]);
    expect(narrow.lookup("example.com", "/api")).toBeUndefined();
    expect(narrow.lookup("example.com", "/")).toBeUndefined();
    expect(narrow.lookup("example.com", "/other/api/")).toBeUndefined();
    expect(narrow.lookup("example.com", "/api/x")).toBe("api");
  });

  it("finds nothing for a path that is not canonical-looking", () => {
    const { table: all } = table([undefined, "/", "root"]);
    expect(all.lookup("example.com", "")).toBeUndefined();
    expect(all.lookup("example.com", "api")).toBeUndefined();
  });
});

describe("buildRouteTable: hosts", () => {
  const { table: routes, problems } = table(
    ["payroll.example.com", "/api/", "payroll-api"],
    ["payroll.example.com", "/", "payroll-root"],
    ["only-api.example.com", "/api/", "only-api"],
    ["*.example.com", "/", "wildcard-root"],
    ["*.example.com", "/admin/", "wildcard-admin"],
    ["*.b.example.com", "/", "deep-wildcard"],
    [undefined, "/", "any-root"],
    [undefined, "/public/", "any-public"],
    ["10.0.0.1", "/", "ip"],
    ["::1", "/", "ipv6"],
  );

  it("has no problems", () => {
    expect(problems).toEqual([]);
  });

  it.each([
    // Exact host wins.
    ["payroll.example.com", "/api/pay", "payroll-api"],
    ["payroll.example.com", "/public/x", "payroll-root"],
    // No fall-through to the wildcard or any-host group: a host's routes are its own.
    ["only-api.example.com", "/api/x", "only-api"],
    ["only-api.example.com", "/public/x", undefined],
    ["only-api.example.com", "/admin/", undefined],
    // A wildcard covers exactly one label.
    ["a.example.com", "/x", "wildcard-root"],
    ["a.example.com", "/admin/users", "wildcard-admin"],
    ["a.example.com", "/public/x", "wildcard-root"],
    ["x.b.example.com", "/", "deep-wildcard"],
    ["b.example.com", "/", "wildcard-root"],
    ["a.x.example.com", "/public/x", "any-public"],
    ["example.com", "/", "any-root"],
    ["other.example", "/public/x", "any-public"],
    ["other.example", "/x", "any-root"],
    ["10.0.0.1", "/x", "ip"],
    ["0.0.1", "/x", "any-root"],
    ["::1", "/x", "ipv6"],
  ] as const)("%s %s -> %s", (host, path, expected) => {
    expect(routes.lookup(host, path)).toBe(expected);
  });

  it("finds nothing when no group covers the host", () => {
    const { table: exactOnly } = table(["a.example.com", "/", "a"]);
    expect(exactOnly.lookup("b.example.com", "/")).toBeUndefined();
    expect(exactOnly.lookup("a.example.com", "/")).toBe("a");
  });

  it("canonicalizes configured hosts and prefixes", () => {
    const { table: routes2, problems: problems2 } = table(
      ["Payroll.Example.COM.", "/%61pi//v1", "payroll"],
      ["*.Example.com", "/", "wildcard"],
      ["[0::1]", "/", "ipv6"],
    );
    expect(problems2).toEqual([]);
    expect(routes2.lookup("payroll.example.com", "/api/v1/x")).toBe("payroll");
    expect(routes2.lookup("a.example.com", "/")).toBe("wildcard");
    expect(routes2.lookup("::1", "/")).toBe("ipv6");
  });
});

describe("buildRouteTable: problems", () => {
  it("reports a duplicate at the later entry, in canonical terms", () => {
    const { table: routes, problems } = table(
      ["a.example.com", "/api/", "first"],
      [undefined, "/api/", "any"],
      ["A.example.com", "/%61pi/", "second"],
      [undefined, "/api/", "any-again"],
      ["*.example.com", "/", "w1"],
      ["*.EXAMPLE.com.", "/", "w2"],
    );
    expect(problems).toEqual([
      {
        path: "routes[2]",
        message: 'host "a.example.com" and path prefix "/api/" are already routed by routes[0]',
      },
      {
        path: "routes[3]",
        message: 'any host and path prefix "/api/" are already routed by routes[1]',
      },
      {
        path: "routes[5]",
        message: 'host "*.example.com" and path prefix "/" are already routed by routes[4]',
      },
    ]);
    // The first entry keeps the place; the later duplicates are left out.
    expect(routes.lookup("a.example.com", "/api/x")).toBe("first");
    expect(routes.lookup("z.example", "/api/x")).toBe("any");
  });

  it("does not treat /api and /api/ as duplicates", () => {
    expect(table([undefined, "/api", "a"], [undefined, "/api/", "b"]).problems).toEqual([]);
  });

  it("reports invalid hosts and prefixes, every one", () => {
    const { problems } = table(
      ["a.*.example.com", "/", "x"],
      ["example.com:8443", "/", "x"],
      ["ok.example", "api/", "x"],
      ["ok.example", "/api/../admin", "x"],
      [undefined, "/api?x", "x"],
      [undefined, "/api%2f", "x"],
    );
    expect(problems).toEqual([
      {
        path: "routes[0]",
        message:
          'host "a.*.example.com": "*" is allowed only as the whole leftmost label ("*.example.com")',
      },
      {
        path: "routes[1]",
        message: 'host "example.com:8443": a route host has no port (routes match any port)',
      },
      { path: "routes[2]", message: 'path prefix "api/": path prefix must start with /' },
      { path: "routes[3]", message: 'path prefix "/api/../admin": dot segment in path prefix' },
      { path: "routes[4]", message: 'path prefix "/api?x": query in path prefix' },
      { path: "routes[5]", message: 'path prefix "/api%2f": encoded slash in path' },
    ]);
  });
});

/** The definition, as a linear scan: the reference the map-and-walk lookup must agree with. */
function referenceLookup(
  entries: readonly RouteTableEntry<string>[],
  host: string,
  path: string,
): string | undefined {
  const dot = host.indexOf(".");
  const wildcard = dot > 0 ? `*.${host.slice(dot + 1)}` : undefined;
  const groups = [
    entries.filter((e) => e.host === host),
    entries.filter((e) => e.host !== undefined && e.host === wildcard),
    entries.filter((e) => e.host === undefined),
  ];
  const group = groups.find((g) => g.length > 0) ?? [];
  let best: RouteTableEntry<string> | undefined;
  for (const entry of group) {
    const p = entry.pathPrefix;
    const matches = p.endsWith("/") ? path.startsWith(p) : path === p || path.startsWith(`${p}/`);
    if (matches && (best === undefined || p.length > best.pathPrefix.length)) best = entry;
  }
  return best?.value;
}

describe("buildRouteTable: lookup agrees with a linear scan of the definition", () => {
  it("for random tables and requests", () => {
    const hostArb = fc.constantFrom(
      undefined,
      "a.example.com",
      "b.example.com",
      "*.example.com",
      "*.b.example.com",
      "example.com",
    );
    const segment = fc.constantFrom("a", "b", "ab", "api", "v1");
    const prefixArb = fc
      .array(segment, { maxLength: 4 })
      .chain((parts) =>
        fc.constantFrom(`/${parts.join("/")}`, parts.length > 0 ? `/${parts.join("/")}/` : "/"),
      );
    const pathArb = fc
      .array(segment, { maxLength: 6 })
      .chain((parts) => fc.constantFrom(`/${parts.join("/")}`, `/${parts.join("/")}/`))
      .map((p) => (p === "//" ? "/" : p));
    const requestHost = fc.constantFrom(
      "a.example.com",
      "b.example.com",
      "c.example.com",
      "x.b.example.com",
      "x.y.example.com",
      "example.com",
      "other.example",
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(hostArb, prefixArb), {
          maxLength: 12,
          selector: ([h, p]) => `${h ?? ""} ${p}`,
        }),
        requestHost,
        pathArb,
        (specs, host, path) => {
          const entries = specs.map(([h, p], index) => route(h, p, `r${index}`, index));
          const { table: routes, problems } = buildRouteTable(entries);
          expect(problems).toEqual([]);
          expect(routes.lookup(host, path)).toBe(referenceLookup(entries, host, path));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
