/**
 * AdamW and gradient clipping, written out (not tf.train.adam) because the training loop needs: decoupled weight decay,
 * a learning-rate multiplier and decay per parameter group (LoRA+ gives B a higher lr), and moment estimates that can be
 * read and restored byte-exactly for checkpoint and resume.
 *
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2), in PyTorch's form:
 *   θ ← θ − η·λ·θ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * with η the group's learning rate (schedule × multiplier) and λ its weight decay.
 */
import { ProvenantError, checks, resolve, type ParamTable } from '../../core/index.js';
import { tf, type Tensor, type Variable } from '../tf.js';

export interface AdamWOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay λ for groups that do not set their own. Default 0.01 (PyTorch's AdamW default). */
  weightDecay?: number;
}

/** AdamW's fields: defaults, meanings and checks (see `core/params.ts`); `createAdamW` reads its defaults here only. */
export const ADAMW_PARAMS: ParamTable = Object.freeze({
  name: 'optimizer',
  code: 'TRAINING_CONFIG_INVALID',
  docsPath: '#training-parameters',
  fields: [
    { name: 'beta1', default: 0.9, meaning: 'Decay of the first-moment (mean gradient) estimate; Adam paper default (Kingma & Ba 2015, Algorithm 1).', check: checks.number(0, 1, { max: true }), aliases: ['adam_beta1'] },
    { name: 'beta2', default: 0.999, meaning: 'Decay of the second-moment (squared gradient) estimate; Adam paper default.', check: checks.number(0, 1, { max: true }), aliases: ['adam_beta2'] },
    { name: 'epsilon', default: 1e-8, meaning: 'Added to √v in the update denominator so it never divides by zero; Adam paper default.', check: checks.number(0, 1, { min: true }), aliases: ['adam_epsilon', 'eps'] },
    { name: 'weightDecay', default: 0.01, meaning: 'Decoupled weight decay λ (Loshchilov & Hutter 2019); PyTorch AdamW default; not applied to biases and LayerNorm (rank-1) tensors.', check: checks.number(0, 1), aliases: ['weight_decay'] },
  ],
});

/** One optimised tensor. `name` is stable across runs (checkpoints are keyed by it). */
export interface ParameterGroup {
  name: string;
  variable: Variable;
  /** Multiplies the scheduled learning rate (LoRA+: the B matrices get `loraPlusLrRatio`). Default 1. */
  lrMultiplier?: number;
  /** Overrides the optimizer's weight decay for this tensor. */
  weightDecay?: number;
}

export interface AdamW {
  readonly options: Required<AdamWOptions>;
  /** Optimizer steps taken (t in the bias corrections). */
  readonly step: number;
  /** Applies one update with gradients by parameter name (missing names are not updated). Does not dispose `grads`. */
  apply(grads: ReadonlyMap<string, Tensor>, learningRate: number): void;
  /** Moment estimates by parameter name, as plain arrays (for checkpoints). */
  getState(): { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> };
  setState(state: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void;
  dispose(): void;
}

/**
 * Creates an AdamW optimizer over named parameter groups. Options are resolved by `ADAMW_PARAMS` (defaults 0.9, 0.999,
 * 1e-8, 0.01); `optimizer.options` is the resolved object the updates use.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for an unknown or out-of-range option, or a parameter listed twice
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createAdamW } from 'provenant/finetune';
 * const w = tf.variable(tf.zeros([4, 2]));
 * const grad = tf.ones([4, 2]);
 * const opt = createAdamW([{ name: 'w', variable: w }], { weightDecay: 0.01 });
 * opt.apply(new Map([['w', grad]]), 1e-3); // w updated in place
 * ```
 */
export function createAdamW(groups: readonly ParameterGroup[], options: AdamWOptions = {}): AdamW {
  const opts = resolve<Required<AdamWOptions>>(ADAMW_PARAMS, options);
  const { beta1, beta2, epsilon } = opts;
  const names = new Set<string>();
  for (const g of groups) {
    if (names.has(g.name)) throw new ProvenantError('TRAINING_CONFIG_INVALID', `Parameter "${g.name}" is listed twice.`);
    names.add(g.name);
  }
  const m = new Map<string, Tensor>();
  const v = new Map<string, Tensor>();
  let step = 0;
  const zeros = (g: ParameterGroup) => tf.zeros(g.variable.shape);
  for (const g of groups) {
    m.set(g.name, zeros(g));
    v.set(g.name, zeros(g));
  }
  return {
    options: opts,
    get step() {
      return step;
    },
    apply(grads, learningRate) {
      step += 1;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (const g of groups) {
        const grad = grads.get(g.name);
        if (!grad) continue;
        const lr = learningRate * (g.lrMultiplier ?? 1);
        const decay = g.weightDecay ?? opts.weightDecay;
        const [m1, v1] = tf.tidy(() => {
          const mNew = m.get(g.name)!.mul(beta1).add(grad.mul(1 - beta1));
          const vNew = v.get(g.name)!.mul(beta2).add(grad.square().mul(1 - beta2));
          const decayed = decay > 0 ? g.variable.mul(1 - lr * decay) : g.variable;
          const update = mNew.div(c1).div(vNew.div(c2).sqrt().add(epsilon)).mul(lr);
          g.variable.assign(decayed.sub(update));
          return [mNew, vNew];
        });
        m.get(g.name)!.dispose();
        v.get(g.name)!.dispose();
        m.set(g.name, m1!);
        v.set(g.name, v1!);
      }
    },
    getState() {
      const read = (map: Map<string, Tensor>) => Object.fromEntries([...map].map(([k, t]) => [k, t.dataSync() as Float32Array]));
      return { step, m: read(m), v: read(v) };
    },
    setState(state) {
      for (const g of groups) {
        const mm = state.m[g.name];
        const vv = state.v[g.name];
        if (!mm || !vv || mm.length !== g.variable.size || vv.length !== g.variable.size) {
          throw new ProvenantError('CHECKPOINT_INVALID', `Optimizer state for "${g.name}" is missing or has the wrong size.`, {
            data: { name: g.name, expected: g.variable.size },
          });
        }
        m.get(g.name)!.dispose();
        v.get(g.name)!.dispose();
        m.set(g.name, tf.tensor(mm, g.variable.shape, 'float32'));
        v.set(g.name, tf.tensor(vv, g.variable.shape, 'float32'));
      }
      step = state.step;
    },
    dispose() {
      for (const t of [...m.values(), ...v.values()]) t.dispose();
      m.clear();
      v.clear();
    },
  };
}

/**
 * √(Σ‖g‖²) over all gradients, read back as a number.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { globalNorm } from 'provenant/finetune';
 * globalNorm([tf.tensor1d([3]), tf.tensor1d([4])]); // 5
 * ```
 */
export function globalNorm(grads: Iterable<Tensor>): number {
  const list = [...grads];
  if (list.length === 0) return 0;
  return tf.tidy(() => tf.addN(list.map((g) => g.square().sum())).sqrt().dataSync()[0]!);
}

/**
 * Clipping by global norm (Pascanu et al. 2013, §3.2), as PyTorch's `clip_grad_norm_`: when the norm exceeds `maxNorm`,
 * every gradient is scaled by maxNorm / (norm + 1e-6). Returns new tensors (the inputs are disposed when replaced).
 *
 * @example
 * ```ts
 * import type * as tf from '@tensorflow/tfjs-core';
 * import { clipByGlobalNorm, globalNorm } from 'provenant/finetune';
 * declare const grads: Map<string, tf.Tensor>;
 * clipByGlobalNorm(grads, globalNorm(grads.values()), 1.0); // grads rescaled in place when the norm exceeds 1
 * ```
 */
export function clipByGlobalNorm(grads: Map<string, Tensor>, norm: number, maxNorm: number): void {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm) || norm <= maxNorm) return;
  const factor = maxNorm / (norm + 1e-6);
  for (const [name, g] of grads) {
    grads.set(name, tf.tidy(() => g.mul(factor)));
    g.dispose();
  }
}
