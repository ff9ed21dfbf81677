/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, integers as integers. Content hashes of rows,
 * configs and audit records are hashes of this text, so the same content always gives the same hash regardless of
 * key order. Values JSON cannot carry faithfully (NaN, ±Infinity, undefined inside arrays, functions, bigint, cycles)
 * are errors: silently turning NaN into null would make two different rows hash alike.
 */
import { ProvenantError } from './errors.js';

/**
 * Canonical JSON text of a value: keys sorted, no whitespace, integers as integers.
 *
 * @throws ProvenantError `JSON_NOT_CANONICAL` naming the path of a value JSON cannot carry (NaN, ±Infinity, bigint,
 *   undefined in an array, a function, a cycle)
 * @example
 * ```ts
 * import { canonicalJson } from 'provenant';
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false';
      case 'string':
        return JSON.stringify(v);
      case 'number':
        if (!Number.isFinite(v)) throw notCanonical(path, `${v} is not representable in JSON`);
        return Object.is(v, -0) ? '0' : JSON.stringify(v);
      case 'object': {
        if (seen.has(v as object)) throw notCanonical(path, 'cyclic structure');
        seen.add(v as object);
        let out: string;
        if (Array.isArray(v) || ArrayBuffer.isView(v)) {
          const items = Array.from(v as ArrayLike<unknown>, (item, i) => {
            if (item === undefined) throw notCanonical(`${path}[${i}]`, 'undefined array element');
            return walk(item, `${path}[${i}]`);
          });
          out = `[${items.join(',')}]`;
        } else {
          const keys = Object.keys(v as object)
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',')}}`;
        }
        seen.delete(v as object);
        return out;
      }
      default:
        throw notCanonical(path, `a ${typeof v} cannot be hashed as JSON`);
    }
  };
  return walk(value, '$');
}

function notCanonical(path: string, reason: string): ProvenantError {
  return new ProvenantError('JSON_NOT_CANONICAL', `Value at ${path} cannot be written as canonical JSON: ${reason}.`, {
    data: { path },
  });
}
