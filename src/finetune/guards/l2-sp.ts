/**
 * L2-SP on the adapter update (Li, Grandvalet & Davoine 2018, "Explicit Inductive Bias for Transfer Learning with
 * Convolutional Networks", eq. 3: Ω(w) = α/2·‖w − w⁰‖²). With LoRA the fine-tuned kernel is W⁰ + s·A·B, so w − w⁰ is the
 * update itself and the penalty is α/2·Σ_modules ‖s·A·B‖²_F — no copy of the base weights is needed.
 *
 * Why the r×r form: ‖s·A·B‖²_F = s²·tr(Bᵀ·Aᵀ·A·B) = s²·tr((AᵀA)(BBᵀ)) by the cyclic property of the trace, and both
 * AᵀA and BBᵀ are r×r and symmetric, so the trace is the sum of their elementwise product. That costs O(r²·(in + out))
 * instead of the O(r·in·out) of forming the in×out update.
 */
import { tf } from '../tf.js';
import type { Model } from '../models/model.js';
import { resolve } from '../../core/index.js';
import { adapterFactors, makeGuard, type AdapterFactors, type Guard } from './guard.js';
import { L2SP_PARAMS } from './guard-params.js';

export interface L2SpOptions {
  /** α of α/2·Σ‖s·A·B‖²_F. Default 1e-2 (see `GUARD_DEFAULTS`). */
  strength?: number;
  /** Adapters penalised; default every active, unmerged adapter. */
  adapters?: readonly string[] | null;
}

/**
 * Σ_modules ‖s·A·B‖²_F as a scalar tensor (differentiable; call inside a tidy or a gradient function).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { adapterFactors, adapterUpdateSquaredNorm, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * const penalty = tf.tidy(() => adapterUpdateSquaredNorm(adapterFactors(model)).dataSync()[0]);
 * ```
 */
export function adapterUpdateSquaredNorm(factors: readonly AdapterFactors[]): tf.Scalar {
  let total = tf.scalar(0);
  for (const { A, B, scale } of factors) {
    // Explicit transposes keep both products on the fast 2-D wasm path (see linear.ts).
    const ata = tf.matMul(tf.transpose(A) as tf.Tensor2D, A as tf.Tensor2D);
    const bbt = tf.matMul(B as tf.Tensor2D, tf.transpose(B) as tf.Tensor2D);
    total = total.add(ata.mul(bbt).sum().mul(scale * scale));
  }
  return total as tf.Scalar;
}

/**
 * The L2-SP penalty α/2·Σ‖s·A·B‖²_F of a model's current adapters, as a number (for logs and the audit record).
 *
 * @example
 * ```ts
 * import { l2SpPenalty, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * l2SpPenalty(model, { strength: 0.01 }); // 0 right after attachAdapter (B starts at 0)
 * ```
 */
export function l2SpPenalty(model: Model, options: L2SpOptions = {}): number {
  const { strength, adapters } = resolve<Required<L2SpOptions>>(L2SP_PARAMS, options);
  const factors = adapterFactors(model, adapters);
  return tf.tidy(() => adapterUpdateSquaredNorm(factors).mul(strength / 2).dataSync()[0]!);
}

/**
 * L2-SP guard: adds α/2·Σ_modules ‖s·A·B‖²_F over the active adapters (looked up on each call, so attach the adapter
 * before or after creating the guard).
 *
 * @example
 * ```ts
 * import { attachAdapter, createL2SpGuard, train, type Model, type TrainingExample, type DataSource } from 'provenant/finetune';
 * declare const model: Model;
 * declare const rows: readonly TrainingExample[] | readonly DataSource[];
 * attachAdapter(model, 'default', { r: 8, alpha: 16 }, { seed: 1 });
 * const guard = createL2SpGuard({ strength: 0.05 });
 * await train(model, { task: 'classification', train: rows, seed: 1, extraLoss: guard });
 * ```
 */
export function createL2SpGuard(options: L2SpOptions = {}): Guard {
  const used = resolve<Required<L2SpOptions>>(L2SP_PARAMS, options);
  const { strength, adapters } = used;
  return makeGuard('l2-sp', { ...used }, ({ model }) => {
    if (strength === 0) return null;
    const factors = adapterFactors(model, adapters);
    if (factors.length === 0) return null;
    return adapterUpdateSquaredNorm(factors).mul(strength / 2) as tf.Scalar;
  }, undefined, { table: L2SP_PARAMS, used });
}
