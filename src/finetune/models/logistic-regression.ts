/**
 * Multinomial logistic regression: logits = x·W + b, one `Linear` named `linear`. The convex model of the attribution
 * benchmarks (MNIST-10), where influence functions are exact up to numerics.
 */
import { ProvenantError } from '../../core/index.js';
import { createLinear, linearForward, type ForwardContext } from '../linear.js';
import { tf, type Tensor } from '../tf.js';
import type { Model } from './model.js';

export interface LogisticRegressionConfig {
  inputSize: number;
  numClasses: number;
  /** Seed of the initial weights. */
  seed: number;
  /** Initial weight standard deviation; default 0 (the convex optimum does not depend on it). */
  initStd?: number;
}

/**
 * Multinomial logistic regression on inputs [B, inputSize] float32 → logits [B, numClasses] (softmax is applied by the
 * loss): one linear module `linear` with weights `linear.weight` [inputSize, numClasses] (tfjs layout) and `linear.bias`
 * [numClasses], initialised N(0, initStd²) with initStd default 0 (all zeros: the convex optimum does not depend on the
 * start). (inputSize + 1)·numClasses parameters.
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` when `inputSize` or `numClasses` is not a positive integer.
 *
 * @example
 * ```ts
 * import { countParameters, createLogisticRegression } from 'provenant/finetune';
 *
 * const model = createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 1 }); // MNIST-10
 * countParameters(model); // 7850
 * [...model.weights.keys()]; // ['linear.weight', 'linear.bias']
 * ```
 */
export function createLogisticRegression(config: LogisticRegressionConfig): Model<LogisticRegressionConfig> {
  validateSizes('logistic regression', { inputSize: config.inputSize, numClasses: config.numClasses });
  const linear = createLinear('linear', config.inputSize, config.numClasses, { seed: config.seed, initStd: config.initStd ?? 0 });
  const weights = new Map([['linear.weight', linear.kernel], ['linear.bias', linear.bias!]]);
  return {
    kind: 'logistic-regression',
    config: { ...config },
    linears: new Map([['linear', linear]]),
    weights,
    forward: (inputs: Tensor, ctx: ForwardContext = {}) => linearForward(linear, inputs, { ...ctx, inputIsData: true }),
    dispose: () => disposeModelVariables([linear]),
  };
}

export function validateSizes(model: string, sizes: Record<string, number | number[]>): void {
  for (const [key, value] of Object.entries(sizes)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new ProvenantError('MODEL_CONFIG_INVALID', `${model}: "${key}" must be positive integer(s), got ${JSON.stringify(value)}.`);
    }
  }
}

export function disposeModelVariables(linears: Iterable<import('../linear.js').Linear>, extra: Iterable<tf.Variable> = []): void {
  for (const linear of linears) {
    linear.kernel.dispose();
    linear.bias?.dispose();
    for (const adapter of linear.adapters.values()) {
      adapter.A.dispose();
      adapter.B.dispose();
    }
    linear.adapters.clear();
  }
  for (const v of extra) v.dispose();
}
