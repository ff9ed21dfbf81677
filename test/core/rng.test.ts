import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProvenantError, apportion, createRng, permutation, randomSplit, sampleIndices, shuffle } from '../../src/core/index.js';

/** Reference xoshiro128** written independently with BigInt arithmetic (slow, obviously correct). */
function referenceXoshiro(state: bigint[]) {
  const mask = 0xffffffffn;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
  const s = state.slice();
  return () => {
    const result = (rotl((s[1]! * 5n) & mask, 7n) * 9n) & mask;
    const t = (s[1]! << 9n) & mask;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
    return Number(result);
  };
}

describe('createRng (xoshiro128**)', () => {
  it('matches an independent BigInt implementation of xoshiro128** from the same state', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 4, maxLength: 4 }), (state) => {
        const ours = createRng({ state: state as [number, number, number, number] });
        const ref = referenceXoshiro(state.map(BigInt));
        for (let i = 0; i < 20; i++) expect(ours.nextUint32()).toBe(ref());
      }),
    );
  });

  it('is deterministic per seed, different across seeds, and resumable from its state', () => {
    const a = createRng(42);
    const b = createRng(42);
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(createRng(43).nextUint32()).not.toBe(seqA[0]);
    expect(createRng('split').nextUint32()).toBe(createRng('split').nextUint32());
    const saved = a.getState();
    const next = a.nextUint32();
    expect(createRng({ state: saved }).nextUint32()).toBe(next);
  });

  it('produces roughly uniform floats and standard normals', () => {
    const rng = createRng(7);
    const n = 50_000;
    let sum = 0;
    let sumSq = 0;
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      buckets[Math.floor(u * 10)]++;
      const z = rng.nextNormal();
      sum += z;
      sumSq += z * z;
    }
    // chi-square with 9 dof: 99.9th percentile is 27.9
    const chi = buckets.reduce((acc, c) => acc + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi).toBeLessThan(27.9);
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.03);
  });

  it('nextInt is unbiased over small ranges and rejects bad n', () => {
    const rng = createRng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.nextInt(3)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(() => rng.nextInt(0)).toThrow(ProvenantError);
    expect(() => rng.nextInt(2.5)).toThrow(ProvenantError);
  });

  it('rejects seeds that would silently collide', () => {
    for (const bad of [-1, 1.5, NaN, Infinity]) expect(() => createRng(bad)).toThrow(/RNG_SEED_INVALID/);
  });
});

describe('shuffles and splits', () => {
  it('shuffle and permutation are permutations, seeded and non-mutating', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.nat(), (items, seed) => {
        const copy = items.slice();
        const out = shuffle(items, seed);
        expect(items).toEqual(copy);
        expect([...out].sort((x, y) => x - y)).toEqual([...items].sort((x, y) => x - y));
        expect(shuffle(items, seed)).toEqual(out);
        const p = Array.from(permutation(items.length, seed)).sort((x, y) => x - y);
        expect(p).toEqual(items.map((_, i) => i));
      }),
    );
  });

  it('randomSplit parts are disjoint, cover 0..n-1 and have apportioned sizes', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.nat(), (n, seed) => {
        const parts = randomSplit(n, [0.7, 0.2, 0.1], seed);
        const all = parts.flatMap((p) => Array.from(p)).sort((x, y) => x - y);
        expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(parts.map((p) => p.length)).toEqual(apportion(n, [0.7, 0.2, 0.1]));
      }),
    );
  });

  it('apportion sums exactly and is within 1 of the exact share', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 }), (total, weights) => {
        const sum = weights.reduce((a, b) => a + b, 0);
        const fractions = weights.map((w) => w / sum);
        const sizes = apportion(total, fractions);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
        sizes.forEach((s, i) => expect(Math.abs(s - fractions[i]! * total)).toBeLessThan(1 + 1e-9));
      }),
    );
    expect(() => apportion(10, [0.5, 0.4])).toThrow(/sum to 1/);
  });

  it('sampleIndices returns k distinct indices', () => {
    const s = sampleIndices(100, 10, 1);
    expect(new Set(s).size).toBe(10);
    expect(() => sampleIndices(5, 6, 1)).toThrow(ProvenantError);
  });
});
