/** OP Stack economics of attribution publishing: L1 data fee, FastLZ, EIP-1559 base fee, finality, load simulation. */
export { flzCompressLength } from './fastlz.js';
export {
  estimateL1Fee,
  l1FeeUpperBound,
  calldataGas,
  fjordL1Cost,
  ecotoneL1Cost,
  fjordEstimatedSize,
  FJORD_COST_INTERCEPT,
  FJORD_COST_FASTLZ_COEF,
  FJORD_MIN_TRANSACTION_SIZE,
  UNSIGNED_TX_PADDING,
} from './l1-fee.js';
export type { L1FeeFork, L1FeeParameters } from './l1-fee.js';
export {
  easAttestAbi,
  EAS_PREDEPLOY,
  easAttestCalldata,
  recordAttributionsCalldata,
  publishRootCalldata,
  unsignedTransaction,
} from './strategy-transactions.js';
export type { UnsignedTransactionFields } from './strategy-transactions.js';
export { OP_STACK_PROFILE_FIELDS, resolveOpStackProfile, opStackProfileParameters, gasTarget } from './chain-profile.js';
export type { OpStackProfile, OpStackProfileField, OpStackProfileParameter } from './chain-profile.js';
export { nextBaseFee, baseFeeSeries } from './eip1559.js';
export type { BaseFeeParameters } from './eip1559.js';
export { blockFinality } from './finality.js';
export type { BlockFinality } from './finality.js';
export { inferenceTrace } from './inference-trace.js';
export type { InferenceTrace, InferenceTraceOptions, LoadShape } from './inference-trace.js';
export { ATTRIBUTION_STRATEGIES, fitStrategyModel } from './strategy-model.js';
export type { AttributionStrategy, StrategyTransactionModel, StrategySample } from './strategy-model.js';
export { simulateAttributionLoad, maxEventsPerTransaction, strategyL1Fee } from './load-simulation.js';
export type { SimulateAttributionLoadParameters, LoadSimulationResult, LatencySummary } from './load-simulation.js';
export { findBreakingLoad } from './breaking-load.js';
export type { FindBreakingLoadParameters, BreakingLoad } from './breaking-load.js';
