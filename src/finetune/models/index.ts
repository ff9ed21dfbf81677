export type { Model, ModelKind } from './model.js';
export { setBaseTrainable } from './model.js';
export { createLogisticRegression } from './logistic-regression.js';
export type { LogisticRegressionConfig } from './logistic-regression.js';
export { createMlp } from './mlp.js';
export type { MlpConfig } from './mlp.js';
