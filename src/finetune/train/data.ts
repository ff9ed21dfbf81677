/**
 * Training examples, weighted sources and the deterministic batch plan.
 *
 * Why a pure plan: the examples of global micro-batch k are a function of (seed, k) alone — each source's order is a
 * seeded permutation per pass over it — so a run resumed at step s from a checkpoint sees exactly the batches an
 * uninterrupted run would, with no RNG state to save.
 *
 * Mixed batches: each micro-batch draws from every source in proportion to its weight (`apportion`, largest remainder),
 * e.g. weights {domain: 3, replay: 1} and batch 32 → 24 + 8. An epoch is one pass over the first (primary) source; the
 * other sources cycle (each cycle reshuffled), which is how replay of general text is mixed in.
 */
import { ProvenantError, apportion, permutation } from '../../core/index.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor } from '../tf.js';

export interface TrainingExample {
  /**
   * Features (logistic regression, MLP: length = inputSize) or token ids (transformer). For causal LM the ids are the
   * whole sequence: position t predicts t+1.
   */
  input: ArrayLike<number>;
  /** Class index (classification). */
  label?: number;
}

export interface DataSource {
  name: string;
  examples: readonly TrainingExample[];
  /** Relative share of each batch. Default 1. */
  weight?: number;
}

export interface Batch {
  /** [B, F] float32 features or [B, T] int32 ids (LM: the input positions). */
  inputs: Tensor;
  /** Classification: [B] int32 labels. LM: [B, T] int32 next-token targets (pad where there is none). */
  targets: Tensor;
  size: number;
  /** Source index of each example (for per-source statistics and replay). */
  sources: number[];
}

export type TrainingTask = 'classification' | 'causal-lm';

export function normalizeSources(data: readonly TrainingExample[] | readonly DataSource[]): DataSource[] {
  if (data.length > 0 && 'examples' in (data[0] as object)) return (data as DataSource[]).map((s) => ({ ...s, weight: s.weight ?? 1 }));
  return [{ name: 'train', examples: data as TrainingExample[], weight: 1 }];
}

export interface BatchPlan {
  microBatchesPerEpoch: number;
  /** [source index, example index] pairs of global micro-batch k. */
  examplesOf(k: number): Array<[number, number]>;
}

export function createBatchPlan(sources: readonly DataSource[], batchSize: number, seed: number): BatchPlan {
  if (sources.length === 0 || sources[0]!.examples.length === 0) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', 'Training needs at least one example in the first source.');
  }
  for (const s of sources) {
    if (!(s.weight! > 0) || s.examples.length === 0) {
      throw new ProvenantError('TRAINING_CONFIG_INVALID', `Source "${s.name}" needs a positive weight and at least one example.`);
    }
  }
  const totalWeight = sources.reduce((a, s) => a + s.weight!, 0);
  const counts = apportion(batchSize, sources.map((s) => s.weight! / totalWeight));
  if (counts[0] === 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', 'The primary source gets no example per batch; raise its weight or the batch size.');
  const n0 = sources[0]!.examples.length;
  const perEpoch = Math.ceil(n0 / counts[0]!);
  const cache = new Map<string, Uint32Array>();
  const order = (source: number, cycle: number): Uint32Array => {
    const key = `${source}/${cycle}`;
    let perm = cache.get(key);
    if (!perm) {
      if (cache.size > 64) cache.clear();
      perm = permutation(sources[source]!.examples.length, (seed ^ Math.imul(source + 1, 0x9e3779b1) ^ Math.imul(cycle + 1, 0x85ebca6b)) >>> 0);
      cache.set(key, perm);
    }
    return perm;
  };
  return {
    microBatchesPerEpoch: perEpoch,
    examplesOf(k) {
      const out: Array<[number, number]> = [];
      const epoch = Math.floor(k / perEpoch);
      const within = k % perEpoch;
      const p0 = order(0, epoch);
      for (let j = within * counts[0]!; j < Math.min(n0, (within + 1) * counts[0]!); j++) out.push([0, p0[j]!]);
      for (let s = 1; s < sources.length; s++) {
        const n = sources[s]!.examples.length;
        for (let j = 0; j < counts[s]!; j++) {
          const position = k * counts[s]! + j;
          out.push([s, order(s, Math.floor(position / n))[position % n]!]);
        }
      }
      return out;
    },
  };
}

/**
 * Sequence length of a batch for a transformer: the longest example, capped by `sequenceLength` (default the model's
 * context). Causal LM never exceeds the context; classification may (the model reads longer inputs in windows).
 */
function transformerLength(model: Model, task: TrainingTask, examples: readonly TrainingExample[], cap?: number): number {
  const maxSeqLen = (model.config as { maxSeqLen: number }).maxSeqLen;
  const limit = task === 'causal-lm' ? Math.min(cap ?? maxSeqLen, maxSeqLen) : cap ?? maxSeqLen;
  const longest = Math.max(1, ...examples.map((e) => e.input.length - (task === 'causal-lm' ? 1 : 0)));
  return Math.min(limit, longest);
}

/**
 * Builds input and target tensors for examples. Transformer inputs are right-padded with `padId` (0) and truncated to the
 * model's context (or `sequenceLength`).
 */
export function makeBatch(model: Model, task: TrainingTask, examples: readonly TrainingExample[], sources: number[], sequenceLength?: number): Batch {
  const B = examples.length;
  if (model.kind === 'transformer') {
    const padId = (model.config as { padId?: number }).padId ?? 0;
    const T = transformerLength(model, task, examples, sequenceLength);
    const ids = new Int32Array(B * T).fill(padId);
    if (task === 'causal-lm') {
      const targets = new Int32Array(B * T).fill(padId);
      examples.forEach((e, b) => {
        const n = Math.min(e.input.length, T + 1);
        for (let t = 0; t < n; t++) {
          if (t < T) ids[b * T + t] = e.input[t]!;
          if (t > 0) targets[b * T + t - 1] = e.input[t]!;
        }
      });
      return { inputs: tf.tensor2d(ids, [B, T], 'int32'), targets: tf.tensor2d(targets, [B, T], 'int32'), size: B, sources };
    }
    examples.forEach((e, b) => {
      for (let t = 0; t < Math.min(e.input.length, T); t++) ids[b * T + t] = e.input[t]!;
    });
    return { inputs: tf.tensor2d(ids, [B, T], 'int32'), targets: labelsTensor(examples), size: B, sources };
  }
  if (task === 'causal-lm') {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `Causal LM training needs a transformer, got a ${model.kind} model.`);
  }
  const F = (model.config as { inputSize: number }).inputSize;
  const features = new Float32Array(B * F);
  examples.forEach((e, b) => {
    if (e.input.length !== F) {
      throw new ProvenantError('TRAINING_CONFIG_INVALID', `Example input has ${e.input.length} features; the model expects ${F}.`);
    }
    features.set(e.input as ArrayLike<number>, b * F);
  });
  return { inputs: tf.tensor2d(features, [B, F], 'float32'), targets: labelsTensor(examples), size: B, sources };
}

function labelsTensor(examples: readonly TrainingExample[]): Tensor {
  const labels = new Int32Array(examples.length);
  examples.forEach((e, i) => {
    if (e.label === undefined || !Number.isInteger(e.label) || e.label < 0) {
      throw new ProvenantError('TRAINING_CONFIG_INVALID', `Classification example ${i} has no valid label (got ${String(e.label)}).`);
    }
    labels[i] = e.label;
  });
  return tf.tensor1d(labels, 'int32');
}

export function disposeBatch(batch: Batch): void {
  batch.inputs.dispose();
  batch.targets.dispose();
}
