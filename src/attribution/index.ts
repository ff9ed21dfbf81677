/**
 * Attribution: featurize → precondition → score, aggregation, reward split, and attribution at inference time.
 * Sign convention and score layout: see ./conventions.ts.
 */
export { splitReward, splitRewardDetailed } from './reward-split.js';
export type { RewardSplit } from './reward-split.js';
export * from './quality/index.js';
export * from './convex/index.js';
