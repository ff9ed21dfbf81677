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
import { isPretrainedModel, type PretrainedModel } from '../hf/pretrained-model.js';
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
  /**
   * Causal LM: the first `promptLength` tokens of `input` are context only — no loss on predicting them (instruction
   * tuning trains on the completion, not the prompt). Default 0.
   */
  promptLength?: number;
  /** BERT segment ids, one per input token (Hugging Face BERT models only). */
  tokenTypeIds?: ArrayLike<number>;
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
  /** Hugging Face models: 1 = real token, 0 = padding, [B·T] (right padding). */
  attentionMask?: Int32Array;
  /** Hugging Face BERT: segment ids, int32 [B, T]. */
  tokenTypeIds?: Tensor;
  /**
   * Causal LM on Hugging Face models: float32 [B, T], 1 where the target token counts in the loss (a real token that is
   * not part of the prompt), 0 elsewhere. The pad id of these models may be a real token (GPT-2 pads with EOS), so the
   * loss reads this mask rather than comparing targets with a pad id.
   */
  lossMask?: Tensor;
}

export type TrainingTask = 'classification' | 'causal-lm';

/**
 * Training data in either form → weighted sources: a plain example list becomes one source `train` of weight 1; a
 * source list is copied with each missing `weight` set to 1. The first source is the primary one (an epoch is one pass
 * over it). Does not validate (see `createBatchPlan`, `validateTrainingExamples`).
 *
 * @example
 * ```ts
 * import { normalizeSources, type TrainingExample } from 'provenant/finetune';
 *
 * declare const emails: TrainingExample[];
 * declare const generalText: TrainingExample[];
 * normalizeSources(emails); // [{ name: 'train', examples: emails, weight: 1 }]
 * normalizeSources([{ name: 'spam', examples: emails, weight: 3 }, { name: 'replay', examples: generalText }]); // replay gets weight 1
 * ```
 */
export function normalizeSources(data: readonly TrainingExample[] | readonly DataSource[]): DataSource[] {
  if (data.length > 0 && 'examples' in (data[0] as object)) return (data as DataSource[]).map((s) => ({ ...s, weight: s.weight ?? 1 }));
  return [{ name: 'train', examples: data as TrainingExample[], weight: 1 }];
}

export interface BatchPlan {
  microBatchesPerEpoch: number;
  /** [source index, example index] pairs of global micro-batch k. */
  examplesOf(k: number): Array<[number, number]>;
}

/**
 * The deterministic batch plan (see the file comment): each micro-batch of `batchSize` draws from every source in
 * proportion to its weight (largest-remainder apportionment), the primary source in a seeded permutation per epoch, the
 * others cycling with a fresh permutation per cycle. `examplesOf(k)` is a pure function of (seed, k), so a resumed run
 * sees the same batches; `microBatchesPerEpoch` = ⌈n₀ / primary share⌉ (the epoch's last micro-batch may be short).
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` when there is no source or the first is empty, a source has no
 * example or a weight ≤ 0, or the primary source's share of a batch rounds to 0.
 *
 * @example
 * ```ts
 * import { createBatchPlan, type TrainingExample } from 'provenant/finetune';
 *
 * declare const spam: TrainingExample[]; // 10 examples
 * declare const replay: TrainingExample[]; // 4 examples
 * const plan = createBatchPlan([{ name: 'spam', examples: spam, weight: 3 }, { name: 'replay', examples: replay, weight: 1 }], 4, 1);
 * plan.microBatchesPerEpoch; // 4 (3 spam examples per batch)
 * plan.examplesOf(0); // [[0, 1], [0, 8], [0, 9], [1, 3]]: [source index, example index]
 * ```
 */
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
 * model's context (or `sequenceLength`). Shapes: LR/MLP inputs [B, inputSize] float32, targets [B] int32 labels;
 * transformer classification inputs [B, T] int32; causal LM inputs [B, T] and next-token targets [B, T] (position t
 * predicts token t+1; pad where there is none), T = the longest example minus one, capped. Hugging Face models add the
 * attention mask, BERT segment ids and, for causal LM, a loss mask that leaves out padding and each prompt; the zoo
 * transformer adds the same causal-LM loss mask when any example has a `promptLength`. The tensors are new: free them
 * with `disposeBatch`.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` (causal LM on a model that is not a transformer or has no LM head,
 * classification without a classification head, a feature vector of the wrong length, a missing or negative label, a bad
 * `promptLength`).
 *
 * @example
 * ```ts
 * import { disposeBatch, loadBaseModel, makeBatch } from 'provenant/finetune';
 *
 * const model = await loadBaseModel();
 * const batch = makeBatch(model, 'causal-lm', [{ input: [5, 6, 7, 8, 9] }, { input: [1, 2, 3] }], [0, 0]);
 * batch.inputs.shape; // [2, 4];  batch.targets: [[6, 7, 8, 9], [2, 3, 0, 0]] (0 = pad)
 * disposeBatch(batch);
 * ```
 */
export function makeBatch(model: Model, task: TrainingTask, examples: readonly TrainingExample[], sources: number[], sequenceLength?: number): Batch {
  const B = examples.length;
  if (isPretrainedModel(model)) return makePretrainedBatch(model, task, examples, sources, sequenceLength);
  if (model.kind === 'transformer') {
    const padId = (model.config as { padId?: number }).padId ?? 0;
    const T = transformerLength(model, task, examples, sequenceLength);
    const ids = new Int32Array(B * T).fill(padId);
    if (task === 'causal-lm') {
      const targets = new Int32Array(B * T).fill(padId);
      // With any prompt in the batch, a loss mask as for Hugging Face models: only real targets past each prompt count.
      // Without one, no mask (every non-pad target counts, see loss.ts), which keeps prompt-free runs bit-identical.
      const prompts = examples.map((e, b) => promptLengthOf(e, b));
      const weights = prompts.some((p) => p > 0) ? new Float32Array(B * T) : null;
      examples.forEach((e, b) => {
        const n = Math.min(e.input.length, T + 1);
        for (let t = 0; t < n; t++) {
          if (t < T) ids[b * T + t] = e.input[t]!;
          if (t > 0) targets[b * T + t - 1] = e.input[t]!;
          // Position t−1 predicts token t: it counts when token t is not part of the prompt.
          if (t > 0 && weights && t >= prompts[b]!) weights[b * T + t - 1] = 1;
        }
      });
      return {
        inputs: tf.tensor2d(ids, [B, T], 'int32'),
        targets: tf.tensor2d(targets, [B, T], 'int32'),
        size: B,
        sources,
        ...(weights ? { lossMask: tf.tensor2d(weights, [B, T], 'float32') } : {}),
      };
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

/** An example's `promptLength` (default 0), refused unless a non-negative integer. */
function promptLengthOf(e: TrainingExample, b: number): number {
  const prompt = e.promptLength ?? 0;
  if (!Number.isSafeInteger(prompt) || prompt < 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', `Example ${b}: promptLength must be a non-negative integer, got ${String(e.promptLength)}.`);
  return prompt;
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

/**
 * Frees every tensor of a batch made by `makeBatch` (inputs, targets, segment ids, loss mask).
 *
 * @example
 * ```ts
 * import { disposeBatch, makeBatch, type Model, type TrainingExample } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const examples: TrainingExample[];
 * const batch = makeBatch(model, 'classification', examples, examples.map(() => 0));
 * try {
 *   // … taskLoss(model, 'classification', batch) inside a tidy or gradient
 * } finally {
 *   disposeBatch(batch);
 * }
 * ```
 */
export function disposeBatch(batch: Batch): void {
  batch.inputs.dispose();
  batch.targets.dispose();
  batch.tokenTypeIds?.dispose();
  batch.lossMask?.dispose();
}


/**
 * A batch for a Hugging Face model: ids right-padded with the model's pad id (else its EOS, else 0) to the longest
 * example, truncated to `sequenceLength` (default the model's position limit), with the attention mask; for causal LM
 * the next-token targets and a loss mask that leaves out padding and each example's prompt.
 */
function makePretrainedBatch(model: PretrainedModel, task: TrainingTask, examples: readonly TrainingExample[], sources: number[], sequenceLength?: number): Batch {
  const B = examples.length;
  const config = model.config;
  if (task === 'causal-lm' && config.task !== 'causal-lm') {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `Causal LM training needs a causal-LM head; this is a ${config.className}.`);
  }
  if (task === 'classification' && config.task !== 'sequence-classification') {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `Classification needs a classification head; load the model with loadPretrained(dir, { numLabels }). This is a ${config.className}.`);
  }
  const eos = Array.isArray(config.eosTokenId) ? config.eosTokenId[0] : config.eosTokenId;
  const padId = config.padTokenId ?? eos ?? 0;
  const limit = Math.min(sequenceLength ?? config.maxPositions, config.maxPositions);
  const shift = task === 'causal-lm' ? 1 : 0;
  const T = Math.max(1, Math.min(limit, Math.max(...examples.map((e) => e.input.length - shift))));
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Int32Array(B * T);
  const types = config.architecture === 'bert' ? new Int32Array(B * T) : null;
  examples.forEach((e, b) => {
    const n = Math.min(e.input.length, T);
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = e.input[t]!;
      mask[b * T + t] = 1;
      if (types && e.tokenTypeIds) types[b * T + t] = e.tokenTypeIds[t]!;
    }
  });
  const extra = { attentionMask: mask, ...(types ? { tokenTypeIds: tf.tensor2d(types, [B, T], 'int32') } : {}) };
  if (task === 'causal-lm') {
    const targets = new Int32Array(B * T).fill(padId);
    const weights = new Float32Array(B * T);
    examples.forEach((e, b) => {
      const prompt = promptLengthOf(e, b);
      const n = Math.min(e.input.length, T + 1);
      for (let t = 1; t < n; t++) {
        targets[b * T + t - 1] = e.input[t]!;
        // Position t−1 predicts token t: it counts when token t is not part of the prompt.
        if (t >= prompt) weights[b * T + t - 1] = 1;
      }
    });
    return { inputs: tf.tensor2d(ids, [B, T], 'int32'), targets: tf.tensor2d(targets, [B, T], 'int32'), size: B, sources, ...extra, lossMask: tf.tensor2d(weights, [B, T], 'float32') };
  }
  return { inputs: tf.tensor2d(ids, [B, T], 'int32'), targets: labelsTensor(examples), size: B, sources, ...extra };
}
