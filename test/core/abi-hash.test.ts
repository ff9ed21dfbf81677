import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { encodeAbiParameters, keccak256 as viemKeccak, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  abiEncode,
  bytesToHex,
  canonicalJson,
  createSha256,
  hexToBytes,
  isProvenantError,
  keccak256,
  sha256,
} from '../../src/core/index.js';

const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => bytesToHex(b));

describe('abiEncode equals viem encodeAbiParameters (an independent implementation)', () => {
  it('on random mixed static/dynamic tuples', () => {
    const arb = fc.record({
      a: hex(20),
      u: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
      i: fc.bigInt({ min: -(1n << 127n), max: (1n << 127n) - 1n }),
      b32: hex(32),
      b4: hex(4),
      flag: fc.boolean(),
      s: fc.string({ unit: 'grapheme' }),
      bytes: fc.uint8Array({ maxLength: 70 }).map((b) => bytesToHex(b)),
      list: fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 4 }),
      strings: fc.array(fc.string(), { maxLength: 3 }),
      fixed: fc.tuple(fc.bigInt({ min: 0n, max: 255n }), fc.bigInt({ min: 0n, max: 255n })),
    });
    const types = ['address', 'uint256', 'int128', 'bytes32', 'bytes4', 'bool', 'string', 'bytes', 'uint64[]', 'string[]', 'uint8[2]'];
    fc.assert(
      fc.property(arb, (v) => {
        const values = [v.a, v.u, v.i, v.b32, v.b4, v.flag, v.s, v.bytes, v.list, v.strings, v.fixed];
        const ours = bytesToHex(abiEncode(types, values));
        const theirs = encodeAbiParameters(types.map((type) => ({ type })), values as never);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects out-of-range and malformed values with ABI_ENCODING_INVALID', () => {
    const bad: [string, unknown][] = [
      ['uint8', 256n],
      ['int8', -129n],
      ['uint256', 1.5],
      ['address', '0x1234'],
      ['bytes32', '0x12'],
      ['bool', 1],
      ['string', 7],
      ['uint256[2]', [1n]],
      ['fixed128x18', 1n],
    ];
    for (const [type, value] of bad) {
      try {
        abiEncode([type], [value]);
        throw new Error(`accepted ${type} ${String(value)}`);
      } catch (e) {
        expect(isProvenantError(e, 'ABI_ENCODING_INVALID')).toBe(true);
      }
    }
  });
});

describe('hashing', () => {
  it('keccak256 and sha256 match viem and node:crypto on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(keccak256(bytes)).toBe(viemKeccak(bytes));
        expect(sha256(bytes)).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
      }),
    );
    expect(keccak256('')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it('incremental sha256 equals the one-shot digest', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 6 }), (chunks) => {
        const h = createSha256();
        for (const c of chunks) h.update(c);
        expect(h.digest()).toBe(sha256(Buffer.concat(chunks)));
      }),
    );
  });

  it('hex round-trips and rejects odd or non-hex input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      expect(hexToBytes(bytesToHex(b))).toEqual(b);
    }));
    expect(bytesToHex(new Uint8Array([0, 255]))).toBe(toHex(new Uint8Array([0, 255])));
    expect(() => hexToBytes('0x123')).toThrow(/odd number/);
    expect(() => hexToBytes('0xzz')).toThrow(/non-hex/);
  });
});

describe('canonicalJson', () => {
  it('is independent of key order and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        const shuffled = JSON.parse(JSON.stringify(value), (_k, v) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        );
        expect(canonicalJson(shuffled)).toBe(text);
      }),
    );
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: -0, y: 2.5 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2.5,"z":0}}');
  });

  it('refuses values JSON cannot carry instead of silently changing them', () => {
    for (const bad of [{ x: NaN }, [Infinity], { x: 1n }, [undefined], { f: () => 1 }]) {
      expect(() => canonicalJson(bad)).toThrow(/JSON_NOT_CANONICAL/);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });
});

describe('single-block keccak (unrolled Keccak-f[1600])', () => {
  it.each(['wasm', 'js'] as const)('equals @noble/hashes keccak256 for every length 0..135 (%s permutation)', async (engine) => {
    const { createKeccakScratch, keccak256Into } = await import('../../src/core/keccak-block.js');
    const scratch = createKeccakScratch(engine);
    expect(scratch.engine).toBe(engine);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 135 }), fc.nat(7), (bytes, offset) => {
        const input = new Uint8Array(offset + bytes.length);
        input.set(bytes, offset);
        const out = new Uint8Array(40);
        keccak256Into(scratch, input, offset, bytes.length, out, 3);
        expect(bytesToHex(out.subarray(3, 35))).toBe(keccak256(bytes));
      }),
      { numRuns: 400 },
    );
  });
});
