/**
 * A multilayer perceptron: Linear(`fc1`) → ReLU → … → Linear(`fc<k>`) → logits. The non-convex model of the attribution
 * benchmarks and a LoRA target for tests.
 */
import { createLinear, linearForward, type ForwardContext, type Linear } from '../linear.js';
import { tf, type Tensor } from '../tf.js';
import { disposeModelVariables, validateSizes } from './logistic-regression.js';
import type { Model } from './model.js';

export interface MlpConfig {
  inputSize: number;
  /** Hidden layer widths, e.g. [128]. */
  hiddenSizes: number[];
  numClasses: number;
  seed: number;
}

/**
 * A multilayer perceptron on inputs [B, inputSize] float32 → logits [B, numClasses]: linear modules `fc1` … `fc<k>`
 * with ReLU between them. Hidden layers start He-initialised (std √(2/in), He et al. 2015), the output layer LeCun
 * (1/√in); biases zero. Every module is a LoRA target by default.
 *
 * @throws ProvenantError `MODEL_CONFIG_INVALID` when `inputSize`, a hidden size or `numClasses` is not a positive
 * integer.
 *
 * @example
 * ```ts
 * import { countParameters, createMlp } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 784, hiddenSizes: [128], numClasses: 10, seed: 1 });
 * [...model.linears.keys()]; // ['fc1', 'fc2']
 * countParameters(model); // 101770 = 784·128 + 128 + 128·10 + 10
 * ```
 */
export function createMlp(config: MlpConfig): Model<MlpConfig> {
  validateSizes('MLP', { inputSize: config.inputSize, hiddenSizes: config.hiddenSizes, numClasses: config.numClasses });
  const sizes = [config.inputSize, ...config.hiddenSizes, config.numClasses];
  const layers: Linear[] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    // He initialisation for ReLU layers; the output layer uses LeCun's 1/√in.
    const std = i < sizes.length - 2 ? Math.sqrt(2 / sizes[i]!) : 1 / Math.sqrt(sizes[i]!);
    layers.push(createLinear(`fc${i + 1}`, sizes[i]!, sizes[i + 1]!, { seed: config.seed * 7919 + i, initStd: std }));
  }
  const weights = new Map<string, tf.Variable>();
  for (const layer of layers) {
    weights.set(`${layer.name}.weight`, layer.kernel);
    weights.set(`${layer.name}.bias`, layer.bias!);
  }
  return {
    kind: 'mlp',
    config: { ...config, hiddenSizes: [...config.hiddenSizes] },
    linears: new Map(layers.map((l) => [l.name, l])),
    weights,
    forward(inputs: Tensor, ctx: ForwardContext = {}) {
      let h = linearForward(layers[0]!, inputs, { ...ctx, inputIsData: true }) as Tensor;
      for (let i = 1; i < layers.length; i++) h = linearForward(layers[i]!, tf.relu(h), { ...ctx, inputIsData: false });
      return h;
    },
    dispose: () => disposeModelVariables(layers),
  };
}
