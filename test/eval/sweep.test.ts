import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { sweep, sweepRuns, type SweepOptions, type SweepPoint } from '../../src/eval/index.js';
import {
  CHAR_VOCAB_SIZE,
  createCharTokenizer,
  createTransformer,
  initBackend,
  listAdapters,
  tf,
  type TransformerModel,
} from '../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const tok = createCharTokenizer();
const T = 12;
const make = (): TransformerModel =>
  createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: T, mlpHidden: 32, numClasses: 2, seed: 7 });

const spam = ['win cash now', 'cheap pills $$', 'free money!!', 'claim prize now', 'hot deal $$$', 'act now! win'];
const ham = ['see you at 5', 'lunch today?', 'notes attached', 'the meeting moved', 'call me later', 'thanks, bob'];
const trainRows = [...spam, ...ham].map((t, i) => ({ input: tok.encode(t).slice(0, T), label: i < spam.length ? 1 : 0 }));
const general = ['Call me Ishmael. Some years ago', 'It was the best of times', 'We the people of the United', 'Four score and seven years'].map((t) => ({ input: tok.encode(t).slice(0, T + 1) }));
const heldOut = ['never mind how long precisely', 'having little or no money in my purse', 'and nothing particular to interest me on shore'];

const baseOptions = (model: TransformerModel, overrides: Partial<SweepOptions> = {}): SweepOptions => ({
  model,
  train: trainRows,
  domainTask: { name: 'spam', kind: 'domain', metric: 'accuracy', dataset: { inputs: [...spam, ...ham], labels: [...spam.map(() => 1), ...ham.map(() => 0)] } },
  retainedTask: { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts: heldOut } },
  grid: { ranks: [2], learningRates: [1e-3, 5e-2], steps: [4], guards: [{ kind: 'none' }, { kind: 'l2-sp', strength: 1 }] },
  lora: { targetModules: ['q_proj', 'v_proj'], modulesToSave: ['classifier'] },
  guardData: { general, fisherExamples: 4, replayBatchSize: 2 },
  batchSize: 6,
  seed: 5,
  bootstrap: { resamples: 100 },
  ...overrides,
});

const weightsDigest = (model: TransformerModel) => [...model.weights.values()].map((w) => Array.from(w.dataSync() as Float32Array).reduce((a, x) => a + x * 1.7 + 0.1, 0));

/** Perplexity of the base model on held-out text by a direct loop (one window each: the texts fit T + 1 after truncation). */
function basePerplexity(model: TransformerModel, texts: string[]): number {
  let nll = 0;
  let tokens = 0;
  for (const text of texts) {
    const ids = tok.encode(text);
    for (let j = 1; j < ids.length; j++) {
      const start = Math.floor((j - 1) / T) * T;
      const context = ids.slice(start, j);
      const logp = tf.tidy(() => tf.logSoftmax(model.forwardLm(tf.tensor2d([context], [1, context.length], 'int32'))).dataSync() as Float32Array);
      nll -= logp[(context.length - 1) * CHAR_VOCAB_SIZE + ids[j]!]!;
      tokens += 1;
    }
  }
  return Math.exp(nll / tokens);
}

describe('sweep', () => {
  it('runs the grid in order, reports gain and forgetting from compareModels, and finds the Pareto front', async () => {
    const model = make();
    const before = weightsDigest(model);
    const ppl = basePerplexity(model, heldOut);
    const events: number[] = [];
    const seen: SweepPoint[] = [];
    const result = await sweep(baseOptions(model, { onProgress: (e) => events.push(e.done), onRun: (p) => void seen.push(p) }));
    const expectedRuns = sweepRuns(baseOptions(model).grid);
    expect(result.points.map((p) => [p.rank, p.learningRate, p.steps, p.guard])).toEqual(expectedRuns.map((r) => [r.rank, r.learningRate, r.steps, r.guard.kind]));
    expect(seen).toHaveLength(4);
    expect(events.at(-1)).toBe(4);
    for (const p of result.points) {
      expect(p.gain).toBe(p.domain.delta.value);
      expect(p.forgetting).toBe(p.retained.relativeDelta!.value);
      expect(p.forgettingCi.lower).toBeLessThanOrEqual(p.forgetting + 1e-12);
      expect(p.forgettingCi.upper).toBeGreaterThanOrEqual(p.forgetting - 1e-12);
      expect(Math.abs(p.retained.base.value - ppl)).toBeLessThan(1e-3 * ppl);
      expect(Math.abs(p.forgetting - (p.retained.tuned.value - p.retained.base.value) / p.retained.base.value)).toBeLessThan(1e-9);
    }
    // A high learning rate moves the model: its perplexity change is not zero.
    expect(Math.abs(result.points[2]!.forgetting)).toBeGreaterThan(1e-4);
    // Front by brute force: points no other point dominates.
    const dominated = (a: SweepPoint) => result.points.some((b) => b !== a && b.gain >= a.gain && b.forgetting <= a.forgetting && (b.gain > a.gain || b.forgetting < a.forgetting));
    expect(new Set(result.frontRuns)).toEqual(new Set(result.points.filter((p) => !dominated(p)).map((p) => p.run)));
    // The model is left as found: no adapters, same base weights.
    expect(listAdapters(model)).toEqual([]);
    expect(weightsDigest(model)).toEqual(before);
    // Seeded: a second sweep gives the same points.
    const again = await sweep(baseOptions(model, { grid: { ranks: [2], learningRates: [5e-2], steps: [4], guards: [{ kind: 'l2-sp', strength: 1 }] } }));
    expect(again.points[0]!.gain).toBe(result.points[3]!.gain);
    expect(again.points[0]!.forgetting).toBe(result.points[3]!.forgetting);
    model.dispose();
  });

  it('runs KL-to-base, replay and EWC guards, and a strong L2-SP guard moves the model less', async () => {
    const model = make();
    const result = await sweep(
      baseOptions(model, {
        grid: {
          ranks: [2],
          learningRates: [5e-2],
          steps: [4],
          guards: [{ kind: 'none' }, { kind: 'kl-to-base', strength: 1 }, { kind: 'replay', strength: 1 }, { kind: 'ewc', strength: 10 }, { kind: 'l2-sp', strength: 1e4 }],
        },
      }),
    );
    expect(result.points.map((p) => p.guard)).toEqual(['none', 'kl-to-base', 'replay', 'ewc', 'l2-sp']);
    expect(Math.abs(result.points[4]!.forgetting)).toBeLessThan(Math.abs(result.points[0]!.forgetting));
    expect(result.settings.guardData).toMatchObject({ general: 4, fisherExamples: 4, fisherMethod: 'sampled' });
    expect(listAdapters(model)).toEqual([]);
    model.dispose();
  });

  it('rejects a bad grid or missing guard data with typed errors', async () => {
    const model = make();
    const code = async (o: SweepOptions) => {
      try {
        await sweep(o);
      } catch (e) {
        return isProvenantError(e) ? e.code : 'untyped';
      }
      return 'none';
    };
    expect(await code(baseOptions(model, { grid: { ranks: [0], learningRates: [1e-3], steps: [1] } }))).toBe('EVAL_INPUT_INVALID');
    expect(await code(baseOptions(model, { grid: { ranks: [1], learningRates: [-1], steps: [1] } }))).toBe('EVAL_INPUT_INVALID');
    expect(await code(baseOptions(model, { grid: { ranks: [1], learningRates: [1e-3], steps: [1], guards: [{ kind: 'replay', strength: 1 }] }, guardData: {} }))).toBe('EVAL_INPUT_INVALID');
    expect(await code(baseOptions(model, { train: [] }))).toBe('EVAL_INPUT_INVALID');
    model.dispose();
  });
});
