/**
 * The one guard factory: a plain-data spec `{ kind, …options }` → a guard, each kind's options resolved by its table in
 * `guard-params.ts` (the library's `create…Guard` functions do the resolving; this only dispatches). A pipeline, a sweep
 * or a user's own flow builds guards through here, so there is one set of defaults.
 */
import { ProvenantError } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { TrainingExample } from '../train/data.js';
import { createEwcGuard, estimateDiagonalFisher, type EstimateFisherOptions, type EwcOptions } from './ewc.js';
import type { Guard } from './guard.js';
import { createKlToBaseGuard, type KlToBaseOptions } from './kl-to-base.js';
import { createL2SpGuard, type L2SpOptions } from './l2-sp.js';
import { createReplayGuard, type ReplayOptions } from './replay.js';

/** What `createGuard` builds: the guard kind and its options (data inputs included). */
export type GuardSpec =
  | ({ kind: 'replay' } & ReplayOptions)
  | ({ kind: 'l2-sp' } & L2SpOptions)
  | ({ kind: 'kl-to-base' } & KlToBaseOptions)
  | ({ kind: 'ewc'; fisherExamples: readonly TrainingExample[]; fisherTask: 'classification' | 'causal-lm'; fisher?: EstimateFisherOptions } & EwcOptions);

/**
 * Builds the guard a spec names. `model` is needed by the guards that read the base model when created (kl-to-base, ewc).
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for an unknown kind (naming the kinds) or any invalid option
 *   (all named at once, with the nearest field for unknown names)
 * @example
 * ```ts
 * import { createGuard, train, type Model, type TrainingExample, type DataSource } from 'provenant/finetune';
 * declare const model: Model;
 * declare const general: readonly TrainingExample[];
 * declare const rows: readonly TrainingExample[] | readonly DataSource[];
 * const guard = createGuard(model, { kind: 'replay', sequences: general, weight: 0.5, seed: 7, sequenceLength: 64 });
 * await train(model, { task: 'classification', train: rows, seed: 7, extraLoss: guard });
 * guard.used; // { weight: 0.5, batchSize: 8, seed: 7, gradientAccumulationSteps: 1, sequenceLength: 64 }
 * guard.dispose();
 * ```
 */
export function createGuard(model: Model, spec: GuardSpec): Guard {
  const { kind, ...options } = spec as GuardSpec & Record<string, unknown>;
  switch (kind) {
    case 'replay':
      return createReplayGuard(options as unknown as ReplayOptions);
    case 'l2-sp':
      return createL2SpGuard(options as L2SpOptions);
    case 'kl-to-base':
      return createKlToBaseGuard(model, options as unknown as KlToBaseOptions);
    case 'ewc': {
      const { fisherExamples, fisherTask, fisher, ...ewc } = options as unknown as Extract<GuardSpec, { kind: 'ewc' }>;
      return createEwcGuard(estimateDiagonalFisher(model, fisherExamples, fisherTask, fisher), ewc);
    }
    default:
      throw new ProvenantError('TRAINING_CONFIG_INVALID', `Unknown guard "${String(kind)}" (replay, l2-sp, kl-to-base, ewc).`, {
        data: { kind },
        docsPath: '#forgetting-guards',
      });
  }
}
