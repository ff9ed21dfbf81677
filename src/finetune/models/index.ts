export type { Model, ModelKind } from './model.js';
export { setBaseTrainable } from './model.js';
export { createLogisticRegression } from './logistic-regression.js';
export type { LogisticRegressionConfig } from './logistic-regression.js';
export { createMlp } from './mlp.js';
export type { MlpConfig } from './mlp.js';
export { createTransformer, addClassificationHead, countParameters } from './transformer.js';
export type { TransformerConfig, TransformerModel } from './transformer.js';
export { createCharTokenizer, normalizeText, CHAR_VOCABULARY, CHAR_VOCAB_SIZE, PAD_ID, UNK_ID, NEWLINE_ID } from './tokenizer.js';
export type { CharTokenizer } from './tokenizer.js';
export {
  loadBaseModel,
  saveBaseModel,
  readBaseModelConfig,
  baseModelDirectory,
  modelStateTensors,
  loadModelState,
  BASE_MODEL_FORMAT,
} from './base-model.js';
export type { BaseModelConfig, LoadBaseModelOptions } from './base-model.js';
export { generateText } from './generate.js';
export type { GenerateOptions } from './generate.js';
export { fitBagOfWords, bagOfWordsTokens } from './bag-of-words.js';
export type { BagOfWords, BagOfWordsOptions } from './bag-of-words.js';
