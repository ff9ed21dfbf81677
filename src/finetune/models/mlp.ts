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
