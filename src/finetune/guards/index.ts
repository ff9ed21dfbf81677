/**
 * Forgetting guards for the training loop's `extraLoss` hook: replay of general text, L2-SP on the adapter update,
 * KL-to-base on a probe set, and EWC with a diagonal Fisher — each with its options in `GUARD_DEFAULTS`.
 */
export { GUARD_DEFAULTS, combineExtraLosses, adapterFactors } from './guard.js';
export type { Guard, GuardKind, GuardField, AdapterFactors } from './guard.js';
export { createL2SpGuard, l2SpPenalty, adapterUpdateSquaredNorm } from './l2-sp.js';
export type { L2SpOptions } from './l2-sp.js';
export { createKlToBaseGuard, klToBaseValue, withAdaptersDisabled } from './kl-to-base.js';
export type { KlToBaseOptions } from './kl-to-base.js';
export { createReplayGuard, replaySchedule, replaySource } from './replay.js';
export type { ReplayOptions } from './replay.js';
export { createEwcGuard, estimateDiagonalFisher } from './ewc.js';
export type { DiagonalFisher, EstimateFisherOptions, EwcOptions, FisherMethod } from './ewc.js';
export { createGuard } from './create-guard.js';
export type { GuardSpec } from './create-guard.js';
export { GUARD_PARAMS, REPLAY_PARAMS, L2SP_PARAMS, KL_TO_BASE_PARAMS, EWC_PARAMS, FISHER_PARAMS } from './guard-params.js';
