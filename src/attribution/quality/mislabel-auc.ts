/**
 * Mislabel detection: rank training rows by a data-quality score (self-influence, TracIn self-influence (Pruthi et al.
 * 2020, §4.1), own training loss) and measure how well the ranking puts the flipped rows first, as the area under the
 * ROC curve. A trivial baseline belongs beside every such AUC (DESIGN.md): ranking by own training loss is often ≈ 0.98
 * on logistic regression, so a method's AUC means something only next to it.
 */
import { ProvenantError, createRng, resolve, type ParamTable, type Seed } from '../../core/index.js';
import { averageRanks } from './correlation.js';

/**
 * AUROC = P(score of a random positive > score of a random negative) + ½·P(tie), by the Mann–Whitney U statistic
 * with average ranks (ties count one half, as sklearn's roc_auc_score).
 *
 * @example
 * ```ts
 * import { auroc } from 'provenant';
 * auroc([0.9, 0.1, 0.8, 0.3], [1, 0, 0, 1]); // 0.75
 * ```
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  if (scores.length !== positive.length) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `auroc needs one label per score, got ${scores.length} scores and ${positive.length} labels.`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `auroc: score ${i} is ${scores[i]}.`);
  }
  const ranks = averageRanks(scores);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) {
      nPos++;
      rankSum += ranks[i]!;
    }
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'auroc needs at least one flagged and one clean row.', { data: { nPos, nNeg } });
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The options of {@link mislabelAuc}: a misspelt name is refused with the nearest field. */
export const MISLABEL_AUC_PARAMS: ParamTable = Object.freeze({
  name: 'mislabelAuc',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'baseline', default: null, meaning: 'A trivial baseline score per row (e.g. own training loss), higher = more suspect; its AUC is reported beside.' }],
});

export interface MislabelAucOptions {
  /** The trivial baseline score per row (e.g. own training loss), higher = more suspect; its AUC is reported beside. */
  baseline?: ArrayLike<number>;
}

export interface MislabelAucResult {
  auc: number;
  baselineAuc?: number;
  flagged: number;
  clean: number;
}

/**
 * AUROC of `scores` (one per training row, higher = more suspect) for detecting the `flagged` rows.
 *
 * @param flagged a boolean per row, or the list of flagged row indices.
 * @example
 * ```ts
 * import { flipLabels, mislabelAuc } from 'provenant/attribution';
 * declare const y: ArrayLike<number>;
 * declare const ownLoss: ArrayLike<number>;
 * declare const selfScores: Float64Array; // self-influence per row of the model trained on `labels`
 * const { labels, flipped } = flipLabels(y, { fraction: 0.1, numClasses: 10, seed: 0 });
 * mislabelAuc(selfScores, flipped, { baseline: ownLoss }); // { auc, baselineAuc, … }
 * ```
 */
export function mislabelAuc(
  scores: ArrayLike<number>,
  flagged: ArrayLike<boolean> | Uint32Array | number[],
  options: MislabelAucOptions = {},
): MislabelAucResult {
  resolve(MISLABEL_AUC_PARAMS, options);
  const n = scores.length;
  let mask: Uint8Array;
  if (flagged.length === n && typeof flagged[0] === 'boolean') {
    mask = Uint8Array.from(flagged as ArrayLike<boolean>, (b) => (b ? 1 : 0));
  } else {
    mask = new Uint8Array(n);
    for (let k = 0; k < flagged.length; k++) {
      const i = flagged[k] as number;
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `flagged[${k}] = ${i} is not a row index in [0, ${n}).`);
      mask[i] = 1;
    }
  }
  const auc = auroc(scores, mask);
  let baselineAuc: number | undefined;
  if (options.baseline) {
    if (options.baseline.length !== n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `baseline needs ${n} values, got ${options.baseline.length}.`);
    baselineAuc = auroc(options.baseline, mask);
  }
  const flaggedCount = mask.reduce((a, b) => a + b, 0);
  return { auc, baselineAuc, flagged: flaggedCount, clean: n - flaggedCount };
}

/** The options of {@link flipLabels}: a misspelt name is refused with the nearest field. */
export const FLIP_LABELS_PARAMS: ParamTable = Object.freeze({
  name: 'flipLabels',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'fraction', default: 0.1, meaning: 'Fraction of rows whose label is flipped.' },
    { name: 'seed', default: 0, meaning: 'Seed of the rows and classes drawn.' },
  ],
  inputs: ['numClasses'],
});

export interface FlipLabelsOptions {
  /** Fraction of rows to flip. Default 0.1. */
  fraction?: number;
  numClasses: number;
  seed?: Seed;
}

/**
 * Flips ⌊fraction·n⌋ randomly chosen labels (default 10 %), each to a uniformly drawn *different* class (the field's
 * noisy-label set-up for mislabel detection). Returns the new labels and the flipped row indices (ascending); the input
 * is not modified.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for numClasses < 2, a fraction outside [0, 1], or a flipped row
 *   whose label is not in [0, numClasses).
 * @example
 * ```ts
 * import { flipLabels } from 'provenant/attribution';
 *
 * const { labels, flipped } = flipLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { fraction: 0.2, numClasses: 10, seed: 0 });
 * // flipped: Uint32Array(2), ascending; labels[flipped[0]] differs from the original label
 * ```
 */
export function flipLabels(labels: ArrayLike<number>, options: FlipLabelsOptions): { labels: Int32Array; flipped: Uint32Array } {
  resolve(FLIP_LABELS_PARAMS, options);
  const { numClasses } = options;
  const fraction = options.fraction ?? 0.1;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `flipLabels needs numClasses ≥ 2, got ${numClasses}.`);
  if (!(fraction >= 0 && fraction <= 1)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `flipLabels fraction must be in [0, 1], got ${fraction}.`);
  const rng = createRng(options.seed ?? 0);
  const n = labels.length;
  const out = Int32Array.from(labels);
  const count = Math.floor(fraction * n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const flipped = Uint32Array.from(order.slice(0, count)).sort();
  for (const i of flipped) {
    const y = out[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `label ${i} = ${y} is not in [0, ${numClasses}).`);
    const shift = 1 + rng.nextInt(numClasses - 1);
    out[i] = (y + shift) % numClasses;
  }
  return { labels: out, flipped };
}
