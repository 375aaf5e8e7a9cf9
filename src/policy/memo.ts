/**
 * A pure function of a string, remembered for up to `max` distinct inputs, then
 * forgotten all at once (no eviction order to keep: a policy sees few distinct
 * source addresses or OS versions, and a flood of new ones only costs recomputing).
 * For the per-request tests whose parsing costs more than a Map lookup.
 */
export function memoizeText<T>(compute: (text: string) => T, max = 4096): (text: string) => T {
  const remembered = new Map<string, T>();
  return (text) => {
    const known = remembered.get(text);
    if (known !== undefined || remembered.has(text)) return known as T;
    const value = compute(text);
    if (remembered.size >= max) remembered.clear();
    remembered.set(text, value);
    return value;
  };
}
