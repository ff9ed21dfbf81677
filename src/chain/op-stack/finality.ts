/**
 * When an L2 block becomes `unsafe`, `safe` and `finalized` on an OP Stack chain (OP Stack specs, "Safe and finalized
 * L2 blocks"): `unsafe` as soon as the sequencer produces it; `safe` once the batcher has posted it to L1 and that L1
 * block exists (the batcher posts every `batcherIntervalSeconds`; the batch then waits for an L1 block); `finalized`
 * once that L1 block is finalized by Ethereum (Casper FFG: ~2 epochs, 12.8 min).
 */
import { assertArgument } from '../../core/index.js';
import type { OpStackProfile } from './chain-profile.js';

export interface BlockFinality {
  /** Seconds (on the simulation clock) at which the block is unsafe, safe, finalized. */
  unsafe: number;
  safe: number;
  finalized: number;
}

/**
 * Finality times of the L2 block produced at `blockTimeSeconds`: the batcher posts at the next multiple of its interval,
 * the batch lands one L1 block later (`safe`), and finality follows `l1FinalitySeconds` after that.
 *
 * @example
 * ```ts
 * import { blockFinality, resolveOpStackProfile } from 'provenant/chain';
 * blockFinality(10, resolveOpStackProfile()); // { unsafe: 10, safe: 72, finalized: 840 } (post at 60 s, +12 s, +768 s)
 * ```
 */
export function blockFinality(blockTimeSeconds: number, profile: Pick<OpStackProfile, 'batcherIntervalSeconds' | 'l1BlockTimeSeconds' | 'l1FinalitySeconds'>): BlockFinality {
  assertArgument(Number.isFinite(blockTimeSeconds) && blockTimeSeconds >= 0, 'blockTimeSeconds', 'must be a finite number ≥ 0', blockTimeSeconds);
  const interval = profile.batcherIntervalSeconds;
  const posted = Math.ceil(blockTimeSeconds / interval - 1e-12) * interval;
  const safe = posted + profile.l1BlockTimeSeconds;
  return { unsafe: blockTimeSeconds, safe, finalized: safe + profile.l1FinalitySeconds };
}
