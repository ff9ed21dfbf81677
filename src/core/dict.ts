/**
 * Records keyed by user-chosen strings. A contributor id or a label is data: `"__proto__"`, `"constructor"` or
 * `"toString"` must count like any other string. On a `{}` literal, `counts[key] ?? 0` reads `Object.prototype.toString`
 * for `"toString"` (counts turn into strings) and `out["__proto__"] = x` replaces the prototype instead of storing `x`
 * (a contributor vanishes). A null-prototype object has neither trap and still serialises, spreads and iterates like a
 * plain record.
 */

/**
 * An empty record with no prototype, optionally filled from entries (later entries win).
 *
 * @example
 * ```ts
 * import { dict } from 'provenant';
 * const counts = dict<number>();
 * counts['__proto__'] = (counts['__proto__'] ?? 0) + 1; // a real key, count 1
 * ```
 */
export function dict<V>(entries?: Iterable<readonly [string, V]>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  if (entries) for (const [k, v] of entries) out[k] = v;
  return out;
}

/**
 * Own enumerable string-keyed entries of a record or a Map, whatever the keys are called (`"__proto__"` and
 * `"constructor"` included), as `[key, value]` pairs in insertion order.
 *
 * @example
 * ```ts
 * import { dict, entriesOf } from 'provenant';
 *
 * const shares = dict<number>([['alice', 0.75], ['__proto__', 0.25]]);
 * entriesOf(shares);                          // [['alice', 0.75], ['__proto__', 0.25]]
 * entriesOf(new Map([['bob', 1]]));           // [['bob', 1]]
 * ```
 */
export function entriesOf<V>(source: Readonly<Record<string, V>> | ReadonlyMap<string, V>): [string, V][] {
  if (source instanceof Map) return [...source.entries()];
  return Object.keys(source).map((k) => [k, (source as Record<string, V>)[k]!]);
}
