/**
 * Splitting a query fee (integer wei) among contributors in proportion to their attribution shares.
 *
 * Keys are data: `amounts` is a null-prototype record (and shares may come as a Map), so an id such as `__proto__` or
 * `constructor` is paid like any other.
 *
 * Exactness: a share is a float64, which is an exact dyadic rational m·2^e. Every share is turned into an exact bigint
 * numerator over one common power-of-two denominator, so the proportional amounts fee·sᵢ/Σs are computed without any
 * rounding; the floors are then topped up by the largest-remainder (Hamilton) method. The result therefore sums to the
 * fee exactly, never goes negative, differs from the exact proportional amount by less than 1 wei, and does not depend
 * on the order of the keys (ties of equal remainder go to the lexicographically smaller key).
 *
 * Contributors whose net influence is negative (share < 0) receive zero and are reported in `flagged`: a row set that
 * made the prediction worse is not paid, and the operator should look at it (mislabelled or adversarial data).
 */
import { ProvenantError, describeValue, dict, entriesOf } from '../core/index.js';

/** The detailed result of {@link splitRewardDetailed}. */
export interface RewardSplit {
  /** Amount per contributor key (every input key is present; flagged and zero-share keys get 0n). Sums to the fee. */
  amounts: Record<string, bigint>;
  /** Keys with a negative share (net negative influence): they get 0n. Sorted. */
  flagged: string[];
  /** Keys with a share of exactly 0: they get 0n. Sorted. */
  zero: string[];
  /** The fee that was split (equals the sum of `amounts`). */
  totalWei: bigint;
}

/**
 * Splits `feeWei` among the keys of `shares` in proportion to their positive shares (largest remainder, exact total).
 * Negative shares get zero (see {@link splitRewardDetailed} for the flags). Shares need not sum to 1.
 *
 * @throws ProvenantError `REWARD_SPLIT_INVALID` for a negative fee, a NaN/infinite share, no keys, or no positive share.
 * @example
 * ```ts
 * import { splitReward } from 'provenant/attribution';
 * splitReward(10n, { alice: 2, bob: 1 }) // { alice: 7n, bob: 3n }
 * ```
 */
export function splitReward(feeWei: bigint, shares: Readonly<Record<string, number>> | ReadonlyMap<string, number>): Record<string, bigint> {
  return splitRewardDetailed(feeWei, shares).amounts;
}

/**
 * {@link splitReward} with the flags: which contributors had net negative influence (paid zero) and which had none.
 *
 * @example
 * ```ts
 * import { splitRewardDetailed } from 'provenant/attribution';
 * const { amounts, flagged } = splitRewardDetailed(1000n, { a: 0.7, b: 0.5, spammer: -0.2 });
 * // amounts = { a: 583n, b: 417n, spammer: 0n }, flagged = ['spammer']
 * ```
 */
export function splitRewardDetailed(feeWei: bigint, sharesInput: Readonly<Record<string, number>> | ReadonlyMap<string, number>): RewardSplit {
  if (typeof feeWei !== 'bigint' || feeWei < 0n) {
    throw new ProvenantError('REWARD_SPLIT_INVALID', `The fee must be a non-negative bigint (wei), got ${describeValue(feeWei)}.`, {
      data: { feeWei: String(feeWei) },
    });
  }
  if (sharesInput === null || typeof sharesInput !== 'object') {
    throw new ProvenantError('REWARD_SPLIT_INVALID', `Shares must be a record (or Map) of numbers, got ${describeValue(sharesInput)}.`);
  }
  // A contributor id is any string: copy into a null-prototype record so "__proto__" or "toString" is an ordinary key.
  const shares = dict<number>(entriesOf(sharesInput));
  const keys = Object.keys(shares).sort(compareKeys);
  if (keys.length === 0) throw new ProvenantError('REWARD_SPLIT_INVALID', 'Shares are empty: there is no one to pay.');
  const bad = keys.filter((k) => typeof shares[k] !== 'number' || !Number.isFinite(shares[k]));
  if (bad.length > 0) {
    throw new ProvenantError('REWARD_SPLIT_INVALID', `Shares must be finite numbers; ${bad.length} are not.`, {
      metaMessages: bad.slice(0, 10).map((k) => `${k}: ${describeValue(shares[k])}`),
      data: { keys: bad },
    });
  }
  const positive = keys.filter((k) => shares[k]! > 0);
  if (positive.length === 0) {
    throw new ProvenantError('REWARD_SPLIT_INVALID', 'No contributor has a positive share, so the fee cannot be split.', {
      details: 'All shares are zero or negative (net negative influence). Decide off-chain what happens to the fee.',
      metaMessages: keys.slice(0, 10).map((k) => `${k}: ${shares[k]}`),
    });
  }
  const exact = positive.map((k) => toDyadic(shares[k]!));
  const maxExp = exact.reduce((m, d) => Math.max(m, d.exp), 0);
  const numerators = exact.map((d) => d.mantissa << BigInt(maxExp - d.exp));
  const total = numerators.reduce((a, b) => a + b, 0n);

  const amounts = dict<bigint>();
  for (const k of keys) amounts[k] = 0n;
  const remainders: { key: string; remainder: bigint }[] = [];
  let assigned = 0n;
  positive.forEach((key, i) => {
    const product = feeWei * numerators[i]!;
    const floor = product / total;
    amounts[key] = floor;
    assigned += floor;
    remainders.push({ key, remainder: product - floor * total });
  });
  // Largest remainder; equal remainders go to the smaller key, so the result is independent of input order.
  remainders.sort((a, b) => (a.remainder > b.remainder ? -1 : a.remainder < b.remainder ? 1 : compareKeys(a.key, b.key)));
  let leftover = feeWei - assigned; // < number of positive keys, since each floor loses < 1
  for (let i = 0; leftover > 0n; i++, leftover--) amounts[remainders[i]!.key]! += 1n;

  return {
    amounts,
    flagged: keys.filter((k) => shares[k]! < 0),
    zero: keys.filter((k) => shares[k] === 0),
    totalWei: feeWei,
  };
}

/** Code-unit order (not locale order), so the tie rule is the same on every machine. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** x = mantissa / 2^exp exactly, for a finite positive double. */
function toDyadic(x: number): { mantissa: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number; // x = mantissa · 2^e
  if (biasedExp === 0) {
    e = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    e = biasedExp - 1075;
  }
  if (e >= 0) return { mantissa: mantissa << BigInt(e), exp: 0 };
  return { mantissa, exp: -e };
}
