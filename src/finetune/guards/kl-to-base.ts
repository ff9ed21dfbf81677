/**
 * KL-to-base: keeps the tuned model's output distributions on a fixed probe set close to the base model's, by adding
 * strength·mean_rows KL(p_base ‖ p_tuned) — the forward KL used as the fine-tuning anchor in RLHF (Ziegler et al. 2019,
 * eq. 2 penalises KL(π‖ρ); we anchor the other way round, so every token the base model found likely stays covered) and
 * as "learning without forgetting" on the old task's outputs (Li & Hoiem 2017, eq. 2, which uses cross-entropy to the
 * recorded outputs — the same gradient, since KL differs from it by the base entropy, a constant).
 *
 * The base distributions are computed once, when the guard is created, with every adapter disabled; only the tuned
 * side runs at each step. Rows: every real (non-pad) next-token position of each probe sequence, or one row per probe
 * example for class distributions. KL per row = Σ_k p_k·(ln p_k − ln q_k), with Σ p ln p precomputed.
 */
import { ProvenantError, resolve } from '../../core/index.js';
import { activeAdapters, disableAdapters, setActiveAdapters } from '../lora/adapter.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor } from '../tf.js';
import { makeBatch, type Batch, type TrainingExample, type TrainingTask } from '../train/data.js';
import { taskLogits } from '../train/loss.js';
import { makeGuard, type Guard } from './guard.js';
import { KL_TO_BASE_PARAMS } from './guard-params.js';

export interface KlToBaseOptions {
  /** Probe examples: token sequences (`causal-lm`) or classification inputs; labels are not used. */
  probe: readonly TrainingExample[];
  /** Which outputs to compare. Default 'causal-lm'. */
  task?: TrainingTask;
  /** Multiplier of the mean KL. Default 1. */
  strength?: number;
  /** Probe examples per step; default all. Smaller batches cycle through the probe set by step. */
  batchSize?: number | null;
  /** Truncate probe sequences to this many input positions. */
  sequenceLength?: number | null;
}

interface ProbeBatch {
  inputs: Tensor;
  /** Hugging Face models: the batch's attention mask and BERT segment ids (a padded row must not attend to its pads). */
  masks: Pick<Batch, 'attentionMask' | 'tokenTypeIds'>;
  /** Base probabilities of the kept rows [N, K]. */
  p: Tensor;
  /** Σ_k p ln p per kept row [N]. */
  negEntropy: Tensor;
  /** Row weights summing to 1 over the batch [rows of the logits]: 1/N on real rows, 0 on pads. */
  weights: Tensor;
}

/**
 * Runs `fn` with every adapter disabled (the base model), then restores the active set. Adapters merged into the
 * kernels stay merged: the "base" is then base + merged updates.
 *
 * @example
 * ```ts
 * import { computeLogits, withAdaptersDisabled, type IdRows, type PretrainedModel } from 'provenant/finetune';
 * declare const model: PretrainedModel;
 * declare const inputIds: IdRows;
 * const baseLogits = withAdaptersDisabled(model, () => computeLogits(model, { inputIds })); // the base model's logits
 * ```
 */
export function withAdaptersDisabled<T>(model: Model, fn: () => T): T {
  let active: string[] = [];
  let hadAdapters = false;
  for (const linear of model.linears.values()) if (linear.adapters.size > 0) hadAdapters = true;
  if (hadAdapters) {
    active = activeAdapters(model);
    disableAdapters(model);
  }
  try {
    return fn();
  } finally {
    if (hadAdapters) setActiveAdapters(model, active);
  }
}

/**
 * KL-to-base guard. Create it before training (or with the adapter attached but not yet trained — the base side is
 * always computed with adapters disabled).
 *
 * @example
 * ```ts
 * import { createCharTokenizer, createKlToBaseGuard, train, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const rows: readonly TrainingExample[];
 * declare const generalTexts: readonly string[];
 * const tokenizer = createCharTokenizer();
 * const probe = generalTexts.slice(0, 16).map((t) => ({ input: tokenizer.encode(t).slice(0, 65) }));
 * const guard = createKlToBaseGuard(model, { probe, task: 'causal-lm', strength: 0.5 });
 * await train(model, { task: 'classification', train: rows, seed: 1, extraLoss: guard });
 * guard.dispose();
 * ```
 */
export function createKlToBaseGuard(model: Model, options: KlToBaseOptions): Guard {
  const used = resolve<{ strength: number; task: TrainingTask; batchSize: number | null; sequenceLength: number | null }>(KL_TO_BASE_PARAMS, options);
  const { task, strength } = used;
  const probe = options.probe;
  if (!Array.isArray(probe) || probe.length === 0) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', 'kl-to-base: the probe set is empty.');
  }
  // null = the whole probe set every step (see KL_TO_BASE_PARAMS).
  const batchSize = used.batchSize ?? probe.length;
  const sequenceLength = used.sequenceLength ?? undefined;
  const padId = (model.config as { padId?: number }).padId ?? 0;
  const batches: ProbeBatch[] = [];
  const disposeAll = () => {
    for (const b of batches) for (const t of [b.inputs, b.p, b.negEntropy, b.weights, b.masks.tokenTypeIds]) t?.dispose();
    batches.length = 0;
  };
  try {
    withAdaptersDisabled(model, () => {
      for (let start = 0; start < probe.length; start += batchSize) {
        const slice = probe.slice(start, start + batchSize);
        // Labels are not used; makeBatch wants one for classification.
        const rows = slice.map((e) => ({ input: e.input, label: e.label ?? 0 }));
        const batch = makeBatch(model, task, rows, rows.map(() => 0), sequenceLength);
        const kept = tf.tidy(() => {
          const logp = tf.logSoftmax(taskLogits(model, task, batch.inputs, {}, batch));
          const p = tf.exp(logp);
          // A Hugging Face batch says which targets are real (its pad id may be a real token, e.g. GPT-2's EOS).
          const mask =
            task !== 'causal-lm'
              ? tf.ones([slice.length])
              : batch.lossMask
                ? batch.lossMask.reshape([-1])
                : batch.targets.reshape([-1]).notEqual(tf.scalar(padId, 'int32')).cast('float32');
          const count = mask.sum().dataSync()[0]!;
          if (count === 0) {
            throw new ProvenantError('TRAINING_CONFIG_INVALID', 'kl-to-base: a probe batch has no predicted position (sequences need at least 2 tokens).');
          }
          return { p: tf.keep(p), negEntropy: tf.keep(p.mul(logp).sum(1)), weights: tf.keep(mask.div(count)) };
        });
        batches.push({ inputs: batch.inputs, masks: { attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds }, ...kept });
        batch.targets.dispose();
        batch.lossMask?.dispose();
      }
    });
  } catch (error) {
    disposeAll();
    throw error;
  }
  const settings = { ...used, probeExamples: probe.length };
  return makeGuard(
    'kl-to-base',
    settings,
    ({ model: m, step }) => {
      if (strength === 0) return null;
      const b = batches[step % batches.length]!;
      const logq = tf.logSoftmax(taskLogits(m, task, b.inputs, { training: false }, b.masks));
      const kl = b.negEntropy.sub(b.p.mul(logq).sum(1));
      return kl.mul(b.weights).sum().mul(strength) as tf.Scalar;
    },
    disposeAll,
    { table: KL_TO_BASE_PARAMS, used },
  );
}

/**
 * Mean KL(p_base ‖ p_tuned) of a guard's rows for the model's current weights, as a number — what the guard adds at
 * strength 1 (for tests and logs).
 *
 * @example
 * ```ts
 * import { klToBaseValue, type Guard, type Model } from 'provenant/finetune';
 * declare const guard: Guard;
 * declare const model: Model;
 * klToBaseValue(guard, model); // 0 before training: the tuned model is the base
 * ```
 */
export function klToBaseValue(guard: Guard, model: Model, step = 0): number {
  if (guard.kind !== 'kl-to-base') throw new ProvenantError('INVALID_ARGUMENT', `klToBaseValue needs a kl-to-base guard, got ${guard.kind}.`);
  const strength = guard.settings.strength as number;
  return tf.tidy(() => {
    const value = guard({ model, task: guard.settings.task as TrainingTask, step, batch: undefined as never });
    return value ? value.dataSync()[0]! / (strength || 1) : 0;
  });
}

