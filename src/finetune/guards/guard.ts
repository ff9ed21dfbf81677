/**
 * Forgetting guards: penalties added to the task loss through the training loop's `extraLoss` hook. Each guard is an
 * `ExtraLoss` with its settings attached (for the audit record) and a `dispose()` for the tensors it keeps (base
 * probabilities, Fisher diagonals, replay batches). `combineExtraLosses` adds several.
 *
 * Why through `extraLoss` and not inside the loop: every guard is optional, and each one's cost and state stay in its own
 * file; the loop only sees a scalar to differentiate.
 */
import { ProvenantError, defaultOf, type ParamLeaf, type ParamTable } from '../../core/index.js';
import { EWC_PARAMS, FISHER_PARAMS, GUARD_PARAMS } from './guard-params.js';
import type { Model } from '../models/model.js';
import type { ExtraLoss, ExtraLossContext } from '../train/train.js';
import { tf, type Variable } from '../tf.js';

/** The guards this folder builds. */
export type GuardKind = 'replay' | 'l2-sp' | 'kl-to-base' | 'ewc' | 'combined';

/** An `ExtraLoss` that knows what it is: pass it as `train(model, { extraLoss: guard })`. */
export type Guard = ExtraLoss & {
  readonly kind: GuardKind;
  /** Every option with its resolved value (JSON-safe), plus sizes of its inputs. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The table its options were resolved with, and the resolved object it uses: the audit record prints `describe(table, used)`. */
  readonly table: ParamTable | null;
  readonly used: Readonly<Record<string, unknown>> | null;
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
 * Every guard option with its default and meaning — read from the guard tables (`guard-params.ts`), the one place they
 * live; kept in this flat shape for readers of the old table.
 */
export const GUARD_DEFAULTS: readonly GuardField[] = Object.freeze([
  ...(['replay', 'l2-sp', 'kl-to-base'] as const).flatMap((guard) =>
    GUARD_PARAMS[guard].fields.map((f) => ({ guard, field: f.name, default: (f as ParamLeaf).default, meaning: f.meaning })),
  ),
  { guard: 'ewc' as const, field: 'strength', default: defaultOf(EWC_PARAMS, 'strength'), meaning: EWC_PARAMS.fields[0]!.meaning },
  ...FISHER_PARAMS.fields.map((f) => ({ guard: 'ewc' as const, field: `fisher.${f.name}`, default: (f as ParamLeaf).default, meaning: f.meaning })),
]);

/**
 * A guard's default, read from its table (the one place defaults live).
 *
 * @example
 * ```ts
 * guardDefault<number>('replay', 'batchSize'); // 8, read from REPLAY_PARAMS
 * ```
 */
export function guardDefault<T>(guard: GuardField['guard'], field: string): T {
  if (field.startsWith('fisher.')) return defaultOf<T>(FISHER_PARAMS, field.slice('fisher.'.length));
  return defaultOf<T>(GUARD_PARAMS[guard], field);
}

/**
 * Wraps a penalty function as a named {@link Guard}; the name is what `train` records as `settings.extraLoss`.
 *
 * @example
 * ```ts
 * const guard = makeGuard('l2-sp', { strength: 0.1 }, ({ model }) => myPenalty(model));
 * ```
 */
export function makeGuard(
  kind: GuardKind,
  settings: Record<string, unknown>,
  penalty: ExtraLoss,
  dispose: () => void = () => {},
  params: { table: ParamTable; used: Record<string, unknown> } | null = null,
): Guard {
  let disposed = false;
  const fn = ((context: ExtraLossContext) => {
    if (disposed) throw new ProvenantError('TRAINING_CONFIG_INVALID', `The ${kind} guard was disposed; create a new one.`);
    return penalty(context);
  }) as Guard;
  Object.defineProperty(fn, 'name', { value: kind });
  Object.defineProperty(fn, 'kind', { value: kind, enumerable: true });
  Object.defineProperty(fn, 'settings', { value: Object.freeze({ ...settings }), enumerable: true });
  Object.defineProperty(fn, 'table', { value: params?.table ?? null, enumerable: true });
  Object.defineProperty(fn, 'used', { value: params ? Object.freeze(params.used) : null, enumerable: true });
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
 * import { combineExtraLosses, createKlToBaseGuard, createL2SpGuard, train, type Model, type TrainingExample, type DataSource } from 'provenant/finetune';
 * declare const model: Model;
 * declare const probe: readonly TrainingExample[];
 * declare const rows: readonly TrainingExample[] | readonly DataSource[];
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

/**
 * The factors of every active, unmerged adapter (or of the named ones), in model order.
 *
 * @example
 * ```ts
 * import { adapterFactors, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * adapterFactors(model).map((f) => `${f.module}: s = ${f.scale}`);
 * ```
 */
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
