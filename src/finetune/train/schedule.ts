/**
 * Learning-rate schedules. The formulas are those of Hugging Face transformers' `get_constant_schedule_with_warmup`,
 * `get_linear_schedule_with_warmup` and `get_cosine_schedule_with_warmup` (half a cosine cycle), so a run here and a run
 * there with the same settings see the same learning rates; `minLrRatio` adds a floor (the factor is rescaled to
 * [minLrRatio, 1] after warm-up). Note HF's warm-up starts at 0: the first optimizer step (step 0) uses lr 0 when
 * `warmupSteps > 0`.
 */
import { ProvenantError } from '../../core/index.js';

export type LrScheduleKind = 'constant' | 'linear' | 'cosine';

export interface LrSchedule {
  kind: LrScheduleKind;
  /** Steps of linear warm-up from 0 to the peak learning rate. Default 0. */
  warmupSteps?: number;
  /** Floor of the decay as a fraction of the peak (linear, cosine). Default 0. */
  minLrRatio?: number;
}

export function validateSchedule(schedule: LrSchedule): void {
  const bad = (message: string) => new ProvenantError('TRAINING_CONFIG_INVALID', `LR schedule: ${message}`, { data: { schedule } });
  if (!['constant', 'linear', 'cosine'].includes(schedule.kind)) throw bad(`kind must be constant, linear or cosine, got ${JSON.stringify(schedule.kind)}.`);
  const warmup = schedule.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw bad(`warmupSteps must be a non-negative integer, got ${warmup}.`);
  const floor = schedule.minLrRatio ?? 0;
  if (!(floor >= 0 && floor <= 1)) throw bad(`minLrRatio must be in [0, 1], got ${floor}.`);
}

/**
 * The multiplier of the peak learning rate at optimizer step `step` (0-based) of `totalSteps`.
 *
 * @example
 * ```ts
 * learningRateFactor(50, 100, { kind: 'cosine', warmupSteps: 0 }); // 0.5
 * ```
 */
export function learningRateFactor(step: number, totalSteps: number, schedule: LrSchedule): number {
  const warmup = schedule.warmupSteps ?? 0;
  const floor = schedule.minLrRatio ?? 0;
  if (step < warmup) return step / Math.max(1, warmup);
  if (schedule.kind === 'constant') return 1;
  const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
  const factor =
    schedule.kind === 'linear'
      ? Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup))
      : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  return floor + (1 - floor) * factor;
}
