/**
 * Provenant — attributable fine-tuning. The core entry point: core utilities, Datanets, fine-tuning, evaluation and
 * attribution. The optional chain adapter lives at `provenant/chain` so that importing this entry never loads viem.
 */
export * from './core/index.js';
export * from './datanet/index.js';
export * from './finetune/index.js';
export * from './eval/index.js';
export * from './attribution/index.js';
export * from './audit/index.js';
export * from './pipeline/index.js';
