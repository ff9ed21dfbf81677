/**
 * compareModels runs the base and the tuned model over every task: each run gets its own progress label (the demo
 * drew both bars under one name, so a user could not tell which model was being evaluated).
 */
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/core/index.js';
import { compareModels } from '../../src/eval/index.js';

describe('evaluation progress labels', () => {
  it('base and tuned runs of one task report under different stages, each naming its model and task', async () => {
    const base = { name: 'base', predictProba: async (xs: readonly number[]) => xs.map(() => [0.5, 0.5]) };
    const tuned = { name: 'tuned (security)', predictProba: async (xs: readonly number[]) => xs.map((x) => (x > 0 ? [0.1, 0.9] : [0.9, 0.1])) };
    const events: ProgressEvent[] = [];
    await compareModels(base, tuned, [{ name: 'sign', kind: 'domain', metric: 'accuracy', dataset: { inputs: [-1, 2, 3, -4], labels: [0, 1, 1, 0] } }], {
      resamples: 20,
      seed: 1,
      onProgress: (e) => events.push(e),
    });
    const stages = [...new Set(events.map((e) => e.stage))];
    expect(stages).toEqual(['eval:sign · base', 'eval:sign · tuned (security)']);
  });
});
