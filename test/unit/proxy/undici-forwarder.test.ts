import fc from "fast-check";
import { urlJoin } from "http-proxy-3/dist/lib/http-proxy/common.js";
import { describe, expect, it } from "vitest";
import { canonicalizeTarget } from "../../../src/proxy/canonical-path.js";
import { joinUpstreamPath } from "../../../src/proxy/undici-forwarder.js";

/** What http-proxy-3 forwards with `prependPath` for an upstream URL's path and a target. */
function joinedByHttpProxy3(basePath: string, target: string): string {
  const url = new URL(target, "http://base.invalid");
  return urlJoin(basePath, `${url.pathname}${url.search}`);
}

describe("joinUpstreamPath", () => {
  it.each([
    ["/", "/", "/"],
    ["/", "/a/b?x=1", "/a/b?x=1"],
    ["/base", "/", "/base/"],
    ["/base", "/a", "/base/a"],
    ["/base/", "/a?q", "/base/a?q"],
    ["/base/", "/", "/base/"],
    ["/a/b", "/c/d/", "/a/b/c/d/"],
  ])("%s + %s -> %s", (base, target, expected) => {
    expect(joinUpstreamPath(base, target)).toBe(expected);
    expect(joinedByHttpProxy3(base, target)).toBe(expected);
  });

  it("forwards exactly what http-proxy-3 forwards, for every canonical target", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}$/);
    const base = fc.constantFrom("/", "/base", "/base/", "/a/b", "/a/b/");
    const target = fc
      .tuple(
        fc.array(segment, { maxLength: 4 }),
        fc.option(fc.stringMatching(/^[a-z0-9=&%]{0,8}$/)),
      )
      .map(([segments, query]) => `/${segments.join("/")}${query === null ? "" : `?${query}`}`);
    fc.assert(
      fc.property(base, target, (basePath, raw) => {
        const canonical = canonicalizeTarget(raw);
        if (!canonical.ok) return;
        const authorized =
          canonical.query === "" ? canonical.path : `${canonical.path}?${canonical.query}`;
        expect(joinUpstreamPath(basePath, authorized)).toBe(
          joinedByHttpProxy3(basePath, authorized),
        );
      }),
    );
  });
});
