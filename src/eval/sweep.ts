/**
 * The learning-versus-forgetting sweep: LoRA fine-tunes over rank × learning rate × steps × guard (kind and strength),
 * each compared with the base model by `compareModels` on a domain task (what the fine-tune is for) and a retained
 * language task (general-text perplexity), giving one point per run — domain gain and relative perplexity increase,
 * each with its paired-bootstrap interval — and the points' Pareto front (`learningForgettingFront`).
 *
 * All runs share one model object: run i attaches a fresh adapter `sweep` (initialised from the sweep seed and the
 * rank, and trained on the same seeded batch order, so runs differing only in guard or schedule are paired), trains
 * it, evaluates it against the adapters-disabled base, and deletes it, so the base weights are never copied or changed.
 * The base side of every comparison is computed once and memoised (it is the same model on the same data each run).
 */
import { ProvenantError, createProgressReporter, nearestField, resolve, type ParamTable } from '../core/index.js';
import type { ProgressCallback, Seed } from '../core/index.js';
import {
  attachAdapter,
  createEwcGuard,
  createKlToBaseGuard,
  createL2SpGuard,
  createReplayGuard,
  deleteAdapter,
  estimateDiagonalFisher,
  getAdapterInfo,
  train,
  type DiagonalFisher,
  type Guard,
  type LoraConfig,
  type Model,
  type TrainingExample,
  type TrainingTask,
} from '../finetune/index.js';
import { BOOTSTRAP_FIELDS } from './bootstrap.js';
import type { BootstrapOptions, Estimate } from './bootstrap.js';
import { compareModels } from './compare-models.js';
import type { TaskComparison } from './compare-models.js';
import type { EvalModel, EvalTask, LanguageTask } from './eval-model.js';
import { toEvalModel, type FinetuneInput } from './finetune-adapter.js';
import { learningForgettingFront } from './pareto.js';

/** A guard setting of the grid: no guard, or one guard kind at a strength (its weight, for replay). */
export type SweepGuard = { kind: 'none' } | { kind: 'replay' | 'l2-sp' | 'kl-to-base' | 'ewc'; strength: number };

export interface SweepGrid {
  ranks: readonly number[];
  learningRates: readonly number[];
  steps: readonly number[];
  /** Default [{ kind: 'none' }]. */
  guards?: readonly SweepGuard[];
}

/** Data the guards need (only the kinds in the grid are required). */
export interface SweepGuardData {
  /** General-text token sequences: replay batches, and the base task of EWC's Fisher. */
  general?: readonly TrainingExample[];
  /** Probe sequences of KL-to-base (next-token distributions); default the first 16 of `general`. */
  probe?: readonly TrainingExample[];
  /** Replay sequences per batch. Default 8. */
  replayBatchSize?: number;
  /** Examples for EWC's Fisher. Default 64. */
  fisherExamples?: number;
  /** Default 'sampled' (the true Fisher's estimate). */
  fisherMethod?: 'empirical' | 'sampled';
}

export interface SweepOptions {
  /** The base model; it gets one adapter per run and is left as it was found. */
  model: Model;
  /** The fine-tuning task. Default 'classification'. */
  task?: TrainingTask;
  /** Domain training examples. */
  train: readonly TrainingExample[];
  /** The domain evaluation (e.g. macro-F1 on held-out e-mails); its kind is forced to 'domain'. */
  domainTask: EvalTask<FinetuneInput>;
  /** The retained evaluation: perplexity (or bits per character) on held-out general text. */
  retainedTask: LanguageTask;
  grid: SweepGrid;
  /** LoRA settings other than r (alpha defaults to 2·r, as many recipes use; targets default to the model's). */
  lora?: Partial<Omit<LoraConfig, 'r'>> & { alphaPerRank?: number };
  guardData?: SweepGuardData;
  /** Training batch size. Default 16. */
  batchSize?: number;
  /** Truncate training sequences. */
  sequenceLength?: number;
  /** Evaluation batch size. Default 32. */
  evalBatchSize?: number;
  /** Seed of every run (adapter init, batch order) and of the bootstrap unless `bootstrap.seed` is given. */
  seed: number;
  bootstrap?: BootstrapOptions;
  onProgress?: ProgressCallback;
  /** Called after each run with its point (for logging partial results). */
  onRun?: (point: SweepPoint) => void | Promise<void>;
}

/** One run of the sweep. */
export interface SweepPoint {
  run: number;
  rank: number;
  learningRate: number;
  steps: number;
  guard: SweepGuard['kind'];
  guardStrength: number;
  /** Domain metric, tuned − base (larger is better), with interval. */
  gain: number;
  gainCi: Estimate['ci'];
  /** Relative increase of the retained metric, (tuned − base)/base (e.g. 0.05 = perplexity up 5 %), with interval. */
  forgetting: number;
  forgettingCi: Estimate['ci'];
  domain: TaskComparison;
  retained: TaskComparison;
  finalTrainLoss: number;
  trainSeconds: number;
  trainableParameters: number;
}

export interface SweepResult {
  points: SweepPoint[];
  /** Non-dominated points (max gain, min forgetting), best gain first. */
  front: SweepPoint[];
  frontRuns: number[];
  settings: Record<string, unknown>;
}

function invalid(message: string): ProvenantError {
  return new ProvenantError('EVAL_INPUT_INVALID', `sweep: ${message}`);
}

/** An EvalModel whose answers are memoised by (method, batch): the base side of every run is the same computation. */
function memoised(inner: EvalModel<FinetuneInput>): EvalModel<FinetuneInput> {
  const cache = new Map<string, unknown>();
  // A text and a token-id array that print alike ("1,2" and [1, 2]) are different items: the t/i tag keeps them apart.
  const keyOf = (method: string, items: readonly FinetuneInput[]) =>
    `${method}\u0001${items.map((x) => (typeof x === 'string' ? `t${x}` : `i${Array.from(x).join(',')}`)).join('\u0000')}`;
  const wrap = <R>(method: 'predictProba' | 'scoreText' | 'nextTokenProba') =>
    (items: readonly FinetuneInput[]): R => {
      const key = keyOf(method, items);
      if (!cache.has(key)) cache.set(key, (inner[method] as (x: readonly FinetuneInput[]) => R).call(inner, items));
      return cache.get(key) as R;
    };
  return {
    name: inner.name,
    ...(inner.predictProba ? { predictProba: wrap('predictProba') } : {}),
    ...(inner.scoreText ? { scoreText: wrap('scoreText') as EvalModel<FinetuneInput>['scoreText'] } : {}),
    ...(inner.nextTokenProba ? { nextTokenProba: wrap('nextTokenProba') as EvalModel<FinetuneInput>['nextTokenProba'] } : {}),
  };
}

/**
 * The runs of a grid in order: rank, then learning rate, then steps, then guard (the last varies fastest) — the
 * Cartesian product, |ranks|·|learningRates|·|steps|·|guards| runs; `guards` defaults to `[{ kind: 'none' }]`. Does not
 * validate the grid (`sweep` does).
 *
 * @example
 * ```ts
 * import { sweepRuns } from 'provenant/eval';
 *
 * sweepRuns({ ranks: [4, 8], learningRates: [1e-3], steps: [100], guards: [{ kind: 'none' }, { kind: 'l2-sp', strength: 0.1 }] });
 * // [{ rank: 4, learningRate: 0.001, steps: 100, guard: { kind: 'none' } }, { rank: 4, …, guard: { kind: 'l2-sp', strength: 0.1 } }, { rank: 8, … }, { rank: 8, … }]
 * ```
 */
export function sweepRuns(grid: SweepGrid): Array<{ rank: number; learningRate: number; steps: number; guard: SweepGuard }> {
  const guards = grid.guards ?? [{ kind: 'none' }];
  const runs: Array<{ rank: number; learningRate: number; steps: number; guard: SweepGuard }> = [];
  for (const rank of grid.ranks) for (const learningRate of grid.learningRates) for (const steps of grid.steps) for (const guard of guards) runs.push({ rank, learningRate, steps, guard });
  return runs;
}

function validateGrid(grid: SweepGrid): void {
  const positiveInts = (name: string, xs: readonly number[]) => {
    if (!Array.isArray(xs) || xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw invalid(`grid.${name} must be a non-empty list of positive integers.`);
  };
  positiveInts('ranks', grid.ranks);
  positiveInts('steps', grid.steps);
  if (!Array.isArray(grid.learningRates) || grid.learningRates.length === 0 || grid.learningRates.some((x) => !(x > 0) || !Number.isFinite(x))) {
    throw invalid('grid.learningRates must be a non-empty list of positive numbers.');
  }
  for (const g of grid.guards ?? []) {
    // A guard takes its kind and one strength here; any other key (a guard option such as `adapters`) would be ignored.
    const extra = Object.keys(g).filter((k) => k !== 'kind' && k !== 'strength' && (g as unknown as Record<string, unknown>)[k] !== undefined);
    if (extra.length > 0) {
      const near = nearestField(extra[0]!, ['kind', 'strength']);
      throw invalid(`grid.guards: unknown key "${extra[0]}"${near ? ` (did you mean "${near}"?)` : ''} in ${JSON.stringify(g)}; a guard has kind and strength.`);
    }
    if (g.kind === 'none') continue;
    if (!['replay', 'l2-sp', 'kl-to-base', 'ewc'].includes(g.kind)) throw invalid(`unknown guard kind ${JSON.stringify((g as { kind: unknown }).kind)}.`);
    if (!(g.strength >= 0) || !Number.isFinite(g.strength)) throw invalid(`guard ${g.kind} needs a finite strength ≥ 0.`);
  }
}

/**
 * The options of {@link sweep} (one parameter mechanism: unknown names refused with the nearest one, in the nested
 * `grid`, `guardData` and `bootstrap` too). Models, data, tasks and callbacks are inputs; `lora` is checked by the LoRA
 * config itself. Values are validated where sweep uses them.
 */
const SWEEP_PARAMS: ParamTable = Object.freeze({
  name: 'sweep',
  inputs: ['model', 'train', 'domainTask', 'retainedTask', 'lora', 'onProgress', 'onRun'],
  fields: [
    { name: 'task', default: 'classification', meaning: 'The fine-tuning task.' },
    { name: 'batchSize', default: 16, meaning: 'Training batch size.', aliases: ['batch_size', 'per_device_train_batch_size'] },
    { name: 'sequenceLength', default: null, meaning: 'Truncate training (and guard) sequences; null: the model context.', aliases: ['max_length', 'maxLength'] },
    { name: 'evalBatchSize', default: 32, meaning: 'Evaluation batch size.', aliases: ['eval_batch_size', 'per_device_eval_batch_size'] },
    { name: 'seed', default: null, meaning: 'Seed of every run and of the bootstrap unless bootstrap.seed is given (required; an integer).' },
    {
      name: 'grid',
      meaning: 'The runs: every rank × learning rate × steps × guard.',
      group: {
        name: 'grid',
        fields: [
          { name: 'ranks', default: null, meaning: 'LoRA ranks r.', aliases: ['r', 'rank'] },
          { name: 'learningRates', default: null, meaning: 'Peak learning rates.', aliases: ['lr', 'learning_rate', 'learningRate'] },
          { name: 'steps', default: null, meaning: 'Training steps.', aliases: ['max_steps', 'maxSteps'] },
          { name: 'guards', default: null, meaning: "Forgetting guards; null: [{ kind: 'none' }]." },
        ],
      },
    },
    {
      name: 'guardData',
      meaning: 'Data and sizes of the guards.',
      group: {
        name: 'guardData',
        inputs: ['general', 'probe'],
        fields: [
          { name: 'replayBatchSize', default: 8, meaning: 'Replay sequences per batch.' },
          { name: 'fisherExamples', default: 64, meaning: "Examples of EWC's Fisher." },
          { name: 'fisherMethod', default: 'sampled', meaning: "'sampled' (the true Fisher's estimate) or 'empirical'." },
        ],
      },
    },
    { name: 'bootstrap', optional: true, meaning: 'Bootstrap of the comparisons.', group: { name: 'bootstrap', fields: BOOTSTRAP_FIELDS } },
  ],
});

interface UsedSweep {
  task: TrainingTask;
  batchSize: number;
  sequenceLength: number | null;
  evalBatchSize: number;
  guardData: { replayBatchSize: number; fisherExamples: number; fisherMethod: 'empirical' | 'sampled' };
}

/**
 * Runs the sweep (see the module note) and returns its points and Pareto front.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name (also in grid, guardData, bootstrap), with the nearest
 *   one; `EVAL_INPUT_INVALID` for a bad grid (an unknown key of a guard included), data or seed.
 * @example
 * ```ts
 * import { loadBaseModel, type TrainingExample } from 'provenant';
 * import { sweep, type FinetuneInput } from 'provenant/eval';
 * declare const emails: readonly TrainingExample[];
 * declare const testTexts: readonly FinetuneInput[];
 * declare const testLabels: readonly number[];
 * declare const passages: readonly string[];
 * declare const sequences: readonly TrainingExample[];
 * const result = await sweep({
 *   model: await loadBaseModel(), train: emails, seed: 1,
 *   domainTask: { name: 'spam', kind: 'domain', metric: 'macro-f1', dataset: { inputs: testTexts, labels: testLabels } },
 *   retainedTask: { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts: passages } },
 *   grid: { ranks: [4], learningRates: [1e-3, 1e-2], steps: [50, 200], guards: [{ kind: 'none' }, { kind: 'l2-sp', strength: 0.1 }] },
 *   lora: { modulesToSave: ['classifier'] }, guardData: { general: sequences },
 * });
 * console.table(result.front.map((p) => ({ run: p.run, gain: p.gain, forgetting: p.forgetting })));
 * ```
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const used = resolve<UsedSweep>(SWEEP_PARAMS, options);
  const { model, grid } = options;
  const task = used.task;
  validateGrid(grid);
  if (!Array.isArray(options.train) || options.train.length === 0) throw invalid('no training examples.');
  if (!Number.isInteger(options.seed)) throw invalid(`seed must be an integer, got ${options.seed}.`);
  if (options.retainedTask.metric !== 'perplexity' && options.retainedTask.metric !== 'bits-per-character') throw invalid('the retained task must be a language task.');
  const runs = sweepRuns(grid);
  const kinds = new Set(runs.map((r) => r.guard.kind));
  const general = options.guardData?.general;
  if ((kinds.has('replay') || kinds.has('ewc') || (kinds.has('kl-to-base') && !options.guardData?.probe)) && !general?.length) {
    throw invalid('replay, EWC and KL-to-base need guardData.general (general-text token sequences).');
  }
  const probe = options.guardData?.probe ?? general?.slice(0, 16);
  const alphaPerRank = options.lora?.alphaPerRank ?? 2;
  const { alphaPerRank: _unused, ...loraRest } = options.lora ?? {};
  const bootstrap = { ...options.bootstrap, seed: options.bootstrap?.seed ?? (options.seed as Seed) };
  const evalBatchSize = used.evalBatchSize;
  const tasks: EvalTask<FinetuneInput>[] = [{ ...options.domainTask, kind: 'domain' } as EvalTask<FinetuneInput>, { ...options.retainedTask, kind: 'retained' }];
  const base = memoised(toEvalModel(model, { name: 'base', adapters: [], batchSize: evalBatchSize }));
  const progress = createProgressReporter('sweep', runs.length, options.onProgress, 0);
  let fisher: DiagonalFisher | null = null;

  const guardFor = (g: SweepGuard, adapterModules: readonly string[]): Guard | undefined => {
    switch (g.kind) {
      case 'none':
        return undefined;
      case 'l2-sp':
        return createL2SpGuard({ strength: g.strength });
      case 'kl-to-base':
        return createKlToBaseGuard(model, { probe: probe!, task: 'causal-lm', strength: g.strength, sequenceLength: used.sequenceLength });
      case 'replay':
        return createReplayGuard({ sequences: general!, weight: g.strength, batchSize: used.guardData.replayBatchSize, seed: options.seed, sequenceLength: used.sequenceLength });
      case 'ewc':
        // The base task's Fisher is a property of the base model alone: estimate it once, on the adapted modules.
        fisher ??= estimateDiagonalFisher(model, general!, 'causal-lm', {
          method: used.guardData.fisherMethod,
          maxExamples: used.guardData.fisherExamples,
          modules: adapterModules,
          seed: options.seed,
          sequenceLength: used.sequenceLength,
        });
        return createEwcGuard(fisher, { strength: g.strength });
    }
  };

  const points: SweepPoint[] = [];
  progress.tick(0);
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    // One name for every run (each is deleted before the next): LoRA init streams are keyed by adapter name too.
    const adapter = 'sweep';
    // Same init and batch order for every run of a rank: guard and schedule comparisons are paired, not confounded by seeds.
    attachAdapter(model, adapter, { ...loraRest, r: run.rank, alpha: alphaPerRank * run.rank }, { seed: `${options.seed}/r${run.rank}` });
    let guard: Guard | undefined;
    try {
      guard = guardFor(run.guard, getAdapterInfo(model, adapter).modules);
      const trained = await train(model, {
        task,
        train: options.train as TrainingExample[],
        seed: options.seed,
        epochs: 1_000_000,
        maxSteps: run.steps,
        batchSize: used.batchSize,
        learningRate: run.learningRate,
        sequenceLength: options.sequenceLength,
        ...(guard ? { extraLoss: guard } : {}),
      });
      const tuned = toEvalModel(model, { name: `run ${i}`, adapters: [adapter], batchSize: evalBatchSize });
      const table = await compareModels(base, tuned, tasks, { ...bootstrap, batchSize: evalBatchSize, drift: false });
      const [domain, retained] = table.rows as [TaskComparison, TaskComparison];
      if (!retained.relativeDelta) throw invalid('the retained metric of the base model is 0; relative forgetting is undefined.');
      const point: SweepPoint = {
        run: i,
        rank: run.rank,
        learningRate: run.learningRate,
        steps: run.steps,
        guard: run.guard.kind,
        guardStrength: run.guard.kind === 'none' ? 0 : run.guard.strength,
        gain: domain.higherIsBetter ? domain.delta.value : -domain.delta.value,
        gainCi: domain.higherIsBetter ? domain.delta.ci : { lower: -domain.delta.ci.upper, upper: -domain.delta.ci.lower, level: domain.delta.ci.level },
        forgetting: retained.relativeDelta.value,
        forgettingCi: retained.relativeDelta.ci,
        domain,
        retained,
        finalTrainLoss: trained.log.at(-1)?.loss ?? NaN,
        trainSeconds: trained.elapsedSeconds,
        trainableParameters: trained.trainableParameters,
      };
      points.push(point);
      await options.onRun?.(point);
      progress.tick(i + 1, { gain: point.gain, forgetting: point.forgetting }, `run ${i}: r ${run.rank}, lr ${run.learningRate}, ${run.steps} steps, ${run.guard.kind}`);
    } finally {
      guard?.dispose();
      deleteAdapter(model, adapter);
    }
  }
  const { front, indices } = learningForgettingFront(points);
  return {
    points,
    front,
    frontRuns: indices.map((k) => points[k]!.run),
    settings: {
      task,
      seed: options.seed,
      grid: { ranks: [...grid.ranks], learningRates: [...grid.learningRates], steps: [...grid.steps], guards: (grid.guards ?? [{ kind: 'none' }]).map((g) => ({ ...g })) },
      lora: { ...loraRest, alphaPerRank },
      batchSize: used.batchSize,
      sequenceLength: used.sequenceLength,
      trainExamples: options.train.length,
      domainTask: { name: options.domainTask.name, metric: options.domainTask.metric },
      retainedTask: { name: options.retainedTask.name, metric: options.retainedTask.metric },
      guardData: {
        general: general?.length ?? 0,
        probe: probe?.length ?? 0,
        replayBatchSize: used.guardData.replayBatchSize,
        fisherExamples: used.guardData.fisherExamples,
        fisherMethod: used.guardData.fisherMethod,
      },
      bootstrap,
    },
  };
}
