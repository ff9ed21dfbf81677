/**
 * Score: τ(i, t) = ⟨query(g_t), train(g_i)⟩ for a preconditioner (./precondition), computed in tiles on the tfjs backend.
 *
 * The training side is transformed once and kept on the backend as transposed tiles [d, tile]; each query batch is
 * uploaded once as Q [m, d], so every product is a plain, non-transposed 2-D matmul Q·tileᵀ → [m, tile] (the fast XNNPACK
 * path on wasm). With the tile as the matmul's right operand, XNNPACK packs it once and keeps it (it is the "weights" of a
 * fully-connected op), and one query is a GEMV over packed weights: measured here 0.29 ms per 8,192 × 256 tile against
 * 2.9 ms for tile·qᵀ (1.2–1.6× faster for 8–64 queries). Top-k and per-group sums consume one tile at a time and never hold
 * the n × m matrix; `dense` assembles it for the quality harness (layout: ./conventions.ts).
 */
import { ProvenantError, resolve, type ParamTable } from '../core/index.js';
import { tf } from '../finetune/index.js';
import { assertFiniteFeatures, validateFeatureMatrix, type FeatureMatrix } from './feature-matrix.js';
import { gradDot } from './precondition/identity.js';
import type { Preconditioner } from './precondition/preconditioner.js';
import type { ScoreMatrix } from './quality/index.js';
import { TopK, type ScoredRow } from './top-k.js';

export interface ScoreIndexOptions {
  /** Default Grad-Dot. */
  preconditioner?: Preconditioner;
  /** Training rows per tile; default 8,192. */
  tileRows?: number;
}

/** The options of {@link createScoreIndex}: a misspelt name is refused with the nearest field, never ignored. */
export const SCORE_INDEX_PARAMS: ParamTable = Object.freeze({
  name: 'createScoreIndex',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'preconditioner', default: null, meaning: 'Fitted preconditioner; null: Grad-Dot.' },
    { name: 'tileRows', default: 8192, meaning: 'Training rows per tile.', aliases: ['tile_rows'] },
  ],
});

/** The last argument of {@link denseScores} and {@link selfInfluence}. */
const TILE_PARAMS: ParamTable = Object.freeze({
  name: 'scores',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'tileRows', default: null, meaning: 'Training rows per tile (null: 8,192 for denseScores, 1,024 for selfInfluence).', aliases: ['tile_rows'] }],
});

/** Top-k result for one query. */
export interface QueryTopK {
  /** The k highest positive scores, best first (rows whose removal would most raise the query's loss). */
  proponents: ScoredRow[];
  /** The k lowest negative scores, most negative first. */
  opponents: ScoredRow[];
}

/** Per-query sums of τ over groups (contributors, versions): `sums[t * groups + g]`. */
export interface GroupScores {
  sums: Float64Array;
  /** Number of rows in each group. */
  counts: Int32Array;
  /** Σ max(τ, 0) per query and group, same layout as `sums`. */
  positiveSums: Float64Array;
  groups: number;
  queries: number;
}

/** Cached, preconditioned training features on the backend, ready for any number of queries. */
export interface ScoreIndex {
  readonly rows: number;
  readonly dim: number;
  readonly preconditioner: Preconditioner;
  /** The dense n_train × n_test score matrix (row-major). */
  dense(queries: FeatureMatrix): ScoreMatrix & { values: Float32Array };
  /** Streaming top-k proponents/opponents per query. */
  topK(queries: FeatureMatrix, k: number): QueryTopK[];
  /** Per-query sums over `groupOf[i]` ∈ [0, groups) (e.g. contributor index of row i). */
  groupScores(queries: FeatureMatrix, groupOf: ArrayLike<number>, groups: number): GroupScores;
  /** Top-k and group sums in one pass over the tiles (what `attributeQuery` needs). */
  query(queries: FeatureMatrix, k: number, groupOf?: ArrayLike<number>, groups?: number): { topK: QueryTopK[]; groups?: GroupScores };
  /**
   * Visits each tile's raw scores, query-major: `scores[t * rows + j]` = τ(start + j, t) for the tile's training rows
   * [start, start + rows) and the m queries.
   */
  forEachTile(queries: FeatureMatrix, visit: (start: number, rows: number, scores: Float32Array, m: number) => void): void;
  dispose(): void;
}

/**
 * Builds a {@link ScoreIndex}: applies `preconditioner.train` to the training features and uploads them in tiles.
 *
 * @example
 * ```ts
 * import { createScoreIndex, fitDataInf, type FeatureMatrix } from 'provenant/attribution';
 * declare const trainFeatures: FeatureMatrix;
 * declare const queryFeatures: FeatureMatrix;
 * const index = createScoreIndex(trainFeatures, { preconditioner: fitDataInf(trainFeatures) });
 * const [{ proponents, opponents }] = index.topK(queryFeatures, 10);
 * index.dispose();
 * ```
 */
export function createScoreIndex(train: FeatureMatrix, options: ScoreIndexOptions = {}): ScoreIndex {
  resolve(SCORE_INDEX_PARAMS, options);
  validateFeatureMatrix(train, 'training features');
  assertFiniteFeatures(train, 'training features');
  const preconditioner = options.preconditioner ?? gradDot();
  const tileRows = options.tileRows ?? 8192;
  if (!Number.isInteger(tileRows) || tileRows < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `tileRows must be a positive integer, got ${tileRows}.`);
  const transformed = preconditioner.train(train);
  assertFiniteFeatures(transformed, `training features after the ${preconditioner.method} preconditioner`);
  const { rows, dim } = transformed;
  let disposed = false;
  const tiles: { start: number; rows: number; tensor: tf.Tensor2D }[] = [];
  for (let start = 0; start < rows; start += tileRows) {
    const r = Math.min(tileRows, rows - start);
    const tensor = tf.tidy(() => tf.keep(tf.transpose(tf.tensor2d(transformed.data.subarray(start * dim, (start + r) * dim), [r, dim])) as tf.Tensor2D));
    tiles.push({ start, rows: r, tensor });
  }

  const forEachTile: ScoreIndex['forEachTile'] = (queries, visit) => {
    if (disposed) {
      throw new ProvenantError('ATTRIBUTION_INDEX_DISPOSED', 'This score index was disposed; its training tiles are gone.', {
        details: 'Build a new index (createScoreIndex / createAttributionIndex) to score more queries.',
      });
    }
    validateFeatureMatrix(queries, 'query features');
    assertFiniteFeatures(queries, 'query features');
    if (queries.dim !== train.dim) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${queries.dim} columns, the index ${train.dim}.`, {
        details: 'Featurize queries with the same parameters, target and projection as the training rows.',
      });
    }
    const q = preconditioner.query(queries);
    assertFiniteFeatures(q, `query features after the ${preconditioner.method} preconditioner`);
    const m = q.rows;
    if (m === 0) return;
    const qt = tf.tensor2d(q.data, [m, q.dim]);
    try {
      for (const tile of tiles) {
        const s = tf.matMul(qt, tile.tensor);
        const values = s.dataSync() as Float32Array;
        s.dispose();
        for (let k = 0; k < values.length; k++) {
          // Finite features can still overflow float32 in a product.
          if (values[k]! - values[k]! !== 0) {
            const row = tile.start + (k % tile.rows);
            throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Score of training row ${row} for query ${Math.floor(k / tile.rows)} is ${values[k]} (float32 overflow).`, {
              data: { row, query: Math.floor(k / tile.rows) },
              details: 'Features this large overflow float32; rescale them (e.g. a smaller projection scale).',
            });
          }
        }
        visit(tile.start, tile.rows, values, m);
      }
    } finally {
      qt.dispose();
    }
  };

  const index: ScoreIndex = {
    rows,
    dim,
    preconditioner,
    forEachTile,
    dense(queries) {
      const m = queries.rows;
      const values = new Float32Array(rows * m);
      forEachTile(queries, (start, r, scores) => {
        for (let t = 0; t < m; t++) for (let j = 0; j < r; j++) values[(start + j) * m + t] = scores[t * r + j]!;
      });
      return { values, nTrain: rows, nTest: m };
    },
    topK(queries, k) {
      return index.query(queries, k).topK;
    },
    groupScores(queries, groupOf, groups) {
      return index.query(queries, 0, groupOf, groups).groups!;
    },
    query(queries, k, groupOf, groups) {
      if (!Number.isInteger(k) || k < 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `k must be a non-negative integer, got ${k}.`);
      const m = queries.rows;
      const pro = Array.from({ length: m }, () => new TopK(k, 1));
      const opp = Array.from({ length: m }, () => new TopK(k, -1));
      let g: GroupScores | undefined;
      if (groupOf) {
        if (groupOf.length !== rows || !Number.isInteger(groups) || groups! < 1) {
          throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `groupOf has ${groupOf.length} entries for ${rows} rows (groups: ${groups}).`);
        }
        const counts = new Int32Array(groups!);
        for (let i = 0; i < rows; i++) {
          const gi = groupOf[i]!;
          if (!Number.isInteger(gi) || gi < 0 || gi >= groups!) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `groupOf[${i}] = ${gi} is not in [0, ${groups}).`);
          counts[gi]!++;
        }
        g = { sums: new Float64Array(m * groups!), positiveSums: new Float64Array(m * groups!), counts, groups: groups!, queries: m };
      }
      forEachTile(queries, (start, r, scores) => {
        for (let t = 0; t < m; t++) {
          const p = pro[t]!;
          const o = opp[t]!;
          for (let j = 0; j < r; j++) {
            const s = scores[t * r + j]!;
            if (k > 0) {
              if (s > 0) p.push(start + j, s);
              else if (s < 0) o.push(start + j, s);
            }
            if (g) {
              const at = t * g.groups + groupOf![start + j]!;
              g.sums[at]! += s;
              if (s > 0) g.positiveSums[at]! += s;
            }
          }
        }
      });
      return { topK: pro.map((p, t) => ({ proponents: p.result(), opponents: opp[t]!.result() })), groups: g };
    },
    dispose() {
      for (const t of tiles) t.tensor.dispose();
      tiles.length = 0;
      disposed = true;
    },
  };
  return index;
}

/**
 * The dense n_train × n_test score matrix τ(i, t) = ⟨query(g_t), train(g_i)⟩ (row-major), computed in tiles. The input
 * the quality harness (`linearDatamodelingScore`, `looCorrelation`, `mislabelAuc`) takes.
 *
 * @example
 * ```ts
 * import { denseScores, fitDataInf, linearDatamodelingScore, type FeatureMatrix, type LdsGroundTruth } from 'provenant/attribution';
 * declare const train: FeatureMatrix;
 * declare const test: FeatureMatrix;
 * declare const truth: LdsGroundTruth;
 * const scores = denseScores(train, test, fitDataInf(train)); // values: Float32Array, test.rows × train.rows
 * linearDatamodelingScore(scores, truth);
 * ```
 */
export function denseScores(train: FeatureMatrix, test: FeatureMatrix, preconditioner: Preconditioner = gradDot(), options: { tileRows?: number } = {}): ScoreMatrix & { values: Float32Array } {
  resolve(TILE_PARAMS, options);
  const index = createScoreIndex(train, { preconditioner, tileRows: options.tileRows });
  try {
    return index.dense(test);
  } finally {
    index.dispose();
    // A preconditioner keeps backend tensors it builds on its first query (DataInf: the training gradients); this call
    // made them, so it frees them. Dispose is idempotent and the preconditioner rebuilds them if used again.
    preconditioner.dispose?.();
  }
}

/**
 * Self-influence τ(i, i) = ⟨query(g_i), train(g_i)⟩ of every training row, for data-quality screening: rows the model
 * can only fit by memorising (mislabelled, duplicated-with-conflict, outliers) have large self-influence (Koh & Liang
 * 2017 §5.4; Pruthi et al. 2020 §4.1 rank mislabelled rows by TracIn self-influence). Computed in row tiles.
 *
 * @example
 * ```ts
 * import { argsortDescending, selfInfluence, tracInCP, type FeatureMatrix } from 'provenant/attribution';
 * declare const train: FeatureMatrix;
 * const suspicious = argsortDescending(selfInfluence(train, tracInCP())).slice(0, 50); // 50 row indices
 * ```
 */
export function selfInfluence(train: FeatureMatrix, preconditioner: Preconditioner = gradDot(), options: { tileRows?: number } = {}): Float64Array {
  resolve(TILE_PARAMS, options);
  validateFeatureMatrix(train, 'training features');
  assertFiniteFeatures(train, 'training features');
  const tile = options.tileRows ?? 1024;
  const out = new Float64Array(train.rows);
  try {
    // The training transform is row-wise (identity, normalisation, TRAK's Q̄) and may need global row indices: apply it once.
    const trained = preconditioner.train(train);
    assertFiniteFeatures(trained, `training features after the ${preconditioner.method} preconditioner`);
    for (let start = 0; start < train.rows; start += tile) {
      const end = Math.min(train.rows, start + tile);
      const q = preconditioner.query({ ...train, rows: end - start, data: train.data.subarray(start * train.dim, end * train.dim) });
      for (let i = 0; i < end - start; i++) {
        let s = 0;
        for (let c = 0; c < train.dim; c++) s += q.data[i * train.dim + c]! * trained.data[(start + i) * train.dim + c]!;
        if (!Number.isFinite(s)) {
          throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Self-influence of row ${start + i} is ${s} (the ${preconditioner.method} preconditioner returned non-finite values).`, {
            data: { row: start + i },
          });
        }
        out[start + i] = s;
      }
    }
  } finally {
    // As in denseScores: free what the preconditioner built for this call (it rebuilds on demand).
    preconditioner.dispose?.();
  }
  return out;
}

/**
 * Row indices sorted by descending value (ties by lower index, so the order is deterministic), e.g. to rank rows by
 * self-influence for mislabel screening.
 *
 * @example
 * ```ts
 * import { argsortDescending } from 'provenant/attribution';
 *
 * argsortDescending([0.2, 0.9, 0.2, -1]); // [1, 0, 2, 3]
 * ```
 */
export function argsortDescending(values: ArrayLike<number>): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
}
