/**
 * Attribution of generated text (Proof of Attribution for a causal LM's answers): causal-LM featurization with LoGra's
 * factorized projection, verbatim span tracing over a suffix array, the per-inference fee model, and
 * `attributeGeneration`, which ties them together.
 */
export { causalLogits, contextLength, causalWindows, tokenLossGradients, packWindows } from './causal-lm.js';
export type { CausalLmModel, TextTokenizer, CausalExample, CausalWindow } from './causal-lm.js';
export { CAUSAL_FEATURIZE_DEFAULTS, CAUSAL_FEATURIZE_PARAMS, createCausalFeaturizer, featurizeCausal, isCausalInfo, causalOptionsFromInfo } from './causal-featurize.js';
export type { CausalFeaturizeOptions, CausalFeaturizeInfo, CausalFeatures, CausalFeaturizer } from './causal-featurize.js';
export { suffixArray } from './suffix-array.js';
export { SPAN_TRACE_DEFAULTS, TRACE_SPANS_PARAMS, buildSpanIndex, traceSpans } from './span-index.js';
export type { SpanIndex, SpanIndexRows, TracedSpan, TraceSpansOptions, SpanTrace } from './span-index.js';
export { FEE_MODEL_FIELDS, FEE_MODEL_PARAMS, resolveFeeModel, inferenceFee, splitGenerationFee } from './fee-model.js';
export type { FeeModel, FeeModelField, GenerationFeeSplit, UnpaidReason } from './fee-model.js';
export { COMPLETION_DEFAULTS, COMPLETION_PARAMS, generateCompletion } from './generate.js';
export type { CompletionOptions } from './generate.js';
export { attributeGeneration, createGenerationIndex, inMemoryFeatureStore, ATTRIBUTE_GENERATION_PARAMS, GENERATION_INDEX_PARAMS } from './attribute-generation.js';
export type {
  AttributeGenerationOptions,
  GenerationAttribution,
  GenerationIndex,
  GenerationIndexOptions,
  GenerationRow,
  TokenAttribution,
} from './attribute-generation.js';
