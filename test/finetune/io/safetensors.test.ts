import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import {
  bfloat16BitsToFloat32,
  decodeSafetensors,
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  type SafetensorsTensor,
} from '../../../src/finetune/io/safetensors.js';

const fixture = new Uint8Array(readFileSync(fileURLToPath(new URL('../../fixtures/finetune/handmade.safetensors', import.meta.url))));

function expectInvalid(bytes: Uint8Array, pattern?: RegExp): void {
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    expect(isProvenantError(error, 'SAFETENSORS_INVALID')).toBe(true);
    if (pattern) expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected SAFETENSORS_INVALID');
}

/** Builds a file from a header string and data bytes exactly as the spec lays it out (no padding unless given). */
function rawFile(header: string, data: number[] | Uint8Array = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors against hand-built bytes', () => {
  it('reads the hand-built fixture (every value written by Python struct from the spec)', () => {
    const { tensors, metadata } = decodeSafetensors(fixture);
    expect(metadata).toEqual({ format: 'pt', source: 'hand' });
    expect(Object.keys(tensors).sort()).toEqual(['a', 'b', 'c', 'e', 'h']);
    expect(tensors.a).toEqual({ dtype: 'I64', shape: [1], data: new BigInt64Array([-7n]) });
    expect(tensors.b).toEqual({ dtype: 'F32', shape: [2, 1], data: new Float32Array([1.5, -2]) });
    expect(tensors.e).toEqual({ dtype: 'F32', shape: [0], data: new Float32Array(0) });
    expect(tensors.c).toEqual({ dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) });
    expect(tensors.h!.dtype).toBe('F16');
    expect(Array.from(float16BitsToFloat32(tensors.h!.data as Uint16Array))).toEqual([0.5, -65504]);
  });

  it('writes the fixture byte for byte (dtype-descending then name order, space padding to 8)', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      c: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      h: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3800, 0xfbff]) },
      b: { dtype: 'F32', shape: [2, 1], data: new Float32Array([1.5, -2]) },
      e: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
      a: { dtype: 'I64', shape: [1], data: new BigInt64Array([-7n]) },
    };
    const bytes = encodeSafetensors(tensors, { source: 'hand', format: 'pt' });
    expect(Buffer.from(bytes).equals(Buffer.from(fixture))).toBe(true);
  });

  it("reads the reference implementation's documentation example (unpadded 60-byte header)", () => {
    const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(header.length).toBe(60);
    const bytes = rawFile(header, new Array(16).fill(0));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.test).toEqual({ dtype: 'I32', shape: [2, 2], data: new Int32Array(4) });
  });

  it('decodes from an unaligned view into aligned, independent arrays', () => {
    const padded = new Uint8Array(fixture.length + 3);
    padded.set(fixture, 3);
    const { tensors } = decodeSafetensors(padded.subarray(3));
    expect(Array.from(tensors.b!.data as Float32Array)).toEqual([1.5, -2]);
    padded.fill(0);
    expect(Array.from(tensors.b!.data as Float32Array)).toEqual([1.5, -2]);
  });
});

describe('safetensors round trip (fast-check)', () => {
  const dtypeArb = fc.constantFrom('F32', 'F64', 'I32', 'I64', 'U8', 'I8', 'U16', 'I16', 'F16', 'BF16', 'BOOL', 'U32', 'U64');
  const tensorArb = fc.record({ dtype: dtypeArb, shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), seed: fc.integer() });
  const makeData = (dtype: string, n: number, seed: number) => {
    const ints = Array.from({ length: n }, (_, i) => ((seed + i * 2654435761) >>> 0) % 200);
    switch (dtype) {
      case 'F32': return new Float32Array(ints.map((v) => v / 7 - 10));
      case 'F64': return new Float64Array(ints.map((v) => v / 7 - 10));
      case 'I32': return new Int32Array(ints.map((v) => v * 1000 - 99999));
      case 'U32': return new Uint32Array(ints.map((v) => v * 21474836));
      case 'I64': return new BigInt64Array(ints.map((v) => BigInt(v) * 10n ** 15n - 10n ** 17n));
      case 'U64': return new BigUint64Array(ints.map((v) => BigInt(v) * 10n ** 17n));
      case 'I8': return new Int8Array(ints.map((v) => v - 100));
      case 'I16': return new Int16Array(ints.map((v) => v * 150 - 15000));
      case 'U16': case 'F16': case 'BF16': return new Uint16Array(ints.map((v) => v * 300));
      default: return new Uint8Array(ints.map((v) => (dtype === 'BOOL' ? v & 1 : v)));
    }
  };
  it('decode(encode(t)) = t, and the data section is 8-byte aligned', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__'), tensorArb, { maxKeys: 6 }),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), (specs, metadata) => {
          const tensors: Record<string, SafetensorsTensor> = {};
          for (const [name, spec] of Object.entries(specs)) {
            const n = spec.shape.reduce((a, b) => a * b, 1);
            tensors[name] = { dtype: spec.dtype, shape: spec.shape, data: makeData(spec.dtype, n, spec.seed) } as SafetensorsTensor;
          }
          const bytes = encodeSafetensors(tensors, metadata);
          const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(headerLength % 8).toBe(0);
          const decoded = decodeSafetensors(bytes);
          expect(decoded.metadata).toEqual({ ...metadata });
          expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [name, t] of Object.entries(tensors)) expect(decoded.tensors[name]).toEqual(t);
          // The encoding is a pure function of the content.
          expect(Buffer.from(encodeSafetensors(decoded.tensors, decoded.metadata)).equals(Buffer.from(bytes))).toBe(true);
        }),
      { numRuns: 200 },
    );
  });

  it('every strict prefix of a valid file is refused (truncation)', () => {
    for (let length = 0; length < fixture.length; length++) expectInvalid(fixture.subarray(0, length));
  });

  it('no single flipped byte is misread silently: it is refused, or decodes to a self-consistent file', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: fixture.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
        const corrupt = fixture.slice();
        corrupt[index]! ^= xor;
        try {
          const { tensors } = decodeSafetensors(corrupt);
          // Accepted: only possible when the flip hit tensor data or a header byte that keeps it valid; re-encoding is lossless.
          expect(Object.keys(tensors).length).toBeGreaterThan(0);
        } catch (error) {
          expect(isProvenantError(error, 'SAFETENSORS_INVALID')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('safetensors strict validation', () => {
  const ok = (offsets: [number, number]) => `{"x":{"dtype":"F32","shape":[2],"data_offsets":[${offsets}]}}`;
  it('refuses header lengths past the file or over 100 MB', () => {
    const bytes = rawFile(ok([0, 8]), new Array(8).fill(0));
    const tooLong = bytes.slice();
    new DataView(tooLong.buffer).setBigUint64(0, BigInt(bytes.length), true);
    expectInvalid(tooLong, /runs past the end/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expectInvalid(huge, /exceeds/);
    expectInvalid(new Uint8Array(7), /too short/);
  });
  it('refuses bad JSON, a non-object header, bad UTF-8', () => {
    expectInvalid(rawFile('{"x":'), /not valid JSON/);
    expectInvalid(rawFile('[1,2]'), /start with/);
    expectInvalid(rawFile(' {}'), /start with/);
    const badUtf8 = rawFile('{"x":1}');
    badUtf8[10] = 0xff;
    expectInvalid(badUtf8, /UTF-8/);
  });
  it('refuses unknown dtypes, bad shapes, bad offsets and unknown fields, naming the tensor', () => {
    expectInvalid(rawFile('{"x":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', new Array(8).fill(0)), /unknown dtype/);
    expectInvalid(rawFile('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', new Array(8).fill(0)), /invalid shape/);
    expectInvalid(rawFile('{"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', new Array(8).fill(0)), /invalid shape/);
    expectInvalid(rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', new Array(8).fill(0)), /data_offsets/);
    expectInvalid(rawFile(ok([0, 12]), new Array(12).fill(0)), /needs 8/);
    expectInvalid(rawFile(ok([8, 0]), new Array(8).fill(0)), /before it begins/);
    expectInvalid(rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}', new Array(8).fill(0)), /unknown field/);
    expectInvalid(rawFile('{"x":3}'), /object/);
  });
  it('refuses gaps, overlaps, data past the end and unaccounted bytes', () => {
    const two = (a: [number, number], b: [number, number]) =>
      `{"x":{"dtype":"F32","shape":[1],"data_offsets":[${a}]},"y":{"dtype":"F32","shape":[1],"data_offsets":[${b}]}}`;
    expectInvalid(rawFile(two([0, 4], [2, 6]), new Array(8).fill(0)), /overlaps/);
    expectInvalid(rawFile(two([0, 4], [0, 4]), new Array(4).fill(0)), /overlaps/);
    expectInvalid(rawFile(two([0, 4], [8, 12]), new Array(12).fill(0)), /gap/);
    expectInvalid(rawFile(two([4, 8], [8, 12]), new Array(12).fill(0)), /gap/);
    expectInvalid(rawFile(ok([0, 8]), new Array(6).fill(0)), /past the/);
    expectInvalid(rawFile(ok([0, 8]), new Array(9).fill(0)), /no tensor accounts for/);
    // Offsets in any order are fine when they tile the data.
    expect(Object.keys(decodeSafetensors(rawFile(two([4, 8], [0, 4]), new Array(8).fill(0))).tensors)).toEqual(['x', 'y']);
  });
  it('refuses duplicate names and non-string metadata', () => {
    expectInvalid(rawFile('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [1, 2]), /twice/);
    expectInvalid(rawFile('{"__metadata__":{"a":1}}'), /must be a string/);
    expectInvalid(rawFile('{"__metadata__":[]}'), /object of strings/);
  });
  it('the encoder refuses mismatched data and reserved names', () => {
    const call = (tensors: Record<string, unknown>) => () => encodeSafetensors(tensors as Record<string, SafetensorsTensor>);
    expect(call({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 3/);
    expect(call({ x: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(/Float32Array/);
    expect(call({ x: { dtype: 'Q4', shape: [2], data: new Float32Array(2) } })).toThrow(/unknown dtype/);
    expect(call({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/reserved/);
  });
});

describe('16-bit float conversions', () => {
  it('float16 round-trips every finite half exactly, and rounds float32 to the nearest half', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const floats = float16BitsToFloat32(all);
    const back = float32ToFloat16Bits(floats);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(floats[i])) expect(Number.isNaN(float16BitsToFloat32(back.subarray(i, i + 1))[0])).toBe(true);
      else expect(back[i]).toBe(i);
    }
    // Independent check: the nearest representable half by brute force over the sorted finite halves.
    const finite = Array.from(floats).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    fc.assert(fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
      const got = float16BitsToFloat32(float32ToFloat16Bits([x]))[0]!;
      let best = Infinity;
      for (const h of finite) best = Math.min(best, Math.abs(h - Math.fround(x)));
      expect(Math.abs(got - Math.fround(x))).toBe(best);
    }), { numRuns: 100 });
  });
  it('bfloat16 is the top half of float32, rounded to nearest even', () => {
    expect(Array.from(bfloat16BitsToFloat32(new Uint16Array([0x3f80, 0xc000, 0x7f80])))).toEqual([1, -2, Infinity]);
    // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties to even (1); 1 + 3·2^-9 rounds up.
    expect(Array.from(float32ToBfloat16Bits([1 + 2 ** -8, 1 + 3 * 2 ** -9, -0]))).toEqual([0x3f80, 0x3f81, 0x8000]);
    expect(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits([NaN]))[0])).toBe(true);
  });
});
