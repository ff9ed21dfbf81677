/**
 * Issue 13 kind 3: a safetensors header that lies (non-integer offsets or dims, overlaps, out-of-range, negative, huge)
 * is refused with SAFETENSORS_INVALID naming the tensor — the case file, its siblings, and a fuzz over mutated headers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../../src/core/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/finetune/io/safetensors.js';

const CASES = join(__dirname, '../../../../shared/cases/safetensors');

function file(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const refused = (bytes: Uint8Array): ProvenantError => {
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    expect(isProvenantError(error, 'SAFETENSORS_INVALID')).toBe(true);
    return error as ProvenantError;
  }
  throw new Error('accepted a header that lies');
};
const one = new Uint8Array(new Float32Array([1]).buffer);
const two = new Uint8Array(new Float32Array([1, 2]).buffer);

describe('safetensors: offsets and dims must be JSON integers', () => {
  it('cases/safetensors/j_float_offsets.safetensors ([0.0, 4.0]) is refused naming the tensor', () => {
    const error = refused(new Uint8Array(readFileSync(join(CASES, 'j_float_offsets.safetensors'))));
    expect(error.data.tensor).toBe('x');
    expect(error.data.token).toBe('0.0');
  });

  it.each([
    ['fraction in offsets', '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', '4.0'],
    ['exponent in offsets', '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', '4e0'],
    ['capital exponent', '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0E0,4]}}', '0E0'],
    ['fraction in a dim', '{"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', '1.0'],
    ['exponent in a dim', '{"x":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', '1e0'],
    ['negative zero', '{"x":{"dtype":"F32","shape":[-0,1],"data_offsets":[0,0]}}', '-0'],
  ])('%s', (_name, header, token) => {
    const error = refused(file(header, header.includes('[-0') ? new Uint8Array(0) : one));
    expect([error.data.tensor, error.data.token]).toEqual(['x', token]);
  });

  it('the same headers with integer tokens are accepted (the check is about the token, not the value)', () => {
    expect(decodeSafetensors(file('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', one)).tensors.x!.data).toEqual(new Float32Array([1]));
    // Numbers inside a tensor *name* or metadata string are text, not numbers.
    const named = decodeSafetensors(file('{"__metadata__":{"v":"4.0"},"w.4.0":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', one));
    expect(Object.keys(named.tensors)).toEqual(['w.4.0']);
  });
});

describe('safetensors: other header lies', () => {
  it.each([
    ['overlapping tensors', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', two, /overlaps|gap/],
    ['offsets past the end', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', one, /past the|truncated/],
    ['negative offset', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', one, /data_offsets/],
    ['negative dim', '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', one, /invalid shape/],
    ['huge dims (overflow)', '{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', one, /more elements|invalid shape/],
    ['offset beyond 2^53', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551620]}}', one, /data_offsets/],
    ['end before begin', '{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', one, /before it begins|data_offsets|gap/],
    ['size disagrees with shape', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', one, /needs 8/],
  ])('%s', (_name, header, data, pattern) => {
    expect(refused(file(header, data)).message).toMatch(pattern);
  });

  it('fuzz: any single-token mutation of a valid header is either refused with SAFETENSORS_INVALID or decodes to in-bounds tensors', () => {
    const valid = encodeSafetensors({ a: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6).fill(1) }, b: { dtype: 'I32', shape: [4], data: new Int32Array(4) } });
    const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(valid.subarray(8, 8 + headerLength));
    const data = valid.subarray(8 + headerLength);
    const numbers = [...header.matchAll(/\d+/g)];
    const replacement = fc.oneof(fc.constantFrom('0.0', '1e1', '-1', '-0', '4294967296', '9007199254740993', '1.5', '0', '24', '48', '12', '40'), fc.nat({ max: 100 }).map(String));
    fc.assert(
      fc.property(fc.nat({ max: numbers.length - 1 }), replacement, (k, token) => {
        const m = numbers[k]!;
        const mutated = header.slice(0, m.index) + token + header.slice(m.index! + m[0].length);
        let decoded;
        try {
          decoded = decodeSafetensors(file(mutated.trimEnd(), data));
        } catch (error) {
          expect(isProvenantError(error, 'SAFETENSORS_INVALID')).toBe(true);
          return;
        }
        // Accepted: then every tensor's element count matches its shape, and nothing reads past the data.
        let total = 0;
        for (const t of Object.values(decoded.tensors)) {
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
          total += t.data.byteLength;
        }
        expect(total).toBe(data.length);
        expect(/^\d+$/.test(token)).toBe(true);
      }),
      { seed: 3, numRuns: 400 },
    );
  });
});
