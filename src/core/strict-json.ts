/**
 * JSON.parse lets the last of two equal keys win silently (`{"label":"ham","label":"spam"}` is `spam`), which can hide a
 * label flip from anyone reading the file. This finds the first key repeated within one object, comparing keys after
 * unescaping (`"a"` and `"\u0061"` are the same key), in one pass over text JSON.parse has already accepted
 * ({@link scanJson}, which also hands out number tokens as written, for the safetensors header's integer check).
 */
import { ProvenantError, type ProvenantErrorCode } from './errors.js';

/** What {@link scanJson} reports, in text order. A callback that returns true stops the scan. */
export interface JsonScanVisitor {
  /**
   * An object key, unescaped. `duplicate`: the same key appeared earlier in this object; `path`: the object's path
   * (`$`, `$.metadata`, `$[3]`); `depth`: 1 for the outermost object.
   */
  key?(key: string, info: { path: string; depth: number; duplicate: boolean }): boolean | void;
  /** A number token exactly as written (`4`, `4.0`, `-0`, `1E3`), with the outermost object's current key ('' if none). */
  number?(token: string, info: { topKey: string; depth: number }): boolean | void;
}

/**
 * One pass over text JSON.parse has already accepted, a small state machine over strings and nesting: reports each
 * object key (with whether it repeats within its object) and, when asked, each number token as written — what
 * JSON.parse hides (it keeps the last of two equal keys; it reads 4.0 and 4e0 as 4). The JSONL importer, the audit
 * record reader and the safetensors header check all read through it.
 *
 * @param text valid JSON (the scan does not validate)
 * @param visitor callbacks for keys and numbers; number tokens are only cut out when `visitor.number` is given
 * @example
 * ```ts
 * import { scanJson } from 'provenant';
 * scanJson('{"shape":[4.0]}', { number: (token, { topKey }) => console.log(topKey, token) }); // shape 4.0
 * ```
 */
export function scanJson(text: string, visitor: JsonScanVisitor): void {
  type Frame = { object: boolean; keys: Set<string> | null; path: string; expectKey: boolean; lastKey: string; index: number };
  const stack: Frame[] = [];
  const childPath = (top: Frame | undefined): string => (!top ? '$' : top.object ? `${top.path}.${top.lastKey}` : `${top.path}[${top.index}]`);
  const wantNumbers = visitor.number !== undefined;
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
        const duplicate = top.keys.has(key);
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
        if (visitor.key?.(key, { path: top.path, depth: stack.length, duplicate })) return;
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
    } else if (wantNumbers && (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39))) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const topKey = stack[0]?.object ? stack[0].lastKey : '';
      if (visitor.number!(text.slice(i, j), { topKey, depth: stack.length })) return;
      i = j - 1;
    }
  }
}

/** 0-9 . e E + - */
const isNumberChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;

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
  let found: { key: string; path: string } | null = null;
  scanJson(text, { key: (key, { path, duplicate }) => (duplicate ? ((found = { key, path }), true) : false) });
  return found;
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
