/**
 * Replay (rehearsal): keep training the language-modelling objective on general text while fine-tuning, so the shared
 * trunk keeps what pretraining taught it (Robins 1995, "Catastrophic forgetting, rehearsal and pseudorehearsal"; for
 * LLMs, mixing pretraining data into fine-tuning is the standard remedy, e.g. Ouyang et al. 2022, eq. 2's "PPO-ptx").
 *
 * Two ways in:
 * - `createReplayGuard`: an `ExtraLoss` adding weight·(mean next-token loss on a general-text batch) — for a
 *   classification fine-tune of the zoo transformer (whose task loss cannot share a batch with LM sequences), and for any
 *   causal LM, the Hugging Face ones from `loadPretrained` included (sequences tokenized by the model's own tokenizer;
 *   batches right-padded with their attention and loss masks, so padding never counts).
 * - `replaySource`: for a causal-LM fine-tune, a `DataSource` to list beside the domain data, so a fixed fraction of
 *   every batch is general text (the training loop's weighted batch plan does the mixing).
 *
 * The replay batches follow a cycling, seeded plan (`createBatchPlan` over the general sequences: each pass is a fresh
 * seeded permutation), so which sequences a step rehearses is a function of (seed, step) — resumable and reproducible.
 */
import { ProvenantError } from '../../core/index.js';
import { isPretrainedModel } from '../hf/pretrained-model.js';
import type { Model } from '../models/model.js';
import { tf } from '../tf.js';
import { createBatchPlan, makeBatch, type DataSource, type TrainingExample } from '../train/data.js';
import { taskLoss } from '../train/loss.js';
import { resolve } from '../../core/index.js';
import { makeGuard, type Guard } from './guard.js';
import { REPLAY_PARAMS } from './guard-params.js';

export interface ReplayOptions {
  /** General-text token sequences (position t predicts t + 1). */
  sequences: readonly TrainingExample[];
  /** Multiplier of the replay loss. Default 1. */
  weight?: number;
  /** Sequences per replay batch. Default 8. */
  batchSize?: number;
  /** Seed of the batch plan and the replay forward pass's dropout. Default 0. */
  seed?: number;
  /** The training loop's `gradientAccumulationSteps`, so each micro-batch of a step rehearses different text. Default 1. */
  gradientAccumulationSteps?: number;
  /** Truncate sequences to this many input positions. */
  sequenceLength?: number | null;
}

/**
 * Replay guard: weight × the causal-LM loss of the model (adapters active) on the next general-text batch.
 *
 * @example
 * ```ts
 * import { createCharTokenizer, createReplayGuard, train, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const emails: readonly TrainingExample[];
 * declare const passages: readonly string[];
 * const tokenizer = createCharTokenizer();
 * const general = passages.map((t) => ({ input: tokenizer.encode(t).slice(0, 65) }));
 * const guard = createReplayGuard({ sequences: general, weight: 0.5, batchSize: 8, seed: 1 });
 * await train(model, { task: 'classification', train: emails, seed: 1, extraLoss: guard });
 * ```
 */
export function createReplayGuard(options: ReplayOptions): Guard {
  const used = resolve<Required<Omit<ReplayOptions, 'sequences'>>>(REPLAY_PARAMS, options);
  const { weight, batchSize, seed, gradientAccumulationSteps: accumulation, sequenceLength } = used;
  const sequences = options.sequences;
  if (!Array.isArray(sequences) || sequences.length === 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', 'replay: no general-text sequences.');
  const short = sequences.findIndex((s) => s.input.length < 2);
  if (short >= 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', `replay: sequence ${short} has fewer than 2 tokens (nothing to predict).`);
  const plan = createBatchPlan([{ name: 'replay', examples: sequences, weight: 1 }], batchSize, seed);
  // Micro-batches of one step arrive in order; count them so each gets its own replay batch.
  let lastStep = -1;
  let within = 0;
  const settings = { ...used, sequences: sequences.length };
  return makeGuard('replay', settings, ({ model, step }) => {
    if (step !== lastStep) {
      lastStep = step;
      within = 0;
    } else within += 1;
    if (weight === 0) return null;
    return replayLoss(model, sequences, replayBatchIndices(plan, step * accumulation + within), seed, step * accumulation + within, sequenceLength ?? undefined).mul(weight) as tf.Scalar;
  }, undefined, { table: REPLAY_PARAMS, used });
}

/** The sequence indices of replay micro-batch k (a cycling plan: k runs past one pass into the next, reshuffled). */
function replayBatchIndices(plan: ReturnType<typeof createBatchPlan>, k: number): number[] {
  return plan.examplesOf(k).map(([, i]) => i);
}

/**
 * Whether the model has a next-token head to rehearse with: the zoo transformer (its LM head sits beside any
 * classifier), or a Hugging Face causal LM (`*ForCausalLM`; a `*ForSequenceClassification` has no LM head).
 */
function checkLmHead(model: Model): void {
  if (isPretrainedModel(model)) {
    if (model.config.task === 'causal-lm') return;
    throw new ProvenantError(
      'TRAINING_CONFIG_INVALID',
      `replay needs a language-modelling head; this ${model.config.className} has none. Load the checkpoint as a causal LM, or fine-tune a causal LM with replaySource().`,
      { data: { className: model.config.className } },
    );
  }
  if (model.kind !== 'transformer') throw new ProvenantError('TRAINING_CONFIG_INVALID', `replay needs a causal language model (an LM head), got a ${model.kind} model.`);
}

function replayLoss(model: Model, sequences: readonly TrainingExample[], indices: number[], seed: number, k: number, sequenceLength?: number): tf.Scalar {
  checkLmHead(model);
  // The batch tensors are created inside the caller's tidy (the training loop's gradient scope), which frees them.
  const batch = makeBatch(model, 'causal-lm', indices.map((i) => sequences[i]!), indices.map(() => 0), sequenceLength);
  return taskLoss(model, 'causal-lm', batch, { training: true, dropoutSeed: (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ k) >>> 0 });
}

/**
 * The replay batches a guard would use for steps 0…steps−1 (indices into `sequences`), for the audit record and tests.
 *
 * @example
 * ```ts
 * import { replaySchedule, type TrainingExample } from 'provenant/finetune';
 * declare const sequences: readonly TrainingExample[];
 * replaySchedule({ sequences, batchSize: 2, seed: 1 }, 3); // [[i, j], [k, l], [m, n]]: indices per micro-batch
 * ```
 */
export function replaySchedule(options: Pick<ReplayOptions, 'sequences' | 'batchSize' | 'seed'>, microBatches: number): number[][] {
  const plan = createBatchPlan(
    [{ name: 'replay', examples: options.sequences, weight: 1 }],
    resolve<{ batchSize: number }>(REPLAY_PARAMS, { batchSize: options.batchSize }).batchSize,
    resolve<{ seed: number }>(REPLAY_PARAMS, { seed: options.seed }).seed,
  );
  return Array.from({ length: microBatches }, (_, k) => replayBatchIndices(plan, k));
}

/**
 * A `DataSource` of general text for a causal-LM fine-tune, weighted so that `fraction` of every batch is replay
 * (the domain source has weight 1; replay gets f/(1 − f)).
 *
 * @example
 * ```ts
 * import { replaySource, train, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const emails: readonly TrainingExample[];
 * declare const general: readonly TrainingExample[];
 * await train(model, { task: 'causal-lm', train: [{ name: 'domain', examples: emails }, replaySource(general, 0.25)], seed: 1 });
 * ```
 */
export function replaySource(sequences: readonly TrainingExample[], fraction: number, name = 'replay'): DataSource {
  if (!(fraction > 0 && fraction < 1)) throw new ProvenantError('TRAINING_CONFIG_INVALID', `replay fraction must be in (0, 1), got ${fraction}.`);
  return { name, examples: sequences, weight: fraction / (1 - fraction) };
}
