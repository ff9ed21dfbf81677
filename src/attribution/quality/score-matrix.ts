/**
 * The one layout the quality harness reads attribution scores in, so it never depends on how they were computed.
 *
 * A score matrix is `nTrain × nTest`, row-major: `values[i * nTest + t]` is τ(i, t), the score of training row i for test
 * point t. Sign convention (the whole of src/attribution keeps it): τ(i, t) > 0 means row i is a *proponent* of t —
 * removing i would raise t's loss (lower its margin).
 */
import { ProvenantError } from '../../core/index.js';

export interface ScoreMatrix {
  /** Row-major `nTrain × nTest`: `values[i * nTest + t]` = τ(i, t). */
  values: Float64Array | Float32Array;
  nTrain: number;
  nTest: number;
}

/**
 * Wraps a typed array as a score matrix, checking its length.
 *
 * @example
 * ```ts
 * import { scoreMatrix } from 'provenant/attribution';
 * const scores = scoreMatrix(new Float64Array([0.1, -0.2, 0.3, 0.4]), 2, 2); // τ(1, 0) = 0.3
 * ```
 */
export function scoreMatrix(values: Float64Array | Float32Array, nTrain: number, nTest: number): ScoreMatrix {
  const matrix = { values, nTrain, nTest };
  assertScoreMatrix(matrix);
  return matrix;
}

/**
 * Checks that `scores` is a well-formed, finite score matrix: `values` a Float64Array or Float32Array of
 * nTrain × nTest entries (row-major, τ(i, t) at `i * nTest + t`), both counts positive integers. `name` labels the
 * message.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a length that is not nTrain × nTest; `ATTRIBUTION_INPUT_INVALID`
 *   when `values` is not a float typed array or holds a non-finite score (naming τ(i, t)).
 * @example
 * ```ts
 * import { assertScoreMatrix } from 'provenant/attribution';
 *
 * assertScoreMatrix({ values: new Float64Array([0.1, -0.2, 0.3, 0.4]), nTrain: 2, nTest: 2 }); // passes
 * assertScoreMatrix({ values: new Float64Array([0.1, NaN]), nTrain: 2, nTest: 1 }, 'TRAK scores'); // throws: TRAK scores holds a non-finite score
 * ```
 */
export function assertScoreMatrix(scores: ScoreMatrix, name = 'scores'): void {
  assertScoreShape(scores, name);
  const { values, nTest } = scores;
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k]!)) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${name} holds a non-finite score.`, {
        metaMessages: [`τ(${Math.floor(k / nTest)}, ${k % nTest}) = ${values[k]}`],
        data: { row: Math.floor(k / nTest), test: k % nTest },
      });
    }
  }
}

/** The O(1) part of {@link assertScoreMatrix}: a float typed array of nTrain × nTest values, both counts positive. */
function assertScoreShape(scores: ScoreMatrix, name: string): void {
  const { values, nTrain, nTest } = scores ?? ({} as ScoreMatrix);
  if (!(values instanceof Float64Array || values instanceof Float32Array)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${name}.values must be a Float64Array or Float32Array.`);
  }
  if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || nTrain < 1 || nTest < 1 || values.length !== nTrain * nTest) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${name} must hold nTrain × nTest values (row-major).`, {
      metaMessages: [`nTrain: ${nTrain}`, `nTest: ${nTest}`, `values.length: ${values.length}`],
      data: { nTrain, nTest, length: values.length },
    });
  }
}

/**
 * The scores of every training row for test point `t`, as a Float64Array copy of length nTrain (column t of the
 * row-major matrix). Checks `t` and the matrix's length, not its finiteness ({@link assertScoreMatrix} does that once;
 * this is called per test point).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` naming `t` unless it is an integer in [0, nTest);
 *   `ATTRIBUTION_SHAPE_MISMATCH` when `values` does not hold nTrain × nTest scores (`ATTRIBUTION_INPUT_INVALID` when it
 *   is not a float typed array).
 * @example
 * ```ts
 * import { scoreColumn, scoreMatrix } from 'provenant/attribution';
 *
 * const scores = scoreMatrix(new Float64Array([0.1, -0.2, 0.3, 0.4]), 2, 2);
 * scoreColumn(scores, 1); // Float64Array [-0.2, 0.4]
 * ```
 */
export function scoreColumn(scores: ScoreMatrix, t: number): Float64Array {
  assertScoreShape(scores, 'scoreColumn: scores');
  const { nTest } = scores;
  if (!Number.isInteger(t) || t < 0 || t >= nTest) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `scoreColumn: t = ${t} is not a test index in [0, ${nTest}).`, { data: { argument: 't', value: t, nTest } });
  }
  const out = new Float64Array(scores.nTrain);
  for (let i = 0; i < scores.nTrain; i++) out[i] = scores.values[i * scores.nTest + t]!;
  return out;
}

/** Validates a list of row indices against `n` (integers in [0, n), no duplicates unless `allowDuplicates`). */
export function assertIndices(indices: ArrayLike<number>, n: number, name: string, allowDuplicates = false): void {
  const seen = allowDuplicates ? null : new Uint8Array(n);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${name}[${k}] = ${i} is not an index in [0, ${n}).`, {
        data: { position: k, index: i, n },
      });
    }
    if (seen) {
      if (seen[i]) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${name} lists index ${i} twice.`, { data: { index: i } });
      seen[i] = 1;
    }
  }
}
