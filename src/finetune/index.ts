export { tf } from './tf.js';
export {
  createLinear,
  linearForward,
  linearOp,
  createGradientCapture,
  disposeCapture,
} from './linear.js';
export type { Linear, LoraWeights, GradientCapture, ForwardContext, CreateLinearOptions } from './linear.js';
export type { Model, ModelKind } from './models/model.js';
export { setBaseTrainable } from './models/model.js';
export { createLogisticRegression } from './models/logistic-regression.js';
export type { LogisticRegressionConfig } from './models/logistic-regression.js';
export { createMlp } from './models/mlp.js';
export type { MlpConfig } from './models/mlp.js';
