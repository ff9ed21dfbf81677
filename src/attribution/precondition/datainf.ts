/**
 * DataInf (Kwon et al. 2024, "DataInf: Efficiently estimating data influence in LoRA-tuned LLMs and diffusion models",
 * §3): per layer l, the damped empirical Fisher's inverse (G_l + λ_l I)⁻¹, G_l = (1/n) Σ_i g_il g_ilᵀ, is approximated by
 * swapping the inverse and the average, then Sherman–Morrison gives each term in closed form:
 *   (G_l + λ_l I)⁻¹ ≈ (1/n) Σ_i (g_il g_ilᵀ + λ_l I)⁻¹ = (1/(n λ_l)) Σ_i ( I − g_il g_ilᵀ / (λ_l + g_ilᵀ g_il) ).
 * The query side becomes q̃_l = (1/λ_l)(q_l − (1/n) Σ_i [g_ilᵀ q_l / (λ_l + ‖g_il‖²)] g_il), and τ = Σ_l q̃_lᵀ g_il.
 * Default damping, as in the paper's code: λ_l = 0.1 · (n d_l)⁻¹ Σ_i ‖g_il‖² (0.1 × the mean squared gradient entry).
 * Layers are the feature blocks' `module`s (LoRA A and B of one module form one layer).
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { tf } from '../../finetune/index.js';
import { columnSlice } from './dense-linear-algebra.js';
import { identityTransform, type Preconditioner } from './preconditioner.js';

/** Defaults of DataInf, each with its reason: the one table {@link fitDataInf} and the convex closed form read. */
export const DATAINF_DEFAULTS = Object.freeze({
  /** λ_l = 0.1 × the mean squared gradient entry of the layer, as in the paper's code (Kwon et al. 2024). */
  lambdaScale: 0.1,
  /** Queries per tile: bounds the m × n intermediate. */
  queryTile: 256,
});

/** The options of {@link fitDataInf}: a misspelt name is refused with the nearest field, never ignored. */
export const DATAINF_PARAMS: ParamTable = Object.freeze({
  name: 'fitDataInf',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'lambda', default: null, meaning: 'λ_l per module name (absolute), overriding the default (null: lambdaScale × mean squared gradient).', aliases: ['damping'] },
    { name: 'lambdaScale', default: DATAINF_DEFAULTS.lambdaScale, meaning: 'Multiplier of the mean squared gradient for the default λ_l.', aliases: ['lambda_scale'] },
    { name: 'queryTile', default: DATAINF_DEFAULTS.queryTile, meaning: 'Queries per tile (bounds the m × n intermediate).' },
  ],
});

export interface DataInfOptions {
  /** λ_l per module name (absolute), overriding the default. */
  lambda?: Record<string, number>;
  /** Multiplier of the mean squared gradient for the default λ_l; default {@link DATAINF_DEFAULTS}.lambdaScale. */
  lambdaScale?: number;
  /** Queries per tile (bounds the m × n intermediate); default {@link DATAINF_DEFAULTS}.queryTile. */
  queryTile?: number;
}

interface Layer {
  module: string;
  ranges: [number, number][];
  size: number;
  lambda: number;
  /** n × size float32, the training gradients of this layer. */
  train: Float32Array;
  /** 1 / (n (λ + ‖g_i‖²)) per row. */
  weight: Float32Array;
  /** Kept on the backend after the first query: G_l [n, size], G_lᵀ [size, n], weights [1, n]. */
  tensors?: { G: tf.Tensor2D; GT: tf.Tensor2D; w: tf.Tensor2D };
}

/**
 * Fits DataInf on the training features.
 *
 * @example
 * ```ts
 * import { denseScores, fitDataInf, type FeatureMatrix } from 'provenant/attribution';
 * declare const trainFeatures: FeatureMatrix;
 * declare const testFeatures: FeatureMatrix;
 * const pre = fitDataInf(trainFeatures);           // λ_l = 0.1·mean(g²) per module
 * const scores = denseScores(trainFeatures, testFeatures, pre);
 * ```
 */
export function fitDataInf(train: FeatureMatrix, options: DataInfOptions = {}): Preconditioner {
  resolve(DATAINF_PARAMS, options);
  const n = train.rows;
  if (n < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'DataInf needs at least one training row.');
  const scale = options.lambdaScale ?? DATAINF_DEFAULTS.lambdaScale;
  if (!(scale > 0)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `lambdaScale must be positive, got ${scale}.`);
  const tile = options.queryTile ?? DATAINF_DEFAULTS.queryTile;
  const byModule = new Map<string, [number, number][]>();
  for (const b of train.blocks) {
    const list = byModule.get(b.module) ?? [];
    list.push([b.offset, b.size]);
    byModule.set(b.module, list);
  }
  const layers: Layer[] = [];
  for (const [module, ranges] of byModule) {
    const size = ranges.reduce((a, r) => a + r[1], 0);
    const g = gatherColumns(train, ranges, size);
    const norms = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < size; c++) s += g[i * size + c]! * g[i * size + c]!;
      norms[i] = s;
      total += s;
    }
    const lambda = options.lambda?.[module] ?? (scale * total) / (n * size);
    if (!(lambda > 0) || !Number.isFinite(lambda)) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `DataInf λ for "${module}" is ${lambda}; the gradients may be all zero. Pass options.lambda.`);
    }
    const weight = new Float32Array(n);
    for (let i = 0; i < n; i++) weight[i] = 1 / (n * (lambda + norms[i]!));
    layers.push({ module, ranges, size, lambda, train: g, weight });
  }

  const query = (q: FeatureMatrix): FeatureMatrix => {
    if (q.dim !== train.dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, training features ${train.dim}.`);
    const out = new Float32Array(q.rows * q.dim);
    for (let start = 0; start < q.rows; start += tile) {
      const m = Math.min(tile, q.rows - start);
      for (const layer of layers) {
        const ql = gatherColumns(q, layer.ranges, layer.size, start, m);
        // Both products are plain 2-D matmuls on the backend against the kept training gradients (the fast path):
        // C = (Q_l G_lᵀ) ⊙ w, correction = C G_l.
        layer.tensors ??= tf.tidy(() => {
          const G = tf.keep(tf.tensor2d(layer.train, [n, layer.size]));
          return { G, GT: tf.keep(tf.transpose(G) as tf.Tensor2D), w: tf.keep(tf.tensor2d(layer.weight, [1, n])) };
        });
        const { G, GT, w } = layer.tensors;
        const t = tf.tidy(() => tf.matMul(tf.mul(tf.matMul(tf.tensor2d(ql, [m, layer.size]), GT), w) as tf.Tensor2D, G));
        const correction = t.dataSync() as Float32Array;
        t.dispose();
        let col = 0;
        for (const [offset, size] of layer.ranges) {
          for (let r = 0; r < m; r++) {
            for (let k = 0; k < size; k++) {
              const j = r * layer.size + col + k;
              out[(start + r) * q.dim + offset + k] = (ql[j]! - correction[j]!) / layer.lambda;
            }
          }
          col += size;
        }
      }
    }
    return { rows: q.rows, dim: q.dim, data: out, blocks: q.blocks.map((b) => ({ ...b })) };
  };
  return {
    method: 'datainf',
    params: { lambda: Object.fromEntries(layers.map((l) => [l.module, l.lambda])), lambdaScale: scale },
    query,
    train: identityTransform,
    dispose() {
      for (const layer of layers) {
        if (layer.tensors) tf.dispose([layer.tensors.G, layer.tensors.GT, layer.tensors.w]);
        layer.tensors = undefined;
      }
    },
  };
}

function gatherColumns(f: FeatureMatrix, ranges: [number, number][], size: number, rowStart = 0, rows = f.rows): Float32Array {
  if (ranges.length === 1) return columnSlice({ ...f, rows, data: f.data.subarray(rowStart * f.dim, (rowStart + rows) * f.dim) }, ranges[0]![0], size);
  const out = new Float32Array(rows * size);
  for (let r = 0; r < rows; r++) {
    let col = 0;
    for (const [offset, s] of ranges) {
      out.set(f.data.subarray((rowStart + r) * f.dim + offset, (rowStart + r) * f.dim + offset + s), r * size + col);
      col += s;
    }
  }
  return out;
}
