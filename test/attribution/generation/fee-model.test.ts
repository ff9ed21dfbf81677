import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEE_MODEL_FIELDS, FEE_MODEL_PARAMS, inferenceFee, resolveFeeModel, splitGenerationFee } from '../../../src/attribution/generation/index.js';
import { ProvenantError, describe as describeParams } from '../../../src/core/index.js';

const bpsTriple = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 })).map(([a, b]) => {
  const [x, y] = a <= b ? [a, b] : [b, a];
  return [x, y - x, 10_000 - y] as const;
});

describe('generation fee model', () => {
  it('every field has a default, unit, meaning and source, and the defaults validate', () => {
    for (const f of FEE_MODEL_FIELDS) expect(f.meaning.length * f.source.length * f.unit.length).toBeGreaterThan(0);
    const m = resolveFeeModel();
    expect(m.ownerBps + m.stakersBps + m.contributorsBps).toBe(10_000);
    // 20 input and 64 output tokens at 10¹² and 4·10¹² wei per 1k: (2·10¹³ + 2.56·10¹⁴) / 1000.
    expect(inferenceFee(m, { inputTokens: 20, outputTokens: 64 })).toBe(276_000_000_000n);
  });

  it('splits exactly to the wei, pays only positive influence, in proportion (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.integer({ min: 0, max: 10_000 }),
        bpsTriple,
        fc.nat({ max: 5000 }),
        fc.nat({ max: 5000 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.double({ min: -5, max: 5, noNaN: true }), { maxKeys: 8 }),
        (pIn, pOut, platformFeeBps, [ownerBps, stakersBps, contributorsBps], inputTokens, outputTokens, scores) => {
          const model = resolveFeeModel({ pricePer1kInputTokensWei: pIn, pricePer1kOutputTokensWei: pOut, platformFeeBps, ownerBps, stakersBps, contributorsBps });
          const map = new Map(Object.entries(scores));
          const s = splitGenerationFee(model, { inputTokens, outputTokens, contributorScores: map });
          expect(s.feeWei).toBe((pIn * BigInt(inputTokens) + pOut * BigInt(outputTokens)) / 1000n);
          const paid = Object.values(s.contributorAmounts).reduce((a, b) => a + b, 0n);
          expect(s.platformWei + s.ownerWei + s.stakersWei + paid + s.unallocatedWei).toBe(s.feeWei);
          expect(s.platformWei + s.ownerWei + s.stakersWei + s.contributorsWei).toBe(s.feeWei);
          for (const [k, v] of map) {
            expect(s.contributorAmounts[k]! >= 0n).toBe(true);
            if (v <= 0) expect(s.contributorAmounts[k]).toBe(0n);
          }
          const positive = [...map].filter(([, v]) => v > 0);
          if (positive.length === 0) {
            expect(s.paid).toBe(false);
            expect(s.reason).toBe(map.size === 0 ? 'no-contributors' : 'no-positive-influence');
          } else if (s.paid) {
            // Largest remainder: each amount is within 1 wei of the exact proportional share.
            const total = positive.reduce((a, [, v]) => a + v, 0);
            for (const [k, v] of positive) expect(Math.abs(Number(s.contributorAmounts[k]!) - (Number(s.contributorsWei) * v) / total)).toBeLessThanOrEqual(1 + Number(s.contributorsWei) * 1e-12);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('returns an unpaid result with its reason instead of throwing when no contributor helped', () => {
    const s = splitGenerationFee(resolveFeeModel(), { inputTokens: 10, outputTokens: 64, contributorScores: { a: -1, b: 0 } });
    expect(s.paid).toBe(false);
    expect(s.reason).toBe('no-positive-influence');
    expect(s.unallocatedWei).toBe(s.contributorsWei);
    expect(s.flagged).toEqual(['a']);
    expect(s.contributorAmounts.a).toBe(0n);
  });

  it('treats contributor ids as data (no prototype keys) and lists every bad field at once', () => {
    const s = splitGenerationFee(resolveFeeModel(), { inputTokens: 1000, outputTokens: 1000, contributorScores: new Map([['__proto__', 2], ['constructor', 1]]) });
    expect(Object.keys(s.contributorAmounts).sort()).toEqual(['__proto__', 'constructor']);
    expect(s.contributorAmounts['__proto__']! + s.contributorAmounts['constructor']!).toBe(s.contributorsWei);
    try {
      resolveFeeModel({ platformFeeBps: -1, ownerBps: 1.5, pricePer1kInputTokensWei: 3 as unknown as bigint });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProvenantError);
      expect((e as ProvenantError).metaMessages?.length ?? (e as { data: { problems: string[] } }).data.problems.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('is resolved and described by the one parameter mechanism: unknown names suggested, bad values gathered, rows = used', () => {
    let error: { code?: string; message?: string; metaMessages?: string[] } = {};
    try {
      resolveFeeModel({ platformFee: 100, ownerBps: 20_000 } as never);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(JSON.stringify(error)).toMatch(/platformFeeBps/); // the nearest field is suggested for the unknown name
    expect(JSON.stringify(error)).toMatch(/ownerBps/);
    const used = resolveFeeModel({ platformFeeBps: 250, ownerBps: 3_000, stakersBps: 2_000, contributorsBps: 5_000 });
    const rows = describeParams(FEE_MODEL_PARAMS, used);
    expect(rows.find((r) => r.name === 'feeModel.platformFeeBps')).toMatchObject({ value: 250, default: 500 });
    expect(rows.find((r) => r.name === 'feeModel.pricePer1kOutputTokensWei')).toMatchObject({ value: '4000000000000' }); // bigints recorded as decimal strings (JSON)
    expect(rows).toHaveLength(FEE_MODEL_FIELDS.length);
  });
});
