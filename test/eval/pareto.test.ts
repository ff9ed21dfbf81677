import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { learningForgettingFront, paretoFront } from '../../src/eval/index.js';

describe('Pareto front', () => {
  it('hand example: maximise gain, minimise forgetting', () => {
    const points = [
      { gain: 0.1, forgetting: 0.01, id: 'a' },
      { gain: 0.3, forgetting: 0.05, id: 'b' },
      { gain: 0.2, forgetting: 0.06, id: 'c' }, // dominated by b
      { gain: 0.3, forgetting: 0.05, id: 'd' }, // equal to b: both stay
      { gain: 0.05, forgetting: 0.02, id: 'e' }, // dominated by a
      { gain: 0.4, forgetting: 0.2, id: 'f' },
    ];
    const { front, indices } = learningForgettingFront(points);
    expect(front.map((p) => p.id)).toEqual(['f', 'b', 'd', 'a']);
    expect(indices).toEqual([5, 1, 3, 0]);
  });

  it('equals the brute-force definition on random points, in 2 and 3 objectives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), { maxLength: 25 }),
        fc.boolean(),
        (pts, three) => {
          const objs = [
            { value: (p: number[]) => p[0]!, goal: 'maximize' as const },
            { value: (p: number[]) => p[1]!, goal: 'minimize' as const },
            ...(three ? [{ value: (p: number[]) => p[2]!, goal: 'maximize' as const }] : []),
          ];
          const front = paretoFront(pts, objs);
          const better = (a: number[], b: number[]) => {
            const ge = a[0]! >= b[0]! && a[1]! <= b[1]! && (!three || a[2]! >= b[2]!);
            const gt = a[0]! > b[0]! || a[1]! < b[1]! || (three && a[2]! > b[2]!);
            return ge && gt;
          };
          const expected = pts.map((_, i) => i).filter((i) => !pts.some((q) => better(q, pts[i]!)));
          expect([...front].sort((a, b) => a - b)).toEqual(expected);
          // Every point off the front is dominated by a point on it.
          for (let i = 0; i < pts.length; i++) {
            if (!front.includes(i)) expect(front.some((f) => better(pts[f]!, pts[i]!))).toBe(true);
          }
          // Best-first order on the first objective.
          for (let k = 1; k < front.length; k++) expect(pts[front[k - 1]!]![0]!).toBeGreaterThanOrEqual(pts[front[k]!]![0]!);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects non-finite values and empty objectives', () => {
    try {
      learningForgettingFront([{ gain: NaN, forgetting: 0 }]);
      throw new Error('expected a throw');
    } catch (e) {
      expect(isProvenantError(e, 'EVAL_INPUT_INVALID')).toBe(true);
    }
    expect(() => paretoFront([1], [])).toThrow();
    expect(paretoFront([], [{ value: (x: number) => x, goal: 'maximize' }])).toEqual([]);
  });
});
