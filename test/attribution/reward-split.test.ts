import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { splitReward, splitRewardDetailed } from '../../src/attribution/index.js';

/** x·2^k is exact for a double until it is an integer, so this gives x = num / 2^k without the code under test. */
function exactFraction(x: number): { num: bigint; den: bigint } {
  let k = 0;
  let scaled = x;
  while (!Number.isInteger(scaled)) {
    k += 1;
    scaled = x * 2 ** Math.min(k, 1000) * (k > 1000 ? 2 ** (k - 1000) : 1);
  }
  return { num: BigInt(scaled), den: 1n << BigInt(k) };
}

const key = fc.string({ minLength: 1, maxLength: 6 });
const share = fc.oneof(
  fc.double({ min: -5, max: 5, noNaN: true }),
  fc.double({ min: 1e-12, max: 1e6, noNaN: true }),
  fc.integer({ min: -3, max: 10 }),
);
const sharesArb = fc
  .dictionary(key, share, { minKeys: 1, maxKeys: 12 })
  .filter((s) => Object.values(s).some((v) => v > 0));
const feeArb = fc.bigInt({ min: 0n, max: 10n ** 30n });

describe('splitReward', () => {
  it('small examples computed by hand', () => {
    expect(splitReward(10n, { alice: 2, bob: 1 })).toEqual({ alice: 7n, bob: 3n });
    // 100 / 3 each = 33.33…; the one leftover wei goes to the smallest key on equal remainders.
    expect(splitReward(100n, { c: 1, a: 1, b: 1 })).toEqual({ a: 34n, b: 33n, c: 33n });
    const detailed = splitRewardDetailed(1000n, { a: 0.7, b: 0.5, spammer: -0.2, idle: 0 });
    // 1000·0.7/1.2 = 583.33…, 1000·0.5/1.2 = 416.66… → floors 583 + 416, the leftover goes to b (larger remainder).
    expect(detailed.amounts).toEqual({ a: 583n, b: 417n, spammer: 0n, idle: 0n });
    expect(detailed.flagged).toEqual(['spammer']);
    expect(detailed.zero).toEqual(['idle']);
    expect(splitReward(0n, { a: 1, b: 3 })).toEqual({ a: 0n, b: 0n });
    // Tiny and huge shares at once: exact dyadic arithmetic, no float underflow.
    expect(splitReward(3n, { tiny: 5e-324, big: 1e300 })).toEqual({ tiny: 0n, big: 3n });
  });

  it('rejects NaN, infinite, all-zero and all-negative shares, empty shares and negative fees with REWARD_SPLIT_INVALID', () => {
    const bad: [bigint, Record<string, number>][] = [
      [10n, { a: Number.NaN, b: 1 }],
      [10n, { a: Number.POSITIVE_INFINITY }],
      [10n, { a: 0, b: 0 }],
      [10n, { a: -1, b: -2 }],
      [10n, {}],
      [-1n, { a: 1 }],
    ];
    for (const [fee, shares] of bad) {
      let error: unknown;
      try {
        splitReward(fee, shares);
      } catch (e) {
        error = e;
      }
      expect(isProvenantError(error, 'REWARD_SPLIT_INVALID')).toBe(true);
    }
  });

  it('properties: exact total, none negative, negatives get zero, within 1 wei of proportional, permutation-invariant', () => {
    fc.assert(
      fc.property(feeArb, sharesArb, fc.integer(), (fee, shares, seed) => {
        const { amounts, flagged } = splitRewardDetailed(fee, shares);
        const keys = Object.keys(shares);
        expect(Object.keys(amounts).sort()).toEqual([...keys].sort());
        expect(Object.values(amounts).reduce((a, b) => a + b, 0n)).toBe(fee);
        for (const k of keys) expect(amounts[k]! >= 0n).toBe(true);
        expect(flagged).toEqual(keys.filter((k) => shares[k]! < 0).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        for (const k of flagged) expect(amounts[k]).toBe(0n);

        // Exact proportional amount fee·s_k/S as a fraction over a common denominator, computed independently.
        const pos = keys.filter((k) => shares[k]! > 0);
        const fr = pos.map((k) => exactFraction(shares[k]!));
        const den = fr.reduce((m, f) => (f.den > m ? f.den : m), 1n);
        const nums = fr.map((f) => f.num * (den / f.den));
        const total = nums.reduce((a, b) => a + b, 0n);
        pos.forEach((k, i) => {
          // |amount·S − fee·s| < S  ⇔  |amount − fee·s/S| < 1 wei
          const diff = amounts[k]! * total - fee * nums[i]!;
          expect((diff < 0n ? -diff : diff) < total).toBe(true);
        });

        // Permutation invariance: re-insert the keys in a shuffled order.
        const order = [...keys];
        let s = seed >>> 0;
        for (let i = order.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const permuted: Record<string, number> = {};
        for (const k of order) permuted[k] = shares[k]!;
        expect(splitReward(fee, permuted)).toEqual(amounts);
      }),
      { numRuns: 300 },
    );
  });

  it('property: scaling every share by a power of two changes nothing', () => {
    fc.assert(
      fc.property(feeArb, sharesArb, fc.integer({ min: -20, max: 20 }), (fee, shares, e) => {
        const scaled = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, v * 2 ** e]));
        fc.pre(Object.values(scaled).every((v, i) => Number.isFinite(v) && (v === 0) === (Object.values(shares)[i] === 0)));
        expect(splitReward(fee, scaled)).toEqual(splitReward(fee, shares));
      }),
      { numRuns: 100 },
    );
  });
});
