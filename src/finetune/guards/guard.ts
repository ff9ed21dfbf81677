/**
 * Forgetting guards: penalties added to the task loss through the training loop's `extraLoss` hook. Each guard is an
 * `ExtraLoss` with its settings attached (for the audit record) and a `dispose()` for the tensors it keeps (base
 * probabilities, Fisher diagonals, replay batches). `combineExtraLosses` adds several.
 *
 * Why through `extraLoss` and not inside the loop: every guard is optional, and each one's cost and state stay in its own
 * file; the loop only sees a scalar to differentiate.
 */
import { ProvenantError } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { ExtraLoss, ExtraLossContext } from '../train/train.js';
import { tf, type Variable } from '../tf.js';

/** The guards this folder builds. */
export type GuardKind = 'replay' | 'l2-sp' | 'kl-to-base' | 'ewc' | 'combined';

/** An `ExtraLoss` that knows what it is: pass it as `train(model, { extraLoss: guard })`. */
export type Guard = ExtraLoss & {
  readonly kind: GuardKind;
  /** Every option with its resolved value (JSON-safe), for the audit record. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Frees the tensors the guard keeps. Safe to call twice. */
  dispose(): void;
};

/** One row of a guard's option table: field, default, meaning. */
export interface GuardField {
  guard: Exclude<GuardKind, 'combined'>;
  field: string;
  default: unknown;
  meaning: string;
}

/**
 * Every guard option with its default and meaning — the table the audit record prints beside `TRAINING_DEFAULTS`.
 * Strengths have no universal scale: they multiply a penalty whose size depends on the model, so sweep them.
 */
export const GUARD_DEFAULTS: readonly GuardField[] = Object.freeze([
  { guard: 'replay', field: 'weight', default: 1, meaning: 'Multiplier of the replay LM loss added to the task loss; weight w gives the mix task + w·replay (a fraction f of the total is w = f/(1 − f)).' },
  { guard: 'replay', field: 'batchSize', default: 8, meaning: 'General-text sequences per replay batch (one replay batch per micro-batch).' },
  { guard: 'replay', field: 'seed', default: 0, meaning: 'Seed of the cycling replay batch plan (each pass over the general text is a fresh seeded permutation) and of its dropout masks.' },
  { guard: 'replay', field: 'gradientAccumulationSteps', default: 1, meaning: 'Set it to the training loop\'s value so each micro-batch of a step gets its own replay batch.' },
  { guard: 'replay', field: 'sequenceLength', default: null, meaning: 'Truncate replay sequences to this many input positions; null = the model context.' },
  { guard: 'l2-sp', field: 'strength', default: 1e-2, meaning: 'α of α/2·Σ_modules ‖s·A·B‖²_F: L2-SP (Li et al. 2018, eq. 3) with the base weights as the starting point, so the penalty is the squared size of the adapter update.' },
  { guard: 'l2-sp', field: 'adapters', default: null, meaning: 'Adapters penalised; null = every active, unmerged adapter.' },
  { guard: 'kl-to-base', field: 'strength', default: 1, meaning: 'Multiplier of the mean KL(p_base ‖ p_tuned) over the probe rows (next tokens or classes).' },
  { guard: 'kl-to-base', field: 'task', default: 'causal-lm', meaning: "Which outputs are compared: next-token distributions ('causal-lm', the general ability) or class distributions ('classification')." },
  { guard: 'kl-to-base', field: 'batchSize', default: null, meaning: 'Probe examples per step; null = the whole probe set every step. Smaller batches cycle through the probe set by step.' },
  { guard: 'kl-to-base', field: 'sequenceLength', default: null, meaning: 'Truncate probe sequences to this many input positions; null = the model context.' },
  { guard: 'ewc', field: 'strength', default: 1, meaning: 'λ of λ/2·Σ F ⊙ (s·A·B)²: EWC (Kirkpatrick et al. 2017, eq. 3) on the effective LoRA update, with the Fisher of the base kernels.' },
  { guard: 'ewc', field: 'fisher.method', default: 'empirical', meaning: "'empirical': squared gradients of −log p(true label); 'sampled': labels (or next tokens) drawn from the base model's own predictions — the true Fisher's Monte-Carlo estimate with one draw per example." },
  { guard: 'ewc', field: 'fisher.maxExamples', default: 256, meaning: 'Examples of the base task the Fisher is averaged over (one backward pass each).' },
  { guard: 'ewc', field: 'fisher.modules', default: null, meaning: "Kernels whose Fisher is estimated; null = the modules of the model's active adapters." },
]);

/** Resolved defaults of one guard, read from `GUARD_DEFAULTS` (the one place they live). */
export function guardDefault<T>(guard: GuardField['guard'], field: string): T {
  const row = GUARD_DEFAULTS.find((f) => f.guard === guard && f.field === field);
  if (!row) throw new ProvenantError('INVALID_ARGUMENT', `No default for ${guard}.${field}.`);
  return row.default as T;
}

/** Wraps a penalty function as a named {@link Guard}; the name is what `train` records as `settings.extraLoss`. */
export function makeGuard(kind: GuardKind, settings: Record<string, unknown>, penalty: ExtraLoss, dispose: () => void = () => {}): Guard {
  let disposed = false;
  const fn = ((context: ExtraLossContext) => {
    if (disposed) throw new ProvenantError('TRAINING_CONFIG_INVALID', `The ${kind} guard was disposed; create a new one.`);
    return penalty(context);
  }) as Guard;
  Object.defineProperty(fn, 'name', { value: kind });
  Object.defineProperty(fn, 'kind', { value: kind, enumerable: true });
  Object.defineProperty(fn, 'settings', { value: Object.freeze({ ...settings }), enumerable: true });
  Object.defineProperty(fn, 'dispose', {
    value: () => {
      if (disposed) return;
      disposed = true;
      dispose();
    },
  });
  return fn;
}

/**
 * Adds several `ExtraLoss` hooks (guards or plain functions); a hook returning null adds nothing. The result is a guard
 * named `a+b+…` whose settings list each part's, and whose `dispose` disposes each part that is a guard.
 *
 * @example
 * ```ts
 * const guard = combineExtraLosses(createL2SpGuard({ strength: 0.01 }), createKlToBaseGuard(model, { probe }));
 * await train(model, { task: 'classification', train: rows, seed: 1, extraLoss: guard });
 * guard.dispose();
 * ```
 */
export function combineExtraLosses(...parts: readonly ExtraLoss[]): Guard {
  if (parts.length === 0 || parts.some((p) => typeof p !== 'function')) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', 'combineExtraLosses needs one or more ExtraLoss functions.');
  }
  const names = parts.map((p) => p.name || 'custom');
  const guard = makeGuard(
    'combined',
    { parts: parts.map((p, i) => ({ name: names[i], settings: (p as Partial<Guard>).settings ?? null })) },
    (context) => {
      let total: tf.Scalar | null = null;
      for (const part of parts) {
        const value = part(context);
        if (!value) continue;
        total = total ? (total.add(value) as tf.Scalar) : value;
      }
      return total;
    },
    () => {
      for (const p of parts) (p as Partial<Guard>).dispose?.();
    },
  );
  Object.defineProperty(guard, 'name', { value: names.join('+') });
  return guard;
}

/** One active LoRA adapter on one module: its factors and scale. */
export interface AdapterFactors {
  module: string;
  adapter: string;
  /** [in, r] */
  A: Variable;
  /** [r, out] */
  B: Variable;
  scale: number;
}

/** The factors of every active, unmerged adapter (or of the named ones), in model order. */
export function adapterFactors(model: Model, adapters?: readonly string[] | null): AdapterFactors[] {
  const out: AdapterFactors[] = [];
  for (const [module, linear] of model.linears) {
    for (const adapter of linear.active) {
      if (linear.merged.includes(adapter)) continue;
      if (adapters && !adapters.includes(adapter)) continue;
      const w = linear.adapters.get(adapter);
      if (w) out.push({ module, adapter, A: w.A, B: w.B, scale: w.scale });
    }
  }
  return out;
}

export function checkStrength(guard: string, strength: number): void {
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength < 0) {
    throw new ProvenantError('TRAINING_CONFIG_INVALID', `${guard}: strength must be a finite number ≥ 0, got ${String(strength)}.`, { data: { guard, strength } });
  }
}
