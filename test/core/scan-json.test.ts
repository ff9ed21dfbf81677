/**
 * scanJson, the one scanner behind findDuplicateJsonKey (JSONL, audit records) and the safetensors header check:
 * its keys and number tokens agree with a walk over JSON.parse's value on random JSON, and it sees what JSON.parse hides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKey, scanJson } from '../../src/core/index.js';

/** Reference: number leaves in document order, each with the outermost object's key it sits under. */
function numbersOf(value: unknown, topKey = '', depth = 0): { token: string; topKey: string }[] {
  if (typeof value === 'number') return [{ token: JSON.stringify(value), topKey }];
  if (Array.isArray(value)) return value.flatMap((v) => numbersOf(v, topKey, depth + 1));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbersOf(v, depth === 0 ? k : topKey, depth + 1));
  return [];
}

describe('scanJson', () => {
  it('hands out every number token as written, with its top-level key, in document order (random JSON)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })), (object) => {
        const text = JSON.stringify(object);
        const seen: { token: string; topKey: string }[] = [];
        scanJson(text, { number: (token, { topKey }) => void seen.push({ token, topKey }) });
        expect(seen).toEqual(numbersOf(JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  it('sees what JSON.parse hides: 4.0 and 1E3 as written, a repeated key with its depth and path; a callback stops it', () => {
    const tokens: string[] = [];
    scanJson('{"w":{"shape":[4.0,-0,1E3,2],"data_offsets":[0,8]},"\\u0077":{}}', {
      number: (token) => void tokens.push(token),
      key: (key, { depth, duplicate, path }) => void (duplicate && tokens.push(`dup ${key} ${depth} ${path}`)),
    });
    expect(tokens).toEqual(['4.0', '-0', '1E3', '2', '0', '8', 'dup w 1 $']);
    let calls = 0;
    scanJson('[1,2,3]', { number: () => ++calls === 2 });
    expect(calls).toBe(2);
    expect(findDuplicateJsonKey('{"a":[{"b":1,"c":{"d":1,"d":2}}]}')).toEqual({ key: 'd', path: '$.a[0].c' });
    expect(findDuplicateJsonKey('{"a":"{\\"a\\":1,\\"a\\":2}"}')).toBeNull(); // keys inside a string are text
  });
});
