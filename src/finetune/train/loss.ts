/**
 * Task losses and validation metrics.
 *
 * Classification: mean softmax cross-entropy over the batch. Causal LM: cross-entropy of each next token, averaged over
 * the real (non-pad) target tokens of the batch, so padding never counts; perplexity = exp(mean token loss).
 */
import { ProvenantError } from '../../core/index.js';
import type { ForwardContext } from '../linear.js';
import type { Model } from '../models/model.js';
import type { TransformerModel } from '../models/transformer.js';
import { tf, type Tensor, type CustomGradientFunc } from '../tf.js';
import { assertPaddingMasked } from '../hf/padding-mask.js';
import { isPretrainedModel } from '../hf/pretrained-model.js';
import { disposeBatch, makeBatch, type Batch, type TrainingExample, type TrainingTask } from './data.js';

/**
 * Logits of the task: [B, C] for classification, [B·T, V] for causal LM. Hugging Face models read the batch's attention
 * mask and segment ids when given (`batch`); without them, no padding is assumed — exact for right-padded causal models,
 * whose real positions never attend to the pads after them — and a padded BERT batch is refused (`MODEL_CONFIG_INVALID`
 * naming the rows): BERT would attend to its pads. Inputs as `makeBatch` builds them. Call inside `tf.tidy` or a gradient
 * function.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for causal LM on a zoo model that is not a transformer;
 *   `MODEL_CONFIG_INVALID` for a padded BERT batch without an attention mask.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { loadBaseModel, makeBatch, taskLogits } from 'provenant/finetune';
 *
 * const model = await loadBaseModel();
 * const batch = makeBatch(model, 'causal-lm', [{ input: [5, 6, 7, 8, 9] }, { input: [1, 2, 3] }], [0, 0]);
 * const logits = tf.tidy(() => taskLogits(model, 'causal-lm', batch.inputs)); // [B·T, V] = [8, 98]
 * ```
 */
export function taskLogits(model: Model, task: TrainingTask, inputs: Tensor, ctx: ForwardContext = {}, batch?: Pick<Batch, 'attentionMask' | 'tokenTypeIds'>): Tensor {
  if (isPretrainedModel(model)) {
    const mask = batch?.attentionMask ?? null;
    if (!mask) assertPaddingMasked(model.config, inputs.dataSync() as Int32Array, inputs.shape[0]!, inputs.shape[1] ?? 1, null, 'taskLogits');
    return model.logits({ inputIds: inputs, attentionMask: mask, tokenTypeIds: batch?.tokenTypeIds ?? null }, ctx);
  }
  if (task === 'causal-lm') {
    if (model.kind !== 'transformer') throw new ProvenantError('TRAINING_CONFIG_INVALID', 'Causal LM needs a transformer.');
    return (model as TransformerModel).forwardLm(inputs, ctx);
  }
  return model.forward(inputs, ctx);
}

/**
 * Loss of a batch as a scalar, in nats. Classification: mean softmax cross-entropy over the B examples. Causal LM:
 * next-token cross-entropy averaged over the target tokens that count (the batch's loss mask when it has one: Hugging
 * Face models, or the zoo transformer with a `promptLength`; else every non-pad target). `sumInsteadOfMean` returns
 * the summed loss instead (for exact averages over several batches). Call inside a tidy or gradient.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for causal LM on a zoo model that is not a transformer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { disposeBatch, makeBatch, taskLoss, type Model, type TrainingExample } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const examples: TrainingExample[];
 * const batch = makeBatch(model, 'classification', examples, examples.map(() => 0));
 * const loss = tf.tidy(() => taskLoss(model, 'classification', batch).dataSync()[0]); // e.g. 0.69 (nats) for 2 balanced classes at init
 * disposeBatch(batch);
 * ```
 */
export function taskLoss(model: Model, task: TrainingTask, batch: Batch, ctx: ForwardContext = {}, sumInsteadOfMean = false): tf.Scalar {
  const logits = taskLogits(model, task, batch.inputs, ctx, batch);
  if (task === 'causal-lm') {
    const mask = lossWeights(model, batch);
    const total = weightedCrossEntropy(logits, batch.targets.reshape([-1]), mask);
    return (sumInsteadOfMean ? total : total.div(mask.sum().maximum(1))) as tf.Scalar;
  }
  const total = weightedCrossEntropy(logits, batch.targets, null);
  return (sumInsteadOfMean ? total : total.div(batch.size)) as tf.Scalar;
}

/**
 * Σᵢ wᵢ·(−log softmax(xᵢ)[yᵢ]) for logits x [N, C], int32 targets y [N] and weights w [N] (null: all 1), with the
 * closed-form gradient wᵢ·(softmax(xᵢ) − onehot(yᵢ)). Written on `softmax` (one XNNPACK kernel on wasm) rather than
 * `logSoftmax`, whose exp is a scalar loop there (≈ 8× slower on [1024, 2048]) and runs again in its gradient: the row's
 * log-sum-exp is max(x) − log(max(softmax(x))) — exact, and the maximal probability is ≥ 1/C, so its log never overflows.
 * Returns the weighted sum (not the mean), in nats; call inside `tf.tidy` or a gradient function.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { weightedCrossEntropy } from 'provenant/finetune';
 *
 * const loss = weightedCrossEntropy(tf.tensor2d([[2, 0], [0, 2]]), tf.tensor1d([0, 1], 'int32'), null);
 * loss.dataSync(); // [0.2539] = 2·log(1 + e⁻²)
 * ```
 */
export function weightedCrossEntropy(logits: Tensor, targets: Tensor, weights: Tensor | null): tf.Scalar {
  const classes = logits.shape[1]!;
  const oneHot = tf.oneHot(targets as tf.Tensor1D, classes).cast('float32');
  const op = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
    const p = tf.softmax(x);
    const nll = x.max(1).sub(p.max(1).log()).sub(x.mul(oneHot).sum(1));
    // The one-hot and the weights are saved too: the gradient runs after the forward pass's tidy freed its intermediates.
    save(weights ? [p, oneHot, weights] : [p, oneHot]);
    return {
      value: (weights ? nll.mul(weights) : nll).sum(),
      gradFunc: (dy: Tensor, [probabilities, hot, w]: Tensor[]) => {
        const g = probabilities!.sub(hot!);
        return [(w ? g.mul(w.reshape([-1, 1])) : g).mul(dy)];
      },
    };
  }) as unknown as CustomGradientFunc);
  return op(logits) as tf.Scalar;
}

/** Which LM targets count, [B·T] float32: the batch's loss mask, else every target that is not the pad id. */
function lossWeights(model: Model, batch: Batch): Tensor {
  if (batch.lossMask) return batch.lossMask.reshape([-1]);
  const padId = (model.config as { padId?: number }).padId ?? 0;
  return batch.targets.reshape([-1]).notEqual(tf.scalar(padId, 'int32')).cast('float32');
}

export interface EvaluationMetrics {
  /** Mean loss per example (classification) or per real target token (LM). */
  loss: number;
  /** Classification only. */
  accuracy?: number;
  /** Causal LM only: exp(loss). */
  perplexity?: number;
  /** Examples evaluated. */
  examples: number;
  /** LM only: target tokens evaluated. */
  tokens?: number;
}

/**
 * Loss and accuracy (classification) or perplexity (LM) over examples, in batches, with no dropout.
 *
 * @example
 * ```ts
 * import { evaluateModel, type Model, type TrainingExample } from 'provenant/finetune';
 * declare const model: Model;
 * declare const heldOut: readonly TrainingExample[];
 * const { loss, perplexity } = evaluateModel(model, 'causal-lm', heldOut, { batchSize: 64 });
 * ```
 */
export function evaluateModel(
  model: Model,
  task: TrainingTask,
  examples: readonly TrainingExample[],
  options: { batchSize?: number; sequenceLength?: number } = {},
): EvaluationMetrics {
  const batchSize = options.batchSize ?? 64;
  let lossSum = 0;
  let count = 0;
  let correct = 0;
  for (let start = 0; start < examples.length; start += batchSize) {
    const slice = examples.slice(start, start + batchSize);
    const batch = makeBatch(model, task, slice, slice.map(() => 0), options.sequenceLength);
    const [sum, n, hits] = tf.tidy(() => {
      const loss = taskLoss(model, task, batch, {}, true).dataSync()[0]!;
      if (task === 'causal-lm') return [loss, lossWeights(model, batch).sum().dataSync()[0]!, 0];
      const predicted = taskLogits(model, task, batch.inputs, {}, batch).argMax(1);
      return [loss, slice.length, predicted.equal(batch.targets).sum().dataSync()[0]!];
    });
    disposeBatch(batch);
    lossSum += sum;
    count += n;
    correct += hits;
  }
  const loss = lossSum / Math.max(1, count);
  if (task === 'causal-lm') return { loss, perplexity: Math.exp(loss), examples: examples.length, tokens: count };
  return { loss, accuracy: correct / Math.max(1, count), examples: examples.length };
}
