/**
 * Grad-Cos: τ(i, t) = g_tᵀ g_i / (‖g_t‖ ‖g_i‖) (Charpiat et al. 2019, "Input similarity from the neural network
 * perspective", eq. 3's normalised kernel). Removes Grad-Dot's bias towards high-loss (large-gradient) rows; the sign
 * convention is kept, the scale is not comparable with influence values.
 */
import { resolve, type ParamTable } from '../../core/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { mapRows, type Preconditioner } from './preconditioner.js';

/** The options of {@link gradCos}: a misspelt name is refused with the nearest field. */
export const GRAD_COS_PARAMS: ParamTable = Object.freeze({
  name: 'gradCos',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'epsilon', default: 1e-12, meaning: 'Added to each norm so a zero gradient maps to zero instead of NaN.', aliases: ['eps'] }],
});

export interface GradCosOptions {
  /** Added to each norm so a zero gradient maps to zero instead of NaN; default 1e-12. */
  epsilon?: number;
}

/**
 * @example
 * ```ts
 * import { denseScores, gradCos, type FeatureMatrix } from 'provenant/attribution';
 * declare const train: FeatureMatrix;
 * declare const test: FeatureMatrix;
 * const scores = denseScores(train, test, gradCos()); // each score in [-1, 1]
 * ```
 */
export function gradCos(options: GradCosOptions = {}): Preconditioner {
  resolve(GRAD_COS_PARAMS, options);
  const eps = options.epsilon ?? 1e-12;
  const normalize = (f: FeatureMatrix) =>
    mapRows(f, (row, out) => {
      let s = 0;
      for (let c = 0; c < row.length; c++) s += row[c]! * row[c]!;
      const inv = 1 / (Math.sqrt(s) + eps);
      for (let c = 0; c < row.length; c++) out[c] = row[c]! * inv;
    });
  return { method: 'grad-cos', params: { epsilon: eps }, query: normalize, train: normalize };
}
