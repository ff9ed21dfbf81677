import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { bitsPerCharacter, perplexity } from '../../src/eval/index.js';

describe('perplexity and bits per character', () => {
  it('hand-computed corpus-level values', () => {
    const scores = [
      { nll: 2, tokens: 1, characters: 4 },
      { nll: 4, tokens: 3, characters: 8 },
    ];
    const ppl = perplexity(scores, { resamples: 200 });
    expect(ppl.value).toBeCloseTo(Math.exp(6 / 4), 14);
    expect(ppl.totalNll).toBe(6);
    expect(ppl.totalCount).toBe(4);
    expect(ppl.higherIsBetter).toBe(false);
    // Two texts: resamples are {a,a}, {a,b}, {b,b} → per-token NLL 2, 1.5 or 4/3.
    expect(ppl.ci.lower).toBeGreaterThanOrEqual(Math.exp(4 / 3) - 1e-12);
    expect(ppl.ci.upper).toBeLessThanOrEqual(Math.exp(2) + 1e-12);
    expect(bitsPerCharacter(scores, { resamples: 50 }).value).toBeCloseTo(6 / (Math.LN2 * 12), 14);
    expect(bitsPerCharacter([{ nll: Math.LN2 * 3, tokens: 2, characters: 6 }], { resamples: 10 }).value).toBeCloseTo(0.5, 14);
    // A uniform model over V tokens has perplexity V.
    const V = 96;
    expect(perplexity([{ nll: 10 * Math.log(V), tokens: 10 }], { resamples: 10 }).value).toBeCloseTo(V, 10);
  });

  it('rejects bad scores with EVAL_INPUT_INVALID', () => {
    const bad = [
      [],
      [{ nll: NaN, tokens: 2 }],
      [{ nll: -1, tokens: 2 }],
      [{ nll: 1, tokens: 1.5 }],
      [{ nll: 1, tokens: 0 }],
      [{ nll: 0, tokens: 0 }],
    ];
    for (const scores of bad) {
      try {
        perplexity(scores as never, { resamples: 10 });
        throw new Error(`expected a throw for ${JSON.stringify(scores)}`);
      } catch (e) {
        expect(isProvenantError(e, 'EVAL_INPUT_INVALID')).toBe(true);
      }
    }
    expect(() => bitsPerCharacter([{ nll: 1, tokens: 1 }])).toThrowError(/characters/);
  });
});
