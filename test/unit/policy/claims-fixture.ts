import type { Claims } from "../../../src/claims/claims.js";

/** Loosely typed sections, so that tests can also build malformed claims. */
export interface ClaimsParts {
  readonly identity?: Record<string, unknown>;
  readonly device?: Record<string, unknown>;
  readonly tee?: Record<string, unknown>;
  readonly request?: Record<string, unknown>;
}

/**
 * A minimal claims document (a certificate identity, a GET of `/`) with the given
 * parts merged in. `device` and `tee` are absent unless given.
 */
export function makeClaims(parts: ClaimsParts = {}): Claims {
  return {
    identity: { source: "certificate", ...parts.identity },
    ...(parts.device === undefined ? {} : { device: parts.device }),
    ...(parts.tee === undefined ? {} : { tee: parts.tee }),
    request: {
      method: "GET",
      path: "/",
      host: "payroll.internal.example",
      sourceIp: "10.0.0.1",
      time: 0,
      ...parts.request,
    },
  } as unknown as Claims;
}
