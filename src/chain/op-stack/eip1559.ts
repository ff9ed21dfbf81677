/**
 * EIP-1559 base fee as op-geth computes it (consensus/misc/eip1559 `CalcBaseFee`), with the OP Stack's elasticity and
 * max change denominator: target = ⌊limit / elasticity⌋; above the target the fee rises by
 * max(1, ⌊⌊fee·(used − target)/target⌋/denominator⌋), below it falls by ⌊⌊fee·(target − used)/target⌋/denominator⌋.
 * Integer (bigint) arithmetic throughout, so a simulated sequence equals a node's block by block (checked against anvil
 * in its optimism mode in test/chain/op-stack/eip1559.test.ts).
 */
import { assertArgument } from '../../core/index.js';

export interface BaseFeeParameters {
  gasLimit: number;
  elasticity: number;
  baseFeeMaxChangeDenominator: number;
  /** Floor (Jovian's minimum base fee, or a modelling floor). Default 0. */
  minBaseFeeWei?: bigint | number;
}

/**
 * The base fee of the block after one with `parentBaseFee` and `parentGasUsed`.
 *
 * Source: EIP-1559 (Buterin et al. 2019), "Specification"; op-geth `CalcBaseFee` with `EIP1559Elasticity` and
 * `EIP1559DenominatorCanyon`.
 *
 * @param parentBaseFee wei.
 * @param parentGasUsed gas used by the parent block (≤ gasLimit).
 * @returns wei.
 * @example
 * ```ts
 * import { nextBaseFee } from 'provenant/chain';
 * nextBaseFee(1_000_000_000n, 30_000_000, { gasLimit: 30_000_000, elasticity: 6, baseFeeMaxChangeDenominator: 250 }); // 1_020_000_000n
 * ```
 */
export function nextBaseFee(parentBaseFee: bigint, parentGasUsed: number | bigint, parameters: BaseFeeParameters): bigint {
  const { gasLimit, elasticity, baseFeeMaxChangeDenominator } = parameters;
  assertArgument(typeof parentBaseFee === 'bigint' && parentBaseFee >= 0n, 'parentBaseFee', 'must be a bigint ≥ 0', parentBaseFee);
  assertArgument(Number.isSafeInteger(elasticity) && elasticity >= 1, 'elasticity', 'must be an integer ≥ 1', elasticity);
  assertArgument(Number.isSafeInteger(baseFeeMaxChangeDenominator) && baseFeeMaxChangeDenominator >= 1, 'baseFeeMaxChangeDenominator', 'must be an integer ≥ 1', baseFeeMaxChangeDenominator);
  const used = BigInt(parentGasUsed);
  assertArgument(used >= 0n && used <= BigInt(gasLimit), 'parentGasUsed', 'must be in [0, gasLimit]', parentGasUsed);
  const target = BigInt(gasLimit) / BigInt(elasticity);
  const denominator = BigInt(baseFeeMaxChangeDenominator);
  const floor = BigInt(parameters.minBaseFeeWei ?? 0);
  let next: bigint;
  if (used === target) next = parentBaseFee;
  else if (used > target) {
    const delta = (parentBaseFee * (used - target)) / target / denominator;
    next = parentBaseFee + (delta > 1n ? delta : 1n);
  } else {
    const delta = (parentBaseFee * (target - used)) / target / denominator;
    next = parentBaseFee - delta;
    if (next < 0n) next = 0n;
  }
  return next < floor ? floor : next;
}

/**
 * Base fees block by block under a sequence of gas used: element i is the base fee of block i; block 0 has `initialBaseFee`.
 *
 * @example
 * ```ts
 * import { baseFeeSeries, type BaseFeeParameters } from 'provenant/chain';
 * declare const params: BaseFeeParameters;
 * baseFeeSeries(1_000_000n, [30e6, 30e6, 0], params); // [1_000_000n, 1_020_000n, 1_040_400n]
 * ```
 */
export function baseFeeSeries(initialBaseFee: bigint, gasUsedPerBlock: readonly (number | bigint)[], parameters: BaseFeeParameters): bigint[] {
  const out: bigint[] = [];
  let fee = initialBaseFee;
  for (const used of gasUsedPerBlock) {
    out.push(fee);
    fee = nextBaseFee(fee, used, parameters);
  }
  return out;
}
