/**
 * A new adapter that is a weighted combination of existing ones (PEFT's `add_weighted_adapter`):
 *
 * - `'linear'` — exact: ΔW = Σ_k w_k·s_k·A_k·B_k is written as one adapter with concatenated factors
 *   A = [w_1·s_1·A_1 | … | w_K·s_K·A_K], B = [B_1; …; B_K] and scale 1 (PEFT's `combination_type="cat"`). Its rank is
 *   Σ_k r_k. (PEFT's own "linear" mixes √w-scaled factors of equal rank, which is not ΔW; we give the exact sum.)
 * - `'svd'` — ΔW computed in float64 and re-truncated to a chosen rank by SVD (ml-matrix): A = U_R, B = S_R·V_Rᵀ, scale 1
 *   — the best rank-R approximation in Frobenius norm (Eckart–Young), PEFT's `combination_type="svd"`.
 *
 * The new adapter targets the union of the sources' modules (a source without a module contributes zero there).
 * Sources with modules_to_save cannot be combined (a weighted mix of whole heads is not a LoRA update).
 */
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { ProvenantError, assertArgument } from '../../core/index.js';
import type { Model } from '../models/model.js';
import { attachAdapterWeights, type LoraModuleWeights } from './adapter.js';
import { getAdapter, getLinear, readValues } from './registry.js';

export interface AddWeightedAdapterOptions {
  /** Source adapter names. */
  adapters: readonly string[];
  /** One weight per source (any finite number; negative subtracts an adapter). */
  weights: readonly number[];
  /** Name of the new adapter. */
  name: string;
  /** 'linear' (exact, rank Σ r_k; default) or 'svd' (rank `rank`). */
  combination?: 'linear' | 'svd';
  /** Target rank for 'svd' (default: the largest source rank). Capped per module at min(in, out). */
  rank?: number;
  /** Make the new adapter the only active one (default false, as in PEFT). */
  activate?: boolean;
}

export interface WeightedAdapterReport {
  name: string;
  /** Per module: the rank used and, for 'svd', the relative Frobenius error ‖ΔW − A·B‖ / ‖ΔW‖ of the truncation. */
  modules: Array<{ module: string; rank: number; relativeError: number }>;
}

/**
 * Adds an adapter `name` equal to Σ_k weights[k]·(adapter k's update), exactly ('linear') or truncated ('svd').
 *
 * @example
 * ```ts
 * import { addWeightedAdapter, setActiveAdapter, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * addWeightedAdapter(model, { adapters: ['spam', 'phishing'], weights: [0.5, 0.5], name: 'both', combination: 'svd', rank: 8 });
 * setActiveAdapter(model, 'both');
 * ```
 */
export function addWeightedAdapter(model: Model, options: AddWeightedAdapterOptions): WeightedAdapterReport {
  const { adapters, weights, name } = options;
  const combination = options.combination ?? 'linear';
  assertArgument(Array.isArray(adapters) && adapters.length > 0, 'adapters', 'name at least one source adapter', adapters);
  assertArgument(Array.isArray(weights) && weights.length === adapters.length, 'weights', `give one weight per adapter (${adapters.length})`, weights);
  assertArgument(weights.every((w) => Number.isFinite(w)), 'weights', 'must be finite numbers', weights);
  assertArgument(combination === 'linear' || combination === 'svd', 'combination', "must be 'linear' or 'svd'", combination);
  const records = adapters.map((a) => getAdapter(model, a));
  const withCopies = records.filter((r) => r.modulesToSave.length > 0).map((r) => r.name);
  if (withCopies.length > 0) {
    throw new ProvenantError('LORA_CONFIG_INVALID', `Adapters with modules_to_save cannot be combined: ${withCopies.join(', ')}.`, { data: { fields: ['modulesToSave'], adapters: withCopies } });
  }
  const moduleOrder = [...model.linears.keys()];
  const modules = moduleOrder.filter((m) => records.some((r) => r.modules.includes(m)));
  const maxSourceRank = Math.max(...records.flatMap((r) => r.modules.map((m) => getLinear(model, m).adapters.get(r.name)!.A.shape[1]!)));
  const targetRank = options.rank ?? maxSourceRank;
  if (combination === 'svd') assertArgument(Number.isSafeInteger(targetRank) && targetRank >= 1, 'rank', 'must be a positive integer', targetRank);

  const factors = new Map<string, LoraModuleWeights>();
  const ranks = new Map<string, number>();
  const report: WeightedAdapterReport = { name, modules: [] };
  for (const m of modules) {
    const linear = getLinear(model, m);
    const n = linear.inFeatures;
    const o = linear.outFeatures;
    const parts = records.flatMap((record, k) => {
      const lora = linear.adapters.get(record.name);
      if (!lora || !record.modules.includes(m)) return [];
      return [{ A: readValues(lora.A), B: readValues(lora.B), r: lora.A.shape[1]!, coefficient: weights[k]! * lora.scale }];
    });
    if (combination === 'linear') {
      const r = parts.reduce((sum, p) => sum + p.r, 0);
      const A = new Float32Array(n * r);
      const B = new Float32Array(r * o);
      let offset = 0;
      for (const p of parts) {
        for (let i = 0; i < n; i++) for (let c = 0; c < p.r; c++) A[i * r + offset + c] = p.coefficient * p.A[i * p.r + c]!;
        B.set(p.B, offset * o);
        offset += p.r;
      }
      factors.set(m, { A, B });
      ranks.set(m, r);
      report.modules.push({ module: m, rank: r, relativeError: 0 });
    } else {
      const delta = new Matrix(n, o);
      for (const p of parts) {
        for (let i = 0; i < n; i++) for (let j = 0; j < o; j++) {
          let sum = 0;
          for (let c = 0; c < p.r; c++) sum += p.A[i * p.r + c]! * p.B[c * o + j]!;
          delta.set(i, j, delta.get(i, j) + p.coefficient * sum);
        }
      }
      const r = Math.min(targetRank, n, o);
      const svd = new SingularValueDecomposition(delta, { autoTranspose: true });
      const U = svd.leftSingularVectors;
      const V = svd.rightSingularVectors;
      const S = svd.diagonal;
      const A = new Float32Array(n * r);
      const B = new Float32Array(r * o);
      for (let c = 0; c < r; c++) {
        for (let i = 0; i < n; i++) A[i * r + c] = U.get(i, c);
        for (let j = 0; j < o; j++) B[c * o + j] = S[c]! * V.get(j, c);
      }
      const total = S.reduce((s, v) => s + v * v, 0);
      const dropped = S.slice(r).reduce((s, v) => s + v * v, 0);
      factors.set(m, { A, B });
      ranks.set(m, r);
      report.modules.push({ module: m, rank: r, relativeError: total > 0 ? Math.sqrt(dropped / total) : 0 });
    }
  }
  // Scale 1 everywhere: alpha = r per module; modules whose rank differs from the most common one go in the patterns.
  const counts = new Map<number, number>();
  for (const r of ranks.values()) counts.set(r, (counts.get(r) ?? 0) + 1);
  const r = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const [m, rm] of ranks) {
    if (rm !== r) {
      // Pattern keys are regexes for a path's tail (PEFT): escape the path so it names exactly this module.
      const key = m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      rankPattern[key] = rm;
      alphaPattern[key] = rm;
    }
  }
  const base = records[0]!.config;
  attachAdapterWeights(
    model,
    name,
    { ...base, r, alpha: r, useRslora: false, targetModules: modules, rankPattern, alphaPattern, modulesToSave: [], initLoraWeights: true },
    factors,
    { activate: options.activate ?? false },
  );
  return report;
}
