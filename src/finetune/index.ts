export { tf } from './tf.js';
export { createLinear, linearForward, linearOp, createGradientCapture, disposeCapture } from './linear.js';
export type { Linear, LoraWeights, GradientCapture, ForwardContext, CreateLinearOptions } from './linear.js';
export * from './backend.js';
export * from './models/index.js';
export * from './lora/index.js';
export * from './io/index.js';
export * from './train/index.js';
export * from './guards/index.js';
// Both the adapter API (what to optimise) and the optimizer (how) name this shape; the optimizer's looser form is the public one.
export type { ParameterGroup } from './train/optimizer.js';
export * from './hf/index.js';
export { sampleToken, samplingDistribution } from './sampling.js';
export type { SamplingOptions, SamplingDistribution } from './sampling.js';
export * from './gemm/index.js';
export { GEMM_MIN_ROWS } from './linear.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
