/**
 * The training loop: sequence classification and causal LM, full training or LoRA, deterministic and resumable.
 *
 * Every random choice is a function of `seed` and the step (batch order: data.ts; dropout masks: a seed per micro-batch),
 * so the same seed and data give the same weights byte for byte, and a run resumed from a checkpoint ends exactly where an
 * uninterrupted run ends. A non-finite loss or gradient stops training before the bad update, with the typed error
 * `TRAINING_NON_FINITE_LOSS` carrying a checkpoint of the last good state.
 */
import { ProvenantError, canonicalJson, createProgressReporter, sha256, utf8Bytes, type ProgressCallback } from '../../core/index.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Variable } from '../tf.js';
import type { EarlyStoppingState, TrainingCheckpoint, TrainingLogEntry } from './checkpoint.js';
import { createBatchPlan, disposeBatch, makeBatch, normalizeSources, type Batch, type DataSource, type TrainingExample, type TrainingTask } from './data.js';
import { validateTrainingExamples } from './validate-examples.js';
import { evaluateModel, taskLoss, type EvaluationMetrics } from './loss.js';
import { parameterGroups } from '../lora/adapter.js';
import { ensureBackend } from '../backend.js';
import { clipByGlobalNorm, createAdamW, globalNorm, type AdamWOptions, type ParameterGroup } from './optimizer.js';
import { learningRateFactor, validateSchedule, type LrSchedule } from './schedule.js';

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
  /** Passes over the primary source. Default 1. */
  epochs?: number;
  /** Stop after this many optimizer steps (whichever of epochs and maxSteps comes first). */
  maxSteps?: number;
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
  sequenceLength?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Batch size of validation passes. Default 64. */
  evalBatchSize?: number;
  extraLoss?: ExtraLoss;
  onStep?: (event: StepEvent) => void | Promise<void>;
  onEpoch?: (event: EpochEvent) => void | Promise<void>;
  /** The library-wide progress callback (stage 'train', done/total in steps, metrics loss, lr, gradNorm, examplesPerSecond); throttled to 5/s. */
  onProgress?: ProgressCallback;
  /** Take a checkpoint every this many steps (and at the end) and hand it to `onCheckpoint`. */
  checkpointEvery?: number;
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
  /** Settings in force (defaults filled in), for the audit record. */
  settings: Record<string, unknown>;
  parameterNames: string[];
  trainableParameters: number;
  elapsedSeconds: number;
  examplesPerSecond: number;
}

/** Every training option with its default and why, for the audit record. */
export const TRAINING_DEFAULTS: ReadonlyArray<{ field: string; default: unknown; reason: string }> = Object.freeze([
  { field: 'epochs', default: 1, reason: 'one pass is enough for small LoRA adapters; early stopping guards more' },
  { field: 'batchSize', default: 32, reason: 'fits the 2-core wasm budget; Adam is robust to it' },
  { field: 'gradientAccumulationSteps', default: 1, reason: 'raise it for larger effective batches without more memory' },
  { field: 'learningRate', default: 1e-3, reason: 'a common LoRA rate for small models (PEFT examples use 1e-4–3e-3)' },
  { field: 'schedule', default: { kind: 'constant', warmupSteps: 0 }, reason: 'no hidden decay unless asked' },
  { field: 'optimizer.beta1', default: 0.9, reason: 'Adam paper default' },
  { field: 'optimizer.beta2', default: 0.999, reason: 'Adam paper default' },
  { field: 'optimizer.epsilon', default: 1e-8, reason: 'Adam paper default' },
  { field: 'optimizer.weightDecay', default: 0.01, reason: "PyTorch AdamW default; not applied to biases and LayerNorm (rank-1) tensors" },
  { field: 'maxGradNorm', default: 1, reason: 'Hugging Face Trainer default; stops rare spikes from wrecking a run' },
  { field: 'earlyStopping.patience', default: 2, reason: 'stop after two epochs without validation improvement' },
  { field: 'earlyStopping.restoreBest', default: true, reason: 'return the weights that validated best' },
  { field: 'evalBatchSize', default: 64, reason: 'no gradients at eval, so larger batches are cheap' },
]);

/**
 * The stable name of each tensor a model could optimise, as C1's `parameterGroups` names them: base weights by their
 * PEFT-style name, adapters as `<module>.lora_A.<adapter>.weight` / `lora_B`.
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
  return new ProvenantError('TRAINING_CONFIG_INVALID', message, details ? { details } : {});
}

const positiveInt = (v: number) => Number.isInteger(v) && v > 0;

/** Seed of micro-batch k's dropout masks. */
const dropoutSeedOf = (seed: number, k: number) => (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;

/**
 * Trains `model` in place and returns the log.
 *
 * @example
 * ```ts
 * attachAdapter(model, 'default', { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
 * const result = await train(model, {
 *   task: 'classification', train: rows, validation: heldOut, seed: 1, epochs: 3,
 *   schedule: { kind: 'cosine', warmupSteps: 10 }, earlyStopping: { metric: 'accuracy', patience: 1 },
 *   onStep: (e) => console.log(e.step, e.loss.toFixed(3)),
 * });
 * ```
 */
export async function train(model: Model, options: TrainOptions): Promise<TrainResult> {
  await ensureBackend(); // the fastest backend when the program chose none (cpu trains ~6× slower than wasm)
  const started = performance.now();
  const task = options.task;
  if (task !== 'classification' && task !== 'causal-lm') throw invalid(`task must be "classification" or "causal-lm", got ${JSON.stringify(task)}.`);
  const batchSize = options.batchSize ?? 32;
  const accum = options.gradientAccumulationSteps ?? 1;
  const epochs = options.epochs ?? 1;
  const baseLr = options.learningRate ?? 1e-3;
  const schedule: LrSchedule = options.schedule ?? { kind: 'constant' };
  const maxGradNorm = options.maxGradNorm ?? 1;
  if (!positiveInt(batchSize)) throw invalid(`batchSize must be a positive integer, got ${batchSize}.`);
  if (!positiveInt(accum)) throw invalid(`gradientAccumulationSteps must be a positive integer, got ${accum}.`);
  if (!positiveInt(epochs)) throw invalid(`epochs must be a positive integer, got ${epochs}.`);
  if (options.maxSteps !== undefined && !positiveInt(options.maxSteps)) throw invalid(`maxSteps must be a positive integer, got ${options.maxSteps}.`);
  if (!(baseLr > 0) || !Number.isFinite(baseLr)) throw invalid(`learningRate must be positive, got ${baseLr}.`);
  if (!(maxGradNorm >= 0)) throw invalid(`maxGradNorm must be ≥ 0, got ${maxGradNorm}.`);
  if (!Number.isInteger(options.seed)) throw invalid(`seed must be an integer, got ${options.seed}.`);
  if (options.checkpointEvery !== undefined && !positiveInt(options.checkpointEvery)) throw invalid('checkpointEvery must be a positive integer.');
  validateSchedule(schedule);
  const es = options.earlyStopping;
  if (es && !options.validation?.length) throw invalid('earlyStopping needs validation examples.');
  const esMetric = es?.metric ?? 'loss';
  const esMode = es?.mode ?? (esMetric === 'accuracy' ? 'max' : 'min');
  const patience = es?.patience ?? 2;
  const restoreBest = es ? es.restoreBest ?? true : false;

  const sources = normalizeSources(options.train);
  validateTrainingExamples(model, task, sources, options.validation); // issue 13: bad labels/ids/features refused naming the example
  const plan = createBatchPlan(sources, batchSize, options.seed);
  const epochMicro = plan.microBatchesPerEpoch;
  let totalSteps = Math.ceil((epochs * epochMicro) / accum);
  if (options.maxSteps !== undefined) totalSteps = Math.min(totalSteps, options.maxSteps);
  const totalMicro = Math.min(epochs * epochMicro, totalSteps * accum);

  const groups = resolveGroups(model, options.parameters);
  if (groups.length === 0) {
    throw invalid('Nothing to train: no trainable weights or active adapters.', 'Attach an adapter, set base weights trainable (setBaseTrainable), or pass `parameters`.');
  }
  const variables = groups.map((g) => g.variable);
  const nameOf = new Map(groups.map((g) => [g.variable.name, g.name]));

  const settings = {
    task,
    seed: options.seed,
    epochs,
    maxSteps: options.maxSteps ?? null,
    totalSteps,
    batchSize,
    gradientAccumulationSteps: accum,
    learningRate: baseLr,
    schedule: { kind: schedule.kind, warmupSteps: schedule.warmupSteps ?? 0, minLrRatio: schedule.minLrRatio ?? 0 },
    optimizer: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, ...options.optimizer },
    maxGradNorm,
    sequenceLength: options.sequenceLength ?? null,
    earlyStopping: es ? { metric: esMetric, mode: esMode, patience, minDelta: es.minDelta ?? 0, restoreBest } : null,
    sources: sources.map((s) => ({ name: s.name, examples: s.examples.length, weight: s.weight })),
    validationExamples: options.validation?.length ?? 0,
    extraLoss: options.extraLoss ? options.extraLoss.name || 'custom' : null,
  };
  const fingerprint = sha256(
    utf8Bytes(canonicalJson({ ...settings, parameters: groups.map((g) => [g.name, g.variable.shape, g.lrMultiplier ?? 1, g.weightDecay ?? null]) })),
  );

  const optimizer = createAdamW(groups, options.optimizer);
  let step = 0;
  let log: TrainingLogEntry[] = [];
  let validations: TrainingCheckpoint['validations'] = [];
  let esState: EarlyStoppingState = { bestMetric: null, bestStep: null, badEpochs: 0, stopped: false };
  let best: Map<string, Tensor> | null = null;

  const snapshotBest = () => {
    if (best) for (const t of best.values()) t.dispose();
    best = new Map(groups.map((g) => [g.name, tf.keep(g.variable.clone())]));
  };
  const makeCheckpoint = (): TrainingCheckpoint => ({
    format: 'provenant-training-checkpoint',
    version: 1,
    step,
    fingerprint,
    parameters: Object.fromEntries(groups.map((g) => [g.name, { shape: [...g.variable.shape], data: g.variable.dataSync() as Float32Array }])),
    optimizer: optimizer.getState(),
    best: best ? Object.fromEntries([...best].map(([k, t]) => [k, t.dataSync() as Float32Array])) : null,
    earlyStopping: { ...esState },
    validations: validations.map((v) => ({ ...v, metrics: { ...v.metrics } })),
    log: log.map((e) => ({ ...e })),
  });

  try {
    if (options.resumeFrom) {
      const ckpt = options.resumeFrom;
      if (ckpt.fingerprint !== fingerprint) {
        throw new ProvenantError('CHECKPOINT_INVALID', 'The checkpoint was made with different training settings; resuming would not reproduce the run.', {
          data: { checkpoint: ckpt.fingerprint, current: fingerprint },
        });
      }
      for (const g of groups) {
        const p = ckpt.parameters[g.name];
        if (!p || p.data.length !== g.variable.size) throw new ProvenantError('CHECKPOINT_INVALID', `Checkpoint lacks parameter "${g.name}" or its size differs.`);
        tf.tidy(() => g.variable.assign(tf.tensor(p.data, g.variable.shape, 'float32')));
      }
      optimizer.setState(ckpt.optimizer);
      step = ckpt.step;
      log = ckpt.log.map((e) => ({ ...e }));
      validations = ckpt.validations.map((v) => ({ ...v, metrics: { ...v.metrics } }));
      esState = { ...ckpt.earlyStopping };
      if (ckpt.best) best = new Map(groups.map((g) => [g.name, tf.keep(tf.tensor(ckpt.best![g.name]!, g.variable.shape, 'float32'))]));
    }

    let epochLossSum = 0;
    let epochSteps = 0;
    const progress = createProgressReporter('train', totalSteps, options.onProgress);
    while (step < totalSteps && !esState.stopped) {
      const t0 = performance.now();
      const accumulated = new Map<string, Tensor>();
      let lossSum = 0;
      let micro = 0;
      let examples = 0;
      for (let j = 0; j < accum; j++) {
        const k = step * accum + j;
        if (k >= totalMicro) break;
        const pairs = plan.examplesOf(k);
        const batch = makeBatch(
          model,
          task,
          pairs.map(([s, i]) => sources[s]!.examples[i]!),
          pairs.map(([s]) => s),
          options.sequenceLength,
        );
        const stepIndex = step;
        const { value, grads } = tf.variableGrads(() => {
          let loss = taskLoss(model, task, batch, { training: true, dropoutSeed: dropoutSeedOf(options.seed, k) });
          const extra = options.extraLoss?.({ model, task, batch, step: stepIndex });
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
        const checkpoint = makeCheckpoint();
        throw new ProvenantError('TRAINING_NON_FINITE_LOSS', `Training loss became non-finite at step ${step + 1} (loss ${loss}, gradient norm ${gradNorm}).`, {
          details: 'Lower the learning rate, enable gradient clipping (maxGradNorm), or check the data for extreme values. The last good state is in error.data.checkpoint.',
          data: { step: step + 1, loss, gradNorm, checkpoint },
        });
      }
      clipByGlobalNorm(accumulated, gradNorm, maxGradNorm);
      const lr = baseLr * learningRateFactor(step, totalSteps, schedule);
      optimizer.apply(accumulated, lr);
      for (const g of accumulated.values()) g.dispose();
      const epochBefore = Math.floor((step * accum) / epochMicro);
      step += 1;
      const consumed = Math.min(step * accum, totalMicro);
      const ms = performance.now() - t0;
      const entry: TrainingLogEntry = { step, epoch: consumed / epochMicro, loss, lr, gradNorm, examples, ms };
      log.push(entry);
      epochLossSum += loss;
      epochSteps += 1;
      if (options.onStep || options.onProgress) {
        const recent = log.slice(-20);
        const meanMs = recent.reduce((a, e) => a + e.ms, 0) / recent.length;
        const meanExamples = recent.reduce((a, e) => a + e.examples, 0) / recent.length;
        progress.tick(step, { loss, lr, gradNorm, examplesPerSecond: (meanExamples * 1000) / meanMs });
        await options.onStep?.({
          step,
          totalSteps,
          epoch: entry.epoch,
          loss,
          lr,
          gradNorm,
          examplesPerSecond: (meanExamples * 1000) / meanMs,
          etaSeconds: ((totalSteps - step) * meanMs) / 1000,
        });
      }
      const epochAfter = Math.floor(consumed / epochMicro);
      if (epochAfter > epochBefore || step === totalSteps) {
        const epochNumber = Math.max(epochAfter, epochBefore + (step === totalSteps ? 1 : 0));
        let validation: EvaluationMetrics | undefined;
        if (options.validation?.length) {
          validation = evaluateModel(model, task, options.validation, { batchSize: options.evalBatchSize ?? 64, sequenceLength: options.sequenceLength });
          validations.push({ epoch: epochNumber, step, metrics: { ...(validation as unknown as Record<string, number>) } });
          if (es) {
            const value = validation[esMetric];
            if (value === undefined) throw invalid(`Early-stopping metric "${esMetric}" does not exist for task ${task}.`);
            const minDelta = es.minDelta ?? 0;
            const improved = esState.bestMetric === null || (esMode === 'min' ? value < esState.bestMetric - minDelta : value > esState.bestMetric + minDelta);
            if (improved) {
              esState = { ...esState, bestMetric: value, bestStep: step, badEpochs: 0 };
              if (restoreBest) snapshotBest();
            } else {
              esState = { ...esState, badEpochs: esState.badEpochs + 1 };
              if (esState.badEpochs >= patience) esState = { ...esState, stopped: true };
            }
          }
        }
        await options.onEpoch?.({ epoch: epochNumber, step, trainLoss: epochLossSum / Math.max(1, epochSteps), validation, stopping: esState.stopped });
        epochLossSum = 0;
        epochSteps = 0;
      }
      if (options.onCheckpoint && options.checkpointEvery && (step % options.checkpointEvery === 0 || step === totalSteps || esState.stopped)) {
        await options.onCheckpoint(makeCheckpoint());
      }
    }
    if (restoreBest && best) {
      const kept = best as Map<string, Tensor>;
      for (const g of groups) g.variable.assign(kept.get(g.name)!);
    }
    const elapsedSeconds = (performance.now() - started) / 1000;
    const trainedExamples = log.reduce((a, e) => a + e.examples, 0);
    const trainedMs = log.reduce((a, e) => a + e.ms, 0);
    return {
      log,
      steps: step,
      totalSteps,
      epochs: Math.min(step * accum, totalMicro) / epochMicro,
      stoppedEarly: esState.stopped,
      bestMetric: esState.bestMetric,
      bestStep: esState.bestStep,
      validations,
      settings,
      parameterNames: groups.map((g) => g.name),
      trainableParameters: variables.reduce((a, v) => a + v.size, 0),
      elapsedSeconds,
      examplesPerSecond: trainedMs > 0 ? (trainedExamples * 1000) / trainedMs : 0,
    };
  } finally {
    optimizer.dispose();
    if (best) for (const t of (best as Map<string, Tensor>).values()) t.dispose();
  }
}
