import { BlockList, isIP } from "node:net";
import { describeOperand } from "./format-operand.js";
import { memoizeText } from "./memo.js";
import { expected, listOf, ok, problem } from "./operator-result.js";
import type { OperatorCompiler, OperatorResult, ValueTest } from "./operator-result.js";

/**
 * Operators on addresses (`request.sourceIp`): `eq`, `ne`, `in`, `notIn` and `cidr`.
 * Addresses compare as addresses, not as text (`::1` equals `0:0:0:0:0:0:0:1`),
 * through a `BlockList` built once when the policy is compiled. `prefix` on an
 * address would be a trap (`10.0.0.1` is a prefix of `10.0.0.15`), so there is none.
 */

type Family = "ipv4" | "ipv6";

const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, how a dual-stack socket reports an
 * IPv4 peer) is that IPv4 address, so that `cidr: 10.0.0.0/8` covers it.
 */
function readAddress(value: unknown): { address: string; family: Family } | undefined {
  if (typeof value !== "string") return undefined;
  const address = MAPPED_IPV4.exec(value)?.[1] ?? value;
  const version = isIP(address);
  if (version === 0) return undefined;
  return { address, family: version === 4 ? "ipv4" : "ipv6" };
}

type Standing = "listed" | "unlisted" | "not-an-address";

/**
 * Where a value stands with a list; remembered per value, because `BlockList.check`
 * costs about 2 µs and a connection's address is the same on every request.
 */
function standingIn(list: BlockList): (value: unknown) => Standing {
  const standing = memoizeText((text): Standing => {
    const parsed = readAddress(text);
    if (parsed === undefined) return "not-an-address";
    return list.check(parsed.address, parsed.family) ? "listed" : "unlisted";
  });
  return (value) => (typeof value === "string" ? standing(value) : "not-an-address");
}

function isListedIn(list: BlockList): ValueTest {
  const standing = standingIn(list);
  return (value) => standing(value) === "listed";
}

const ADDRESS = 'an IP address such as "10.1.2.3"';

/** Returns undefined unless every item is an address. */
function compileAddresses(items: unknown, negate: boolean): ValueTest | undefined {
  if (!Array.isArray(items) || items.length === 0) return undefined;
  const list = new BlockList();
  for (const item of items) {
    const parsed = readAddress(item);
    if (parsed === undefined) return undefined;
    list.addAddress(parsed.address, parsed.family);
  }
  const standing = standingIn(list);
  // A malformed address is the wrong type: it is not "some other address".
  const want: Standing = negate ? "unlisted" : "listed";
  return (value) => standing(value) === want;
}

const compileOne =
  (negate: boolean) =>
  (operand: unknown): OperatorResult => {
    const test = compileAddresses([operand], negate);
    return test === undefined ? expected(ADDRESS, operand) : ok(test);
  };

const compileList =
  (negate: boolean) =>
  (operand: unknown): OperatorResult => {
    const test = compileAddresses(operand, negate);
    return test === undefined ? expected(listOf(ADDRESS), operand) : ok(test);
  };

const CIDR = /^([^/]+)(?:\/(\d{1,3}))?$/;

/**
 * `cidr`: one network or a list, written `10.0.0.0/8` or `2001:db8::/32`; a bare
 * address means just that address.
 */
export const cidr: OperatorCompiler = (operand) => {
  const networks = typeof operand === "string" ? [operand] : operand;
  if (!Array.isArray(networks) || networks.length === 0) {
    return expected('a CIDR such as "10.0.0.0/8", or a non-empty list of them', operand);
  }
  const list = new BlockList();
  for (const network of networks) {
    const match = typeof network === "string" ? CIDR.exec(network) : null;
    const parsed = readAddress(match?.[1]);
    if (match === null || parsed === undefined) {
      return problem(`invalid CIDR ${describeOperand(network)}`);
    }
    const maxBits = parsed.family === "ipv4" ? 32 : 128;
    const bits = match[2] === undefined ? maxBits : Number(match[2]);
    if (bits > maxBits) {
      return problem(`invalid CIDR ${describeOperand(network)}: longer than ${maxBits} bits`);
    }
    list.addSubnet(parsed.address, bits, parsed.family);
  }
  return ok(isListedIn(list));
};

/** `eq`, `ne`, `in`, `notIn` for addresses. */
export const addressOperators = {
  eq: compileOne(false),
  ne: compileOne(true),
  in: compileList(false),
  notIn: compileList(true),
};
