/**
 * Route selection: which configured route a (canonical host, canonical path) belongs to.
 * Built once per config snapshot; a lookup is a few map reads and a walk over the
 * path's own prefixes, never a scan of all routes.
 *
 * @module
 */

import type { ConfigProblem } from "../config/config-problem.js";
import { canonicalizePathPrefix } from "./canonical-path.js";
import { canonicalizeRouteHost } from "./host.js";

/** One route as the table sees it: where it matches, what it yields, where it was configured. */
export interface RouteTableEntry<T> {
  /** An exact host, a `*.domain` wildcard, or undefined for any host. */
  readonly host: string | undefined;
  /** The path prefix, in canonical form (see {@link canonicalizePathPrefix}). */
  readonly pathPrefix: string;
  readonly value: T;
  /** The entry's config path (`routes[3]`), used in problems. */
  readonly where: string;
}

/** A built route table. */
export interface RouteTable<T> {
  /**
   * The value of the route for `host` and `path`, or undefined when none matches
   * (a 404). `host` must come from `canonicalizeHost` and `path` from
   * `canonicalizeTarget`: the table compares canonical strings only.
   */
  lookup(host: string, path: string): T | undefined;
}

/** The routes of one host group, keyed by canonical path prefix. */
interface HostGroup<T> {
  readonly byPrefix: Map<string, T>;
  /** `hasLength[n]` is 1 when some prefix is n characters long: other lengths are skipped without slicing. */
  hasLength: Uint8Array;
}

const SLASH = 0x2f;

function describeHost(host: string | undefined): string {
  return host === undefined ? "any host" : `host "${host}"`;
}

function addToGroup<T>(
  groups: Map<string, HostGroup<T>>,
  key: string,
  prefix: string,
  value: T,
): void {
  let group = groups.get(key);
  if (group === undefined) {
    group = { byPrefix: new Map(), hasLength: new Uint8Array(0) };
    groups.set(key, group);
  }
  group.byPrefix.set(prefix, value);
  if (prefix.length >= group.hasLength.length) {
    const grown = new Uint8Array(prefix.length + 1);
    grown.set(group.hasLength);
    group.hasLength = grown;
  }
  group.hasLength[prefix.length] = 1;
}

function valueAt<T>(group: HostGroup<T>, path: string, length: number): T | undefined {
  if (group.hasLength[length] !== 1) return undefined;
  return group.byPrefix.get(length === path.length ? path : path.slice(0, length));
}

/**
 * The longest prefix of `path` in `group`, segment-aware. The candidates, longest
 * first, are the path itself and, at each `/`, the part up to and including it and the
 * part before it: `/a/b/c` tries `/a/b/c`, `/a/b/`, `/a/b`, `/a/`, `/a`, `/`. So `/api`
 * matches `/api` and `/api/x` but never `/apix`, and `/api/` matches only below `/api/`.
 */
function lookupInGroup<T>(group: HostGroup<T>, path: string): T | undefined {
  let value = valueAt(group, path, path.length);
  if (value !== undefined) return value;
  for (let slash = path.lastIndexOf("/"); slash >= 0; slash = path.lastIndexOf("/", slash - 1)) {
    if (slash + 1 < path.length) {
      value = valueAt(group, path, slash + 1);
      if (value !== undefined) return value;
    }
    if (slash > 0) {
      value = valueAt(group, path, slash);
      if (value !== undefined) return value;
    }
    if (slash === 0) break;
  }
  return undefined;
}

/**
 * Builds a route table and lists every problem found, each at the entry's `where`.
 *
 * Selection, host first:
 * 1. The most specific host group that has any route: the exact host, else the
 *    wildcard `*.` + (host without its first label), else the routes without a host.
 *    A wildcard stands for exactly one label, as in TLS certificates: `*.example.com`
 *    matches `a.example.com`, not `a.b.example.com` and not `example.com`.
 * 2. Within that group only, the longest matching path prefix. There is no fall-through
 *    to a less specific group: a host's routes are its own, so a path none of them
 *    covers is a 404 even when an any-host route would match it.
 *
 * Prefix matching is segment-aware: a prefix ending in `/` matches the paths that start
 * with it; any other prefix (`/api`) matches itself and what lies below it (`/api/...`),
 * never a sibling (`/apix`); `/` matches every path.
 *
 * Hosts are canonicalized with `canonicalizeRouteHost` and prefixes with
 * `canonicalizePathPrefix`; an entry whose host or prefix is refused is a problem and is
 * left out. Two entries with the same canonical host and prefix are a problem at the
 * later entry. Callers must not use a table built with problems (config loading rejects
 * the whole config), but the table is still consistent: each such entry is simply absent.
 */
export function buildRouteTable<T>(entries: readonly RouteTableEntry<T>[]): {
  readonly table: RouteTable<T>;
  readonly problems: readonly ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const exact = new Map<string, HostGroup<T>>();
  // Keyed by the domain after `*.`, so a lookup needs one slice of the host.
  const wildcard = new Map<string, HostGroup<T>>();
  const anyHost = new Map<string, HostGroup<T>>();
  const firstWhere = new Map<string, string>();

  for (const entry of entries) {
    let host: string | undefined;
    if (entry.host !== undefined) {
      const canonicalHost = canonicalizeRouteHost(entry.host);
      if (!canonicalHost.ok) {
        problems.push({
          path: entry.where,
          message: `host "${entry.host}": ${canonicalHost.problem}`,
        });
        continue;
      }
      host = canonicalHost.host;
    }
    const prefix = canonicalizePathPrefix(entry.pathPrefix);
    if (!prefix.ok) {
      problems.push({
        path: entry.where,
        message: `path prefix "${entry.pathPrefix}": ${prefix.problem}`,
      });
      continue;
    }

    // `\n` cannot occur in a canonical host, so the key is unambiguous.
    const key = `${host ?? ""}\n${prefix.prefix}`;
    const earlier = firstWhere.get(key);
    if (earlier !== undefined) {
      problems.push({
        path: entry.where,
        message: `${describeHost(host)} and path prefix "${prefix.prefix}" are already routed by ${earlier}`,
      });
      continue;
    }
    firstWhere.set(key, entry.where);

    if (host === undefined) addToGroup(anyHost, "", prefix.prefix, entry.value);
    else if (host.startsWith("*.")) addToGroup(wildcard, host.slice(2), prefix.prefix, entry.value);
    else addToGroup(exact, host, prefix.prefix, entry.value);
  }

  const anyHostGroup = anyHost.get("");
  const table: RouteTable<T> = Object.freeze({
    lookup(host: string, path: string): T | undefined {
      if (path.charCodeAt(0) !== SLASH) return undefined;
      let group = exact.get(host);
      if (group === undefined && wildcard.size > 0) {
        const dot = host.indexOf(".");
        // A leading dot would make an empty label, which canonical hosts never have.
        if (dot > 0) group = wildcard.get(host.slice(dot + 1));
      }
      group ??= anyHostGroup;
      return group === undefined ? undefined : lookupInGroup(group, path);
    },
  });
  return { table, problems };
}
