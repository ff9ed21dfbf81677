/**
 * The training loop: sequence classification and causal LM, full training or LoRA, deterministic and resumable.
 *
 * Every random choice is a function of `seed` and the step (batch order: data.ts; dropout masks: a seed per micro-batch),
 * so the same seed and data give the same weights byte for byte, and a run resumed from a checkpoint ends exactly where an
 * uninterrupted run ends. A non-finite loss or gradient stops training before the bad update, with the typed error
 * `TRAINING_NON_FINITE_LOSS` carrying a checkpoint of the last good state.
 */
import { ProvenantError, canonicalJson, createProgressReporter, describe, resolve, sha256, utf8Bytes, type ProgressCallback } from '../../core/index.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import type { EarlyStoppingState, TrainingCheckpoint, TrainingLogEntry } from './checkpoint.js';
import { createBatchPlan, disposeBatch, makeBatch, normalizeSources, type Batch, type DataSource, type TrainingExample, type TrainingTask } from './data.js';
import { validateTrainingExamples } from './validate-examples.js';
import { evaluateModel, taskLoss, type EvaluationMetrics } from './loss.js';
import { parameterGroups } from '../lora/adapter.js';
import { ensureBackend } from '../backend.js';
import { clipByGlobalNorm, createAdamW, globalNorm, type AdamW, type AdamWOptions, type ParameterGroup } from './optimizer.js';
import { learningRateFactor, type LrSchedule } from './schedule.js';
import { TRAINING_PARAMS, type ResolvedEarlyStopping, type TrainingParams } from './train-params.js';

/** What an `extraLoss` hook sees (issue 4's forgetting guards: L2-SP, KL-to-base, EWC plug in here). */
export interface ExtraLossContext {
  model: Model;
  task: TrainingTask;
  /** The micro-batch being trained on. */
  batch: Batch;
  /** Optimizer step (0-based) this micro-batch contributes to. */
  step: number;
}

/** A penalty added to the task loss inside the gradient computation. Return a scalar (it is differentiated), or null. */
export type ExtraLoss = (context: ExtraLossContext) => tf.Scalar | null;

export interface EarlyStoppingOptions {
  /** Validation metric to watch. Default 'loss'. */
  metric?: 'loss' | 'accuracy' | 'perplexity';
  /** Default: 'max' for accuracy, 'min' otherwise. */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. Default 2. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the best epoch's weights when training ends. Default true. */
  restoreBest?: boolean;
}

export interface StepEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  examplesPerSecond: number;
  etaSeconds: number;
}

export interface EpochEvent {
  /** Epochs completed (1-based). */
  epoch: number;
  step: number;
  /** Mean training loss over the epoch's steps. */
  trainLoss: number;
  validation?: EvaluationMetrics;
  /** True when early stopping ends training after this epoch. */
  stopping: boolean;
}

export interface TrainOptions {
  task: TrainingTask;
  /** Training examples, or several weighted sources (mixed batches; the first source defines an epoch). */
  train: readonly TrainingExample[] | readonly DataSource[];
  validation?: readonly TrainingExample[];
  /** Seed of batch order and dropout masks. */
  seed: number;
  /** Passes over the primary source. Default 1, or with `maxSteps` as many as it needs (transformers' `max_steps`). */
  epochs?: number | null;
  /** Optimizer steps: alone, exactly this many (the data cycled); with explicit `epochs`, whichever comes first. */
  maxSteps?: number | null;
  /** Examples per micro-batch. Default 32. */
  batchSize?: number;
  /** Micro-batches whose mean gradient makes one optimizer step. Default 1. */
  gradientAccumulationSteps?: number;
  /** Peak learning rate. Default 1e-3. */
  learningRate?: number;
  /** Default constant, no warm-up. */
  schedule?: LrSchedule;
  optimizer?: AdamWOptions;
  /** Clip the global gradient norm to this; 0 or Infinity disables. Default 1.0. */
  maxGradNorm?: number;
  /**
   * What to optimise. Default: every trainable base weight (`weight.trainable`) and the A, B of every active, unmerged,
   * trainable adapter — i.e. all weights for full training, the adapters (plus `modulesToSave`) after attaching LoRA.
   * Pass C1's `parameterGroups(model)` to get LoRA+ learning-rate multipliers; unnamed groups are named by `parameterName`.
   */
  parameters?: ReadonlyArray<ParameterGroup | Omit<ParameterGroup, 'name'>>;
  /**
   * Transformer: cap on the sequence length, default the model's maxSeqLen. For classification it may be larger: longer
   * inputs are read in windows of maxSeqLen tokens and pooled together.
   */
  sequenceLength?: number | null;
  /** Off unless given (`true` = every default). */
  earlyStopping?: EarlyStoppingOptions | boolean | null;
  /** Batch size of validation passes. Default 64. */
  evalBatchSize?: number;
  extraLoss?: ExtraLoss;
  onStep?: (event: StepEvent) => void | Promise<void>;
  onEpoch?: (event: EpochEvent) => void | Promise<void>;
  /** The library-wide progress callback (stage 'train', done/total in steps, metrics loss, lr, gradNorm, examplesPerSecond); throttled to 5/s. */
  onProgress?: ProgressCallback;
  /** Take a checkpoint every this many steps (and at the end) and hand it to `onCheckpoint`. */
  checkpointEvery?: number | null;
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
  /** Continue from this checkpoint (the same options otherwise; checked by fingerprint). */
  resumeFrom?: TrainingCheckpoint;
}

export interface TrainResult {
  log: TrainingLogEntry[];
  steps: number;
  totalSteps: number;
  epochs: number;
  stoppedEarly: boolean;
  bestMetric: number | null;
  bestStep: number | null;
  validations: TrainingCheckpoint['validations'];
  /** The parameters the loop used, resolved by `TRAINING_PARAMS`: the audit record prints `describe(TRAINING_PARAMS, used)`. */
  used: TrainingParams;
  /** A summary of the settings (parameters plus data sizes and the extra loss's name), hashed into checkpoints. */
  settings: Record<string, unknown>;
  parameterNames: string[];
  trainableParameters: number;
  elapsedSeconds: number;
  examplesPerSecond: number;
}

/**
 * Every training option with its default and why — derived from `TRAINING_PARAMS` (kept for callers of the old table; the
 * audit record prints `describe(TRAINING_PARAMS, result.used)`).
 */
export const TRAINING_DEFAULTS: ReadonlyArray<{ field: string; default: unknown; reason: string }> = Object.freeze(
  describe(TRAINING_PARAMS, resolve(TRAINING_PARAMS, { task: 'classification', seed: 0, earlyStopping: true }), '')
    .filter((row) => row.name !== 'task' && row.name !== 'seed')
    .map((row) => ({ field: row.name, default: row.default, reason: row.meaning })),
);

/**
 * The stable name of each tensor a model could optimise, as C1's `parameterGroups` names them: base weights by their
 * PEFT-style name, adapters as `<module>.lora_A.<adapter>.weight` / `lora_B`.
 *
 * @example
 * ```ts
 * import { namedParameters, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * [...namedParameters(model).keys()]; // ['classifier.weight', …, 'layers.0.attn.q_proj.lora_A.default.weight', …]
 * ```
 */
export function namedParameters(model: Model): Map<string, Variable> {
  const out = new Map<string, Variable>(model.weights);
  for (const linear of model.linears.values()) {
    for (const [adapter, w] of linear.adapters) {
      out.set(`${linear.name}.lora_A.${adapter}.weight`, w.A);
      out.set(`${linear.name}.lora_B.${adapter}.weight`, w.B);
    }
  }
  return out;
}

/**
 * The default trainable set (see `TrainOptions.parameters`): the adapter API's `parameterGroups(model)` — trainable base
 * weights (all of them for full training, `modulesToSave` after attaching LoRA) and the A, B of active, unmerged adapters,
 * with LoRA+ multipliers on B; rank-1 tensors (biases, LayerNorm) get no weight decay.
 *
 * @example
 * ```ts
 * import { defaultParameterGroups, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * defaultParameterGroups(model).map((g) => [g.name, g.lrMultiplier ?? 1]);
 * ```
 */
export function defaultParameterGroups(model: Model): ParameterGroup[] {
  return parameterGroups(model);
}

function resolveGroups(model: Model, given: TrainOptions['parameters']): ParameterGroup[] {
  if (!given) return defaultParameterGroups(model);
  const byVariable = new Map<Variable, string>();
  for (const [name, v] of namedParameters(model)) byVariable.set(v, name);
  return given.map((g, i) => {
    const name = 'name' in g && g.name ? g.name : byVariable.get(g.variable) ?? `param_${i}`;
    return { ...g, name };
  });
}

function invalid(message: string, details?: string): ProvenantError {
  return new ProvenantError('TRAINING_CONFIG_INVALID', message, { ...(details ? { details } : {}), docsPath: '#training-parameters' });
}

/** Seed of micro-batch k's dropout masks. */
const dropoutSeedOf = (seed: number, k: number) => (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;

/** What one run holds while it trains: the resolved parameters, the data plan, the optimiser and the state callbacks share. */
interface TrainState {
  readonly model: Model;
  readonly used: TrainingParams;
  readonly options: TrainOptions;
  readonly sources: DataSource[];
  readonly plan: ReturnType<typeof createBatchPlan>;
  readonly groups: ParameterGroup[];
  readonly nameOf: Map<string, string>;
  readonly optimizer: AdamW;
  readonly totalSteps: number;
  readonly totalMicro: number;
  readonly fingerprint: string;
  step: number;
  log: TrainingLogEntry[];
  validations: TrainingCheckpoint['validations'];
  esState: EarlyStoppingState;
  best: Map<string, Tensor> | null;
}

/**
 * A hook of the training loop. `train` is one step function plus a list of these: progress, early stopping and
 * checkpoints are each one callback, run in that order after every step and at every epoch end.
 */
interface TrainCallback {
  afterStep?(state: TrainState, entry: TrainingLogEntry): void | Promise<void>;
  afterEpoch?(state: TrainState, event: Omit<EpochEvent, 'stopping'>): void | Promise<void>;
}

function makeCheckpoint(state: TrainState): TrainingCheckpoint {
  const { groups, best } = state;
  return {
    format: 'provenant-training-checkpoint',
    version: 1,
    step: state.step,
    fingerprint: state.fingerprint,
    parameters: Object.fromEntries(groups.map((g) => [g.name, { shape: [...g.variable.shape], data: g.variable.dataSync() as Float32Array }])),
    optimizer: state.optimizer.getState(),
    best: best ? Object.fromEntries([...best].map(([k, t]) => [k, t.dataSync() as Float32Array])) : null,
    earlyStopping: { ...state.esState },
    validations: state.validations.map((v) => ({ ...v, metrics: { ...v.metrics } })),
    log: state.log.map((e) => ({ ...e })),
  };
}

function restoreCheckpoint(state: TrainState, ckpt: TrainingCheckpoint): void {
  if (ckpt.fingerprint !== state.fingerprint) {
    throw new ProvenantError('CHECKPOINT_INVALID', 'The checkpoint was made with different training settings; resuming would not reproduce the run.', {
      data: { checkpoint: ckpt.fingerprint, current: state.fingerprint },
    });
  }
  for (const g of state.groups) {
    const p = ckpt.parameters[g.name];
    if (!p || p.data.length !== g.variable.size) throw new ProvenantError('CHECKPOINT_INVALID', `Checkpoint lacks parameter "${g.name}" or its size differs.`);
    tf.tidy(() => g.variable.assign(tf.tensor(p.data, g.variable.shape, 'float32')));
  }
  state.optimizer.setState(ckpt.optimizer);
  state.step = ckpt.step;
  state.log = ckpt.log.map((e) => ({ ...e }));
  state.validations = ckpt.validations.map((v) => ({ ...v, metrics: { ...v.metrics } }));
  state.esState = { ...ckpt.earlyStopping };
  if (ckpt.best) state.best = new Map(state.groups.map((g) => [g.name, tf.keep(tf.tensor(ckpt.best![g.name]!, g.variable.shape, 'float32'))]));
}

/**
 * One optimizer step: the mean gradient over `gradientAccumulationSteps` micro-batches (task loss plus `extraLoss`),
 * a non-finite check before anything changes, clipping, then the AdamW update at the scheduled rate. Returns its log entry.
 */
function trainStep(state: TrainState): TrainingLogEntry {
  const { model, used, options, sources, plan, nameOf, groups } = state;
  const accum = used.gradientAccumulationSteps;
  const variables = groups.map((g) => g.variable);
  const t0 = performance.now();
  const accumulated = new Map<string, Tensor>();
  let lossSum = 0;
  let micro = 0;
  let examples = 0;
  for (let j = 0; j < accum; j++) {
    const k = state.step * accum + j;
    if (k >= state.totalMicro) break;
    const pairs = plan.examplesOf(k);
    const batch = makeBatch(model, used.task, pairs.map(([s, i]) => sources[s]!.examples[i]!), pairs.map(([s]) => s), used.sequenceLength ?? undefined);
    const stepIndex = state.step;
    const { value, grads } = tf.variableGrads(() => {
      let loss = taskLoss(model, used.task, batch, { training: true, dropoutSeed: dropoutSeedOf(used.seed, k) });
      const extra = options.extraLoss?.({ model, task: used.task, batch, step: stepIndex });
      if (extra) loss = loss.add(extra);
      return loss;
    }, variables);
    lossSum += value.dataSync()[0]!;
    value.dispose();
    for (const [varName, g] of Object.entries(grads)) {
      const name = nameOf.get(varName)!;
      const previous = accumulated.get(name);
      if (previous) {
        accumulated.set(name, tf.add(previous, g));
        previous.dispose();
        g.dispose();
      } else accumulated.set(name, g);
    }
    examples += batch.size;
    disposeBatch(batch);
    micro += 1;
  }
  if (micro > 1) {
    for (const [name, g] of accumulated) {
      accumulated.set(name, tf.tidy(() => g.div(micro)));
      g.dispose();
    }
  }
  const loss = lossSum / micro;
  const gradNorm = globalNorm(accumulated.values());
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    for (const g of accumulated.values()) g.dispose();
    // The bad update was not applied: the model still holds the last good weights, and so does this checkpoint.
    const checkpoint = makeCheckpoint(state);
    throw new ProvenantError('TRAINING_NON_FINITE_LOSS', `Training loss became non-finite at step ${state.step + 1} (loss ${loss}, gradient norm ${gradNorm}).`, {
      details: 'Lower the learning rate, enable gradient clipping (maxGradNorm), or check the data for extreme values. The last good state is in error.data.checkpoint.',
      data: { step: state.step + 1, loss, gradNorm, checkpoint },
      docsPath: '#training-parameters',
    });
  }
  clipByGlobalNorm(accumulated, gradNorm, used.maxGradNorm);
  const lr = used.learningRate * learningRateFactor(state.step, state.totalSteps, used.schedule);
  state.optimizer.apply(accumulated, lr);
  for (const g of accumulated.values()) g.dispose();
  state.step += 1;
  const consumed = Math.min(state.step * accum, state.totalMicro);
  const entry: TrainingLogEntry = { step: state.step, epoch: consumed / plan.microBatchesPerEpoch, loss, lr, gradNorm, examples, ms: performance.now() - t0 };
  state.log.push(entry);
  return entry;
}

/** Progress: the library-wide `onProgress` (throttled) and the per-step `onStep` event, with a rate over the last 20 steps. */
function progressCallback(options: TrainOptions, totalSteps: number): TrainCallback {
  const progress = createProgressReporter('train', totalSteps, options.onProgress);
  return {
    async afterStep(state, entry) {
      if (!options.onStep && !options.onProgress) return;
      const recent = state.log.slice(-20);
      const meanMs = recent.reduce((a, e) => a + e.ms, 0) / recent.length;
      const meanExamples = recent.reduce((a, e) => a + e.examples, 0) / recent.length;
      const examplesPerSecond = (meanExamples * 1000) / meanMs;
      progress.tick(entry.step, { loss: entry.loss, lr: entry.lr, gradNorm: entry.gradNorm, examplesPerSecond });
      await options.onStep?.({
        step: entry.step,
        totalSteps,
        epoch: entry.epoch,
        loss: entry.loss,
        lr: entry.lr,
        gradNorm: entry.gradNorm,
        examplesPerSecond,
        etaSeconds: ((totalSteps - entry.step) * meanMs) / 1000,
      });
    },
  };
}

/** Early stopping: after each validated epoch, keep the best metric (and weights), stop after `patience` bad epochs. */
function earlyStoppingCallback(es: ResolvedEarlyStopping): TrainCallback {
  return {
    afterEpoch(state, { validation }) {
      if (!validation) return;
      const value = validation[es.metric];
      if (value === undefined) throw invalid(`Early-stopping metric "${es.metric}" does not exist for task ${state.used.task}.`);
      const bestMetric = state.esState.bestMetric;
      const improved = bestMetric === null || (es.mode === 'min' ? value < bestMetric - es.minDelta : value > bestMetric + es.minDelta);
      if (improved) {
        state.esState = { ...state.esState, bestMetric: value, bestStep: state.step, badEpochs: 0 };
        if (es.restoreBest) {
          if (state.best) for (const t of state.best.values()) t.dispose();
          state.best = new Map(state.groups.map((g) => [g.name, tf.keep(g.variable.clone())]));
        }
      } else {
        state.esState = { ...state.esState, badEpochs: state.esState.badEpochs + 1 };
        if (state.esState.badEpochs >= es.patience) state.esState = { ...state.esState, stopped: true };
      }
    },
  };
}

/** Checkpoints: every `every` steps, at the last step, and when early stopping ends the run. */
function checkpointCallback(every: number, onCheckpoint: NonNullable<TrainOptions['onCheckpoint']>): TrainCallback {
  return {
    async afterStep(state) {
      // Runs after the epoch callbacks (see `train`), so a checkpoint taken at an epoch end holds that epoch's validation.
      if (state.step % every === 0 || state.step === state.totalSteps || state.esState.stopped) await onCheckpoint(makeCheckpoint(state));
    },
  };
}

/** The fingerprint of everything that shapes the trajectory (a resumed run must match it). */
function trainingFingerprint(used: TrainingParams, totalSteps: number, sources: DataSource[], options: TrainOptions, groups: ParameterGroup[]): string {
  const settings = trainingSettings(used, totalSteps, sources, options);
  return sha256(utf8Bytes(canonicalJson({ ...settings, parameters: groups.map((g) => [g.name, g.variable.shape, g.lrMultiplier ?? 1, g.weightDecay ?? null]) })));
}

/** The summary of a run's settings kept in `TrainResult.settings` and hashed into checkpoints (shape kept for old checkpoints). */
function trainingSettings(used: TrainingParams, totalSteps: number, sources: DataSource[], options: TrainOptions): Record<string, unknown> {
  const { earlyStopping: es } = used;
  return {
    task: used.task,
    seed: used.seed,
    epochs: used.epochs,
    maxSteps: used.maxSteps,
    totalSteps,
    batchSize: used.batchSize,
    gradientAccumulationSteps: used.gradientAccumulationSteps,
    learningRate: used.learningRate,
    schedule: { ...used.schedule },
    optimizer: { ...used.optimizer },
    maxGradNorm: used.maxGradNorm,
    sequenceLength: used.sequenceLength,
    earlyStopping: es ? { metric: es.metric, mode: es.mode, patience: es.patience, minDelta: es.minDelta, restoreBest: es.restoreBest } : null,
    sources: sources.map((s) => ({ name: s.name, examples: s.examples.length, weight: s.weight })),
    validationExamples: options.validation?.length ?? 0,
    extraLoss: options.extraLoss ? options.extraLoss.name || 'custom' : null,
  };
}

/**
 * Trains `model` in place and returns the log: one `trainStep` per optimizer step, then the callbacks (progress, then at
 * an epoch end validation, early stopping and `onEpoch`, then checkpoints). Options are resolved by `TRAINING_PARAMS`;
 * the resolved object is returned as `used`, the one the audit record describes.
 *
 * Units: `learningRate` per optimizer step; `batchSize` examples; `maxSteps`, `checkpointEvery` optimizer steps.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` for an unknown option (with the nearest name: `lr` → `learningRate`)
 *   or out-of-range values (all named at once), early stopping without validation data, or nothing to train;
 *   `TRAINING_NON_FINITE_LOSS` (with the last good checkpoint in `data.checkpoint`) when the loss or gradient is not finite;
 *   `CHECKPOINT_INVALID` when `resumeFrom` was made with other settings.
 * @example
 * ```ts
 * import { attachAdapter, train, type Model, type TrainingExample, type DataSource } from 'provenant/finetune';
 * declare const model: Model;
 * declare const rows: readonly TrainingExample[] | readonly DataSource[];
 * declare const heldOut: readonly TrainingExample[];
 * attachAdapter(model, 'default', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
 * const result = await train(model, {
 *   task: 'classification', train: rows, validation: heldOut, seed: 1, epochs: 3,
 *   schedule: { kind: 'cosine', warmupSteps: 10 }, earlyStopping: { metric: 'accuracy', patience: 1 },
 *   onStep: (e) => console.log(e.step, e.loss.toFixed(3)),
 * });
 * result.used.learningRate; // 0.001 (the default, read from TRAINING_PARAMS)
 * ```
 */
export async function train(model: Model, options: TrainOptions): Promise<TrainResult> {
  await ensureBackend(); // the fastest backend when the program chose none (cpu trains ~6× slower than wasm)
  const started = performance.now();
  const resolved = resolve<Omit<TrainingParams, 'epochs'> & { epochs: number | null }>(TRAINING_PARAMS, options);
  if (resolved.earlyStopping && !options.validation?.length) throw invalid('earlyStopping needs validation examples.');
  const sources = normalizeSources(options.train);
  validateTrainingExamples(model, resolved.task, sources, options.validation); // issue 13: bad labels/ids/features refused naming the example
  const plan = createBatchPlan(sources, resolved.batchSize, resolved.seed);
  const epochMicro = plan.microBatchesPerEpoch;
  const accum = resolved.gradientAccumulationSteps;
  // epochs left unset: 1, or with maxSteps the passes maxSteps needs (transformers: max_steps overrides
  // num_train_epochs). `used` records the number that ran.
  const epochs = resolved.epochs ?? (resolved.maxSteps !== null ? Math.max(1, Math.ceil((resolved.maxSteps * accum) / epochMicro)) : 1);
  const used: TrainingParams = { ...resolved, epochs };
  let totalSteps = Math.ceil((used.epochs * epochMicro) / accum);
  if (used.maxSteps !== null) totalSteps = Math.min(totalSteps, used.maxSteps);
  const totalMicro = Math.min(used.epochs * epochMicro, totalSteps * accum);
  const groups = resolveGroups(model, options.parameters);
  if (groups.length === 0) {
    throw invalid('Nothing to train: no trainable weights or active adapters.', 'Attach an adapter, set base weights trainable (setBaseTrainable), or pass `parameters`.');
  }
  const state: TrainState = {
    model, used, options, sources, plan, groups, totalSteps, totalMicro,
    nameOf: new Map(groups.map((g) => [g.variable.name, g.name])),
    optimizer: createAdamW(groups, used.optimizer),
    fingerprint: trainingFingerprint(used, totalSteps, sources, options, groups),
    step: 0, log: [], validations: [], best: null,
    esState: { bestMetric: null, bestStep: null, badEpochs: 0, stopped: false },
  };
  const stepCallbacks = [progressCallback(options, totalSteps)];
  const epochCallbacks = used.earlyStopping ? [earlyStoppingCallback(used.earlyStopping)] : [];
  const lateCallbacks = options.onCheckpoint && used.checkpointEvery ? [checkpointCallback(used.checkpointEvery, options.onCheckpoint)] : [];
  try {
    if (options.resumeFrom) restoreCheckpoint(state, options.resumeFrom);
    let epochLossSum = 0;
    let epochSteps = 0;
    while (state.step < totalSteps && !state.esState.stopped) {
      const epochBefore = Math.floor((state.step * accum) / epochMicro);
      const entry = trainStep(state);
      epochLossSum += entry.loss;
      epochSteps += 1;
      for (const callback of stepCallbacks) await callback.afterStep?.(state, entry);
      const epochAfter = Math.floor(Math.min(state.step * accum, totalMicro) / epochMicro);
      if (epochAfter > epochBefore || state.step === totalSteps) {
        const epoch = Math.max(epochAfter, epochBefore + (state.step === totalSteps ? 1 : 0));
        let validation: EvaluationMetrics | undefined;
        if (options.validation?.length) {
          validation = evaluateModel(model, used.task, options.validation, { batchSize: used.evalBatchSize, sequenceLength: used.sequenceLength ?? undefined });
          state.validations.push({ epoch, step: state.step, metrics: { ...(validation as unknown as Record<string, number>) } });
        }
        const event = { epoch, step: state.step, trainLoss: epochLossSum / Math.max(1, epochSteps), validation };
        for (const callback of epochCallbacks) await callback.afterEpoch?.(state, event);
        await options.onEpoch?.({ ...event, stopping: state.esState.stopped });
        epochLossSum = 0;
        epochSteps = 0;
      }
      for (const callback of lateCallbacks) await callback.afterStep?.(state, entry);
    }
    return finishTraining(state, started);
  } finally {
    state.optimizer.dispose();
    if (state.best) for (const t of state.best.values()) t.dispose();
  }
}

function finishTraining(state: TrainState, started: number): TrainResult {
  const { used, groups, log, plan } = state;
  if (used.earlyStopping?.restoreBest && state.best) for (const g of groups) g.variable.assign(state.best.get(g.name)!);
  const trainedExamples = log.reduce((a, e) => a + e.examples, 0);
  const trainedMs = log.reduce((a, e) => a + e.ms, 0);
  return {
    log,
    steps: state.step,
    totalSteps: state.totalSteps,
    epochs: Math.min(state.step * used.gradientAccumulationSteps, state.totalMicro) / plan.microBatchesPerEpoch,
    stoppedEarly: state.esState.stopped,
    bestMetric: state.esState.bestMetric,
    bestStep: state.esState.bestStep,
    validations: state.validations,
    used,
    settings: trainingSettings(used, state.totalSteps, state.sources, state.options),
    parameterNames: groups.map((g) => g.name),
    trainableParameters: groups.reduce((a, g) => a + g.variable.size, 0),
    elapsedSeconds: (performance.now() - started) / 1000,
    examplesPerSecond: trainedMs > 0 ? (trainedExamples * 1000) / trainedMs : 0,
  };
}
