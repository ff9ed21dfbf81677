/**
 * JSON.parse lets the last of two equal keys win silently (`{"label":"ham","label":"spam"}` is `spam`), which can hide a
 * label flip from anyone reading the file. This finds the first key repeated within one object, comparing keys after
 * unescaping (`"a"` and `"\u0061"` are the same key), in one pass over text JSON.parse has already accepted.
 */
import { ProvenantError, type ProvenantErrorCode } from './errors.js';

/**
 * The first duplicated key in valid JSON `text`, with the path of the object holding it (`$`, `$.metadata`, `$[3]`), or
 * null. Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key). Call it on text `JSON.parse` has
 * accepted; {@link parseJsonStrict} does both.
 *
 * @example
 * ```ts
 * import { findDuplicateJsonKey } from 'provenant';
 *
 * findDuplicateJsonKey('{"text":"win $$$","label":"ham","label":"spam"}'); // { key: 'label', path: '$' }
 * findDuplicateJsonKey('[{"a":1},{"a":2}]');                               // null
 * ```
 */
export function findDuplicateJsonKey(text: string): { key: string; path: string } | null {
  type Frame = { object: boolean; keys: Set<string> | null; path: string; expectKey: boolean; lastKey: string; index: number };
  const stack: Frame[] = [];
  const childPath = (top: Frame | undefined): string => (!top ? '$' : top.object ? `${top.path}.${top.lastKey}` : `${top.path}[${top.index}]`);
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        top.keys ??= new Set();
        if (top.keys.has(key)) return { key, path: top.path };
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const top = stack[stack.length - 1];
      stack.push({ object: c === 0x7b, keys: null, path: childPath(top), expectKey: c === 0x7b, lastKey: '', index: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) {
        if (top.object) top.expectKey = true;
        else top.index += 1;
      }
    }
  }
  return null;
}

/**
 * `JSON.parse` that refuses duplicate keys: throws `code` (default `INVALID_ARGUMENT`) naming the key and where it is.
 *
 * @example
 * ```ts
 * import { parseJsonStrict } from 'provenant';
 * parseJsonStrict('{"label":"ham","label":"spam"}'); // throws: duplicate key "label" in $
 * ```
 */
export function parseJsonStrict(text: string, code: ProvenantErrorCode = 'INVALID_ARGUMENT'): unknown {
  const value: unknown = JSON.parse(text);
  if (typeof value === 'object' && value !== null) {
    const duplicate = findDuplicateJsonKey(text);
    if (duplicate) {
      throw new ProvenantError(code, `Duplicate JSON key "${duplicate.key}" in ${duplicate.path}.`, {
        details: 'JSON.parse would keep only the last value; the file is ambiguous, so it is refused.',
        data: { key: duplicate.key, path: duplicate.path },
      });
    }
  }
  return value;
}
