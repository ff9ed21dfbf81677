/**
 * Every parameter of `train` in one table (see `core/params.ts`): its default, what it does, and its valid range.
 * `train` resolves its options with this table and returns the resolved object as `TrainResult.used`; the audit record
 * prints `describe(TRAINING_PARAMS, used)`, so the record shows exactly what the loop used.
 */
import { checks, type ParamCheck, type ParamTable } from '../../core/index.js';
import { ADAMW_PARAMS, type AdamWOptions } from './optimizer.js';
import { SCHEDULE_PARAMS, type ResolvedLrSchedule } from './schedule.js';
import type { TrainingTask } from './data.js';

/** Early stopping with every field resolved. */
export interface ResolvedEarlyStopping {
  metric: 'loss' | 'accuracy' | 'perplexity';
  mode: 'min' | 'max';
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

/** The training parameters `train` used, every field resolved (`TrainResult.used`). */
export interface TrainingParams {
  task: TrainingTask;
  seed: number;
  epochs: number;
  maxSteps: number | null;
  batchSize: number;
  gradientAccumulationSteps: number;
  learningRate: number;
  schedule: ResolvedLrSchedule;
  optimizer: Required<AdamWOptions>;
  maxGradNorm: number;
  sequenceLength: number | null;
  earlyStopping: ResolvedEarlyStopping | null;
  evalBatchSize: number;
  checkpointEvery: number | null;
}

const nonNegative: ParamCheck = (v) => (typeof v === 'number' && v >= 0 ? null : `must be a number ≥ 0 (Infinity or 0 disables clipping), got ${String(v)}`);

export const EARLY_STOPPING_PARAMS: ParamTable = Object.freeze({
  name: 'earlyStopping',
  code: 'TRAINING_CONFIG_INVALID',
  docsPath: '#training-parameters',
  fields: [
    { name: 'metric', default: 'loss', meaning: 'Validation metric watched after each epoch.', check: checks.oneOf(['loss', 'accuracy', 'perplexity']) },
    {
      name: 'mode',
      default: (used: Record<string, unknown>) => (used.metric === 'accuracy' ? 'max' : 'min'),
      defaultText: "'max' for accuracy, else 'min'",
      meaning: 'Whether a larger (max) or smaller (min) metric is an improvement.',
      check: checks.oneOf(['min', 'max']),
    },
    { name: 'patience', default: 2, meaning: 'Epochs without improvement before training stops.', check: checks.int(1) },
    { name: 'minDelta', default: 0, meaning: 'Smallest change of the metric that counts as an improvement.', check: checks.number(0, Number.MAX_VALUE) },
    { name: 'restoreBest', default: true, meaning: 'Put back the weights of the best validation epoch when training ends.', check: checks.boolean() },
  ],
});

/** The table `train` resolves its options with. Inputs (data, callbacks, model parts) are listed in `inputs`. */
export const TRAINING_PARAMS: ParamTable = Object.freeze({
  name: 'training',
  code: 'TRAINING_CONFIG_INVALID',
  docsPath: '#training-parameters',
  inputs: ['train', 'validation', 'parameters', 'extraLoss', 'onStep', 'onEpoch', 'onProgress', 'onCheckpoint', 'resumeFrom', 'callbacks'],
  fields: [
    { name: 'task', default: null, required: true, meaning: "'classification' (sequence classification, cross-entropy over classes) or 'causal-lm' (next-token loss).", check: checks.oneOf(['classification', 'causal-lm']) },
    { name: 'seed', default: null, required: true, meaning: 'Seed of the batch order and the dropout masks: the same seed and data give the same weights byte for byte.', check: checks.int(Number.MIN_SAFE_INTEGER) },
    {
      name: 'epochs',
      default: null,
      meaning:
        "Passes over the primary data source. null: 1 (enough for small LoRA adapters, early stopping guards more), or with maxSteps as many as maxSteps needs, as transformers' max_steps overrides num_train_epochs; the result's `used.epochs` is the number that ran.",
      check: checks.nullable(checks.int(1)),
      aliases: ['num_train_epochs'],
    },
    { name: 'maxSteps', default: null, meaning: 'Optimizer steps to run: alone, exactly this many (the data is cycled); with explicit epochs, whichever of the two comes first. null = no cap.', check: checks.nullable(checks.int(1)), aliases: ['max_steps', 'steps'] },
    { name: 'batchSize', default: 32, meaning: 'Examples per micro-batch; fits the 2-core wasm budget, Adam is robust to it.', check: checks.int(1), aliases: ['per_device_train_batch_size', 'batch_size', 'bs'] },
    { name: 'gradientAccumulationSteps', default: 1, meaning: 'Micro-batches whose mean gradient makes one optimizer step (larger effective batches without more memory).', check: checks.int(1) },
    { name: 'learningRate', default: 1e-3, meaning: 'Peak AdamW learning rate, in (0, 1]; a common LoRA rate for small models (PEFT examples use 1e-4–3e-3).', check: checks.number(0, 1, { min: true }), aliases: ['learning_rate', 'lr'] },
    { name: 'schedule', group: SCHEDULE_PARAMS, meaning: 'Learning-rate schedule.', aliases: ['lr_scheduler_type'] },
    { name: 'optimizer', group: ADAMW_PARAMS, meaning: 'AdamW settings.' },
    { name: 'maxGradNorm', default: 1, meaning: 'Clip the global gradient norm to this (0 or Infinity disables); Hugging Face Trainer default, stops rare spikes wrecking a run.', check: nonNegative, aliases: ['max_grad_norm'] },
    { name: 'sequenceLength', default: null, meaning: "Transformer: cap on tokens per example; null = the model's maxSeqLen (longer classification inputs are read in windows and pooled).", check: checks.nullable(checks.int(1)) },
    { name: 'earlyStopping', group: EARLY_STOPPING_PARAMS, optional: true, meaning: 'Stop when the validation metric stops improving (needs validation examples).' },
    { name: 'evalBatchSize', default: 64, meaning: 'Batch size of validation passes; no gradients at evaluation, so larger batches are cheap.', check: checks.int(1), aliases: ['per_device_eval_batch_size'] },
    { name: 'checkpointEvery', default: null, meaning: 'Hand a checkpoint to onCheckpoint every this many steps (and at the end); null = never.', check: checks.nullable(checks.int(1)) },
  ],
});
