/**
 * Stage 5 · reward: contributors flagged (net harmful at the true label) are paid nothing; the fee is split exactly over
 * the others' summed positive shares (`splitRewardDetailed`: largest remainder, exact total).
 */
import { splitRewardDetailed, type RewardSplit } from '../../attribution/index.js';
import type { AttributionResult } from './attribute.js';

export interface RewardResult {
  /** Contributor → share weight actually paid on (0 for flagged). */
  shares: Map<string, number>;
  split: RewardSplit;
  flagged: string[];
}

/**
 * Splits `feeWei` over the contributors.
 *
 * @throws ProvenantError `REWARD_SPLIT_INVALID` when there is no contributor or a share is not finite
 * @example
 * ```ts
 * import { reward, type AttributionResult } from 'provenant';
 * declare const attribution: Pick<AttributionResult, 'totals' | 'paidShares'>;
 * const rewards = reward(['alice', 'bob'], attribution, 10n ** 15n);
 * Object.values(rewards.split.amounts).reduce((a, b) => a + b, 0n); // 10n ** 15n
 * ```
 */
export function reward(contributorIds: readonly string[], attribution: Pick<AttributionResult, 'totals' | 'paidShares'>, feeWei: bigint): RewardResult {
  const flagged = contributorIds.filter((c) => (attribution.totals.get(c) ?? 0) < 0);
  const shares = new Map(contributorIds.map((c) => [c, flagged.includes(c) ? 0 : attribution.paidShares.get(c) ?? 0]));
  const record: Record<string, number> = Object.create(null);
  for (const [c, s] of shares) record[c] = s;
  const split = splitRewardDetailed(feeWei, record);
  return { shares, split, flagged: [...new Set([...flagged, ...split.flagged])].sort() };
}
