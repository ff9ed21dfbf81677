/**
 * The one next-token sampler, against a brute-force reference written out from transformers' warpers: temperature,
 * then top-k, then top-p over the top-k renormalised; greedy = largest logit, lowest id on ties. Exact filtered
 * probabilities; the token each draw u picks (the inverse CDF, most likely first); the frequencies of many seeded draws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/core/index.js';
import { sampleToken, samplingDistribution, type SamplingOptions } from '../../src/finetune/index.js';

/** Reference: the kept ids and exact probabilities, by the textbook steps (float64 softmax, sort, cut, renormalise). */
function reference(logits: readonly number[], o: SamplingOptions): Map<number, number> | null {
  const allowed = logits.map((l, id) => ({ id, l })).filter((c) => !o.bannedIds?.has(c.id));
  if (o.temperature === 0) {
    const best = allowed.reduce((a, b) => (b.l > a.l ? b : a));
    return new Map([[best.id, 1]]);
  }
  const z = allowed.map((c) => c.l / o.temperature);
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  // Ranked by logit (as transformers' warpers sort logits): two logits 1e-300 apart have equal probabilities but an order.
  let ranked = allowed.map((c, i) => ({ id: c.id, l: c.l, p: e[i]! / s })).sort((a, b) => b.l - a.l || a.id - b.id);
  if (o.topK) ranked = ranked.slice(0, o.topK);
  const sk = ranked.reduce((a, r) => a + r.p, 0);
  ranked = ranked.map((r) => ({ ...r, p: r.p / sk }));
  const topP = o.topP ?? 1;
  if (topP < 1) {
    let mass = 0;
    let keep = ranked.length;
    for (let i = 0; i < ranked.length; i++) {
      mass += ranked[i]!.p;
      if (Math.abs(mass - topP) < 1e-9) return null; // on the cut within rounding: "reaches p" is decided by the last bit
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
    ranked = ranked.slice(0, keep);
  }
  const sp = ranked.reduce((a, r) => a + r.p, 0);
  return new Map(ranked.map((r) => [r.id, r.p / sp]));
}

/** A generator that returns the given uniforms (to probe the inverse CDF). */
const fixedRng = (u: number): Rng => ({ ...createRng(0), nextDouble: () => u });

const logitsArb = fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 2, maxLength: 12 });
const optionsArb = fc.record({
  temperature: fc.oneof(fc.constant(0), fc.double({ min: 0.2, max: 3, noNaN: true })),
  topK: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
  // Away from the exact cumulative boundaries, where "reaches p" is decided by the last bit.
  topP: fc.option(fc.constantFrom(0.3, 0.55, 0.8, 0.95, 1), { nil: undefined }),
});

describe('sampling: one sampler for every generation loop', () => {
  it('the filtered distribution equals the brute-force reference (random logits, temperatures, top-k, top-p, bans)', () => {
    fc.assert(
      fc.property(logitsArb, optionsArb, fc.integer({ min: 0, max: 11 }), (logits, o, ban) => {
        const bannedIds = ban < logits.length - 1 ? new Set([ban]) : undefined;
        const options = { ...o, ...(bannedIds ? { bannedIds } : {}) };
        const got = samplingDistribution(logits, options);
        const want = reference(logits, options);
        fc.pre(want !== null);
        expect(got.ids.length).toBe(want!.size);
        got.ids.forEach((id, i) => expect(got.probabilities[i]!).toBeCloseTo(want!.get(id)!, 12));
      }),
      { numRuns: 300 },
    );
  });

  it('a draw u picks the token whose cumulative interval holds u (inverse CDF, most likely first); greedy takes no draw', () => {
    const logits = [0.5, 2, -1, 2, 1];
    const options = { temperature: 0.7, topK: 4 };
    const { ids, probabilities } = samplingDistribution(logits, options);
    expect(ids).toEqual([1, 3, 4, 0]); // tie 2 = 2 broken by the lower id
    let cumulative = 0;
    for (let i = 0; i < ids.length; i++) {
      const mid = cumulative + probabilities[i]! / 2;
      expect(sampleToken(logits, options, fixedRng(mid))).toBe(ids[i]);
      cumulative += probabilities[i]!;
    }
    expect(sampleToken(logits, options, fixedRng(0))).toBe(1);
    expect(sampleToken(logits, options, fixedRng(1 - 2 ** -53))).toBe(0);
    const rng = createRng(3);
    const before = rng.getState();
    expect(sampleToken(logits, { temperature: 0 }, rng)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, bannedIds: new Set([1, 3]) }, null)).toBe(4);
    expect(rng.getState()).toEqual(before);
    expect(() => sampleToken(logits, { temperature: 0, bannedIds: new Set([0, 1, 2, 3, 4]) }, null)).toThrow(/banned/);
    expect(() => sampleToken(logits, { temperature: 1 }, null)).toThrow(/seeded generator/);
  });

  it('seeded draws follow the distribution (20,000 draws, every frequency within 5 standard errors) and repeat for a seed', () => {
    const logits = [1.2, -0.3, 0.8, 2.1, 0, -2, 1.9];
    const options = { temperature: 1.3, topK: 5, topP: 0.9 };
    const want = reference(logits, options)!;
    const n = 20_000;
    const counts = new Map<number, number>();
    const rng = createRng('sampling-test');
    const draws: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = sampleToken(logits, options, rng);
      draws.push(id);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].every((id) => want.has(id))).toBe(true);
    for (const [id, p] of want) {
      const se = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs((counts.get(id) ?? 0) / n - p)).toBeLessThan(5 * se);
    }
    const again = createRng('sampling-test');
    expect(draws.slice(0, 200)).toEqual(Array.from({ length: 200 }, () => sampleToken(logits, options, again)));
  });
});
