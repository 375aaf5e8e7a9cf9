// The soak's load: `concurrency` workers, each looping until the deadline and picking a kind
// of request at random by weight: allowed (alice), denied by policy (bob), without a client
// certificate, malformed, aborted mid-request or mid-response, and each upstream fault.
// Every exchange has a timeout; its outcome is what the client saw (status, error code).
import { Agent } from "node:https";
import { performance } from "node:perf_hooks";
import { exchange } from "./https-exchange.mjs";
import { MALFORMED_VARIANTS, sendRaw } from "./malformed-requests.mjs";

const POST_BODY = Buffer.alloc(2048, "p");

function codeOf(error) {
  return error?.code ?? error?.message ?? String(error);
}

function randomInt(below) {
  return Math.floor(Math.random() * below);
}

/**
 * The kinds of request, with weights and the outcomes expected of them. `run(ctx, seq)`
 * resolves { outcome, requestId } and may set `kind` to a more precise name.
 */
const KINDS = [
  {
    name: "allowed",
    weight: 30,
    expect: /^200$/,
    run: (c, seq) => c.send({ as: "alice", kind: "allowed", path: `/app/ok/${seq}` }),
  },
  {
    name: "allowed-post",
    weight: 6,
    expect: /^200$/,
    run: (c, seq) =>
      c.send({
        as: "alice",
        kind: "allowed-post",
        method: "POST",
        path: `/app/post/${seq}`,
        body: POST_BODY,
      }),
  },
  {
    name: "allowed-new-connection",
    weight: 4,
    expect: /^200$/,
    run: (c, seq) =>
      c.send({ as: "alice", fresh: true, kind: "allowed-new-connection", path: `/app/ok/${seq}` }),
  },
  {
    name: "denied-by-policy",
    weight: 14,
    expect: /^403$/,
    run: (c, seq) => c.send({ as: "bob", kind: "denied-by-policy", path: `/app/denied/${seq}` }),
  },
  {
    name: "no-client-certificate",
    weight: 8,
    expect: /^401$/,
    run: (c, seq) =>
      c.send({ as: "anonymous", kind: "no-client-certificate", path: `/app/nocert/${seq}` }),
  },
  {
    name: "malformed",
    weight: 10,
    run: async (c, seq) => {
      const names = Object.keys(MALFORMED_VARIANTS);
      const name = names[randomInt(names.length)];
      const variant = MALFORMED_VARIANTS[name];
      const result = await sendRaw({
        port: c.port,
        ca: c.ca,
        identity: c.identities.alice,
        bytes: variant.bytes(seq),
      });
      return { ...result, kind: `malformed/${name}`, expect: variant.expect };
    },
  },
  {
    name: "aborted-mid-request",
    weight: 5,
    // Headers and part of a declared 100 kB body, then gone (sometimes still in the handshake).
    expect: /client-abort$/,
    run: (c, seq) =>
      c.send({
        as: "alice",
        fresh: true,
        kind: "aborted-mid-request",
        method: "POST",
        path: `/app/abort-request/${seq}`,
        body: POST_BODY.subarray(0, randomInt(2) * 1000),
        abort: { declaredLength: 100_000, afterMs: 5 + randomInt(80) },
      }),
  },
  {
    name: "aborted-mid-response",
    weight: 5,
    // Half leave a streaming response after its first bytes; half leave a silent upstream early.
    expect: /client-abort$/,
    run: (c, seq) =>
      randomInt(2) === 0
        ? c.send({
            as: "alice",
            fresh: true,
            kind: "aborted-mid-response",
            path: `/app/big/${seq}`,
            abort: { afterFirstByte: true },
          })
        : c.send({
            as: "alice",
            fresh: true,
            kind: "aborted-mid-response",
            path: `/fault/slow/${seq}`,
            abort: { afterMs: 100 + randomInt(500) },
          }),
  },
  {
    name: "upstream-slow",
    weight: 3,
    expect: /^504$/,
    run: (c, seq) => c.send({ as: "faults", kind: "upstream-slow", path: `/fault/slow/${seq}` }),
  },
  {
    name: "upstream-reset",
    weight: 4,
    expect: /^502$/,
    run: (c, seq) => c.send({ as: "faults", kind: "upstream-reset", path: `/fault/reset/${seq}` }),
  },
  {
    name: "upstream-half-body",
    weight: 4,
    expect: /^200 body-error/,
    run: (c, seq) =>
      c.send({ as: "faults", kind: "upstream-half-body", path: `/fault/half/${seq}` }),
  },
  {
    name: "upstream-bad-headers",
    weight: 4,
    expect: /^502$/,
    run: (c, seq) =>
      c.send({ as: "faults", kind: "upstream-bad-headers", path: `/fault/badheaders/${seq}` }),
  },
];

const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0);

function pickKind() {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const kind of KINDS) {
    roll -= kind.weight;
    if (roll < 0) return kind;
  }
  return KINDS[KINDS.length - 1];
}

/** Tallies of what the clients saw; one object may gather several runs. */
export function createTallies() {
  return {
    /** "kind\toutcome" -> count */
    outcomes: new Map(),
    /** kind -> count of outcomes not matching the kind's expectation */
    unexpected: new Map(),
    /** request ids of every response that carried one */
    responseIds: [],
    /** completion times (epoch ms) of allowed requests answered 200 */
    allowedOkAt: [],
    allowedLatenciesMs: [],
    total: 0,
  };
}

/**
 * Runs the load until `deadline` (epoch ms) or until `shouldStop()`, adding to `tallies`.
 * `label` prefixes the sequence numbers in request paths (unique per run). `credentials`: PEM strings { ca, alice: { cert, key }, bob: { cert, key } }. Closes its
 * kept-alive connections before it resolves.
 */
export async function runLoad({
  port,
  credentials,
  concurrency,
  deadline,
  shouldStop,
  tallies,
  label,
}) {
  const { ca } = credentials;
  const identities = {
    alice: credentials.alice,
    faults: credentials.alice,
    bob: credentials.bob,
    anonymous: {},
  };
  // Kept-alive connections per identity; the faults have their own, as half bodies kill them.
  const agents = Object.fromEntries(
    Object.keys(identities).map((as) => [
      as,
      new Agent({ keepAlive: true, maxSockets: concurrency }),
    ]),
  );
  const ctx = {
    port,
    ca,
    identities,
    send: ({ as, fresh = false, ...rest }) =>
      exchange({ port, ca, identity: identities[as], agent: fresh ? false : agents[as], ...rest }),
  };
  const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  async function worker(id) {
    for (let n = 0; Date.now() < deadline && !shouldStop(); n++) {
      const kind = pickKind();
      const started = performance.now();
      let result;
      try {
        result = await kind.run(ctx, `${label}${id}-${n}`);
      } catch (error) {
        result = { outcome: `soak-error:${codeOf(error)}` };
      }
      const name = result.kind ?? kind.name;
      const expect = result.expect ?? kind.expect;
      tallies.total += 1;
      add(tallies.outcomes, `${name}\t${result.outcome}`);
      if (!expect.test(result.outcome)) add(tallies.unexpected, name);
      if (result.requestId !== undefined) tallies.responseIds.push(result.requestId);
      if (name.startsWith("allowed") && result.outcome === "200") {
        tallies.allowedOkAt.push(Date.now());
        tallies.allowedLatenciesMs.push(performance.now() - started);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  for (const agent of Object.values(agents)) agent.destroy();
}
