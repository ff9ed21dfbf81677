/**
 * Printing a query's contributor (or Datanet) shares. The shares are *signed*: each group's net influence divided by
 * the sum of the positive ones (see `contributorShares`), so proponents sum to 100 % and an opponent shows as a
 * negative percentage. That is what the field expects here: in influence-based data valuation (Koh & Liang 2017; TRAK,
 * Park et al. 2023) a negative score is information — the group pushed against the prediction — and `splitReward`
 * needs the sign to flag such a contributor and pay it nothing. So the printout keeps the sign and says so, rather
 * than showing positive-only shares (which is what the reward split pays, shown beside it as wei amounts).
 */

import { resolve, type ParamTable } from '../core/index.js';

/** The options of {@link formatSignedShares}: a misspelt name is refused with the nearest field. */
const FORMAT_SHARES_PARAMS: ParamTable = Object.freeze({
  name: 'formatSignedShares',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'top', default: null, meaning: 'How many groups to print (null: all).', aliases: ['topK', 'limit'] },
    { name: 'digits', default: 1, meaning: 'Decimals of the percentage.', aliases: ['decimals', 'precision'] },
  ],
});

/** The label printed with signed shares, so a negative percentage is never read as an error. */
export const SIGNED_SHARES_LABEL = 'signed shares of positive influence (negative = opposed, not paid)';

/**
 * One line of signed shares, largest first: `"a +75.0%, b +25.0%, c −50.0%"`.
 *
 * @param shares group → signed share (fraction; positives sum to 1), as `contributorShares` returns
 * @param options `top`: how many groups to print (default all); `digits`: decimals of the percentage (default 1)
 * @returns the groups with an explicit sign on each percentage; `"none positive"` for null (no group had positive influence)
 * @example
 * ```ts
 * import { formatSignedShares, SIGNED_SHARES_LABEL } from 'provenant/attribution';
 * console.log(`${SIGNED_SHARES_LABEL}: ${formatSignedShares({ a: 0.75, b: 0.25, c: -0.5 })}`);
 * // signed shares of positive influence (negative = opposed, not paid): a +75.0%, b +25.0%, c −50.0%
 * ```
 */
export function formatSignedShares(shares: Readonly<Record<string, number>> | null, options: { top?: number; digits?: number } = {}): string {
  resolve(FORMAT_SHARES_PARAMS, options);
  if (!shares) return 'none positive';
  const digits = options.digits ?? 1;
  const entries = Object.entries(shares).sort((a, b) => b[1] - a[1]);
  return entries
    .slice(0, options.top ?? entries.length)
    .map(([group, v]) => {
      const percent = Math.abs(v * 100).toFixed(digits);
      // A value that rounds to zero prints unsigned; otherwise the sign is always written (U+2212 for minus).
      const sign = Number(percent) === 0 ? '' : v > 0 ? '+' : '\u2212';
      return `${group} ${sign}${percent}%`;
    })
    .join(', ');
}
