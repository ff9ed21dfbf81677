/**
 * Learning-rate schedules. The formulas are those of Hugging Face transformers' `get_constant_schedule_with_warmup`,
 * `get_linear_schedule_with_warmup` and `get_cosine_schedule_with_warmup` (half a cosine cycle), so a run here and a run
 * there with the same settings see the same learning rates; `minLrRatio` adds a floor (the factor is rescaled to
 * [minLrRatio, 1] after warm-up). Note HF's warm-up starts at 0: the first optimizer step (step 0) uses lr 0 when
 * `warmupSteps > 0`.
 */
import { checks, resolve, type ParamTable } from '../../core/index.js';

export type LrScheduleKind = 'constant' | 'linear' | 'cosine';

export interface LrSchedule {
  kind: LrScheduleKind;
  /** Steps of linear warm-up from 0 to the peak learning rate. Default 0. */
  warmupSteps?: number;
  /** Floor of the decay as a fraction of the peak (linear, cosine). Default 0. */
  minLrRatio?: number;
}

/** A schedule with every field resolved (what the training loop uses and the audit record prints). */
export type ResolvedLrSchedule = Required<LrSchedule>;

/** The schedule's fields: defaults, meanings and checks (see `core/params.ts`). */
export const SCHEDULE_PARAMS: ParamTable = Object.freeze({
  name: 'schedule',
  code: 'TRAINING_CONFIG_INVALID',
  docsPath: '#training-parameters',
  fields: [
    { name: 'kind', default: 'constant', meaning: "Learning-rate shape after warm-up: 'constant', 'linear' decay to the floor, or 'cosine' (half a cycle), as transformers' get_*_schedule_with_warmup; no hidden decay unless asked.", check: checks.oneOf(['constant', 'linear', 'cosine']) },
    { name: 'warmupSteps', default: 0, meaning: 'Optimizer steps of linear warm-up from 0 to the peak rate (step 0 uses lr 0 when > 0, as in transformers).', check: checks.int(0) },
    { name: 'minLrRatio', default: 0, meaning: 'Floor of the decay as a fraction of the peak rate (linear, cosine).', check: checks.number(0, 1) },
  ],
});

/**
 * The schedule with its defaults filled in, validated.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` naming each bad field (unknown kind, negative warm-up, floor outside [0, 1])
 * @example
 * ```ts
 * import { resolveSchedule } from 'provenant/finetune';
 * resolveSchedule({ kind: 'cosine' }); // { kind: 'cosine', warmupSteps: 0, minLrRatio: 0 }
 * ```
 */
export function resolveSchedule(schedule: LrSchedule | Partial<LrSchedule> = {}): ResolvedLrSchedule {
  return resolve<ResolvedLrSchedule>(SCHEDULE_PARAMS, schedule);
}

/**
 * Throws unless `schedule` is valid (see `resolveSchedule`).
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID`
 * @example
 * ```ts
 * import { validateSchedule } from 'provenant/finetune';
 * validateSchedule({ kind: 'linear', warmupSteps: 10 });
 * ```
 */
export function validateSchedule(schedule: LrSchedule): void {
  resolveSchedule(schedule);
}

/**
 * The multiplier of the peak learning rate at optimizer step `step` (0-based) of `totalSteps`.
 *
 * @example
 * ```ts
 * import { learningRateFactor } from 'provenant/finetune';
 * learningRateFactor(50, 100, { kind: 'cosine', warmupSteps: 0 }); // 0.5
 * ```
 */
export function learningRateFactor(step: number, totalSteps: number, schedule: LrSchedule): number {
  const { warmupSteps: warmup, minLrRatio: floor } = resolveSchedule(schedule);
  if (step < warmup) return step / Math.max(1, warmup);
  if (schedule.kind === 'constant') return 1;
  const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
  const factor =
    schedule.kind === 'linear'
      ? Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup))
      : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  return floor + (1 - floor) * factor;
}
