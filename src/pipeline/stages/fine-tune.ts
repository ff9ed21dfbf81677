/**
 * Stage 2 · fine-tune: hash the base, give it a classification head by a linear probe (the base's own domain ability),
 * attach the LoRA adapter, build the guard through the one guard factory, and train. Returns the objects each step used
 * (`probe.used`, `training.used`, `lora`, `guard.used`) — the record describes these, never a re-derivation.
 *
 * Why a linear probe for the base: a freshly initialised head would make any fine-tune look like a large gain. Training
 * only the head on the frozen base measures what the base representation already knows; the LoRA adapter (with its own
 * copy of the head, PEFT's `modules_to_save`) must beat that.
 */
import { ProvenantError, createProgressReporter, type Hex, type ProgressCallback } from '../../core/index.js';
import {
  addClassificationHead,
  adapterHash,
  attachAdapter,
  baseModelHash,
  createGuard,
  train,
  type Guard,
  type GuardSpec,
  type LoraConfig,
  type TrainResult,
  type TransformerModel,
} from '../../finetune/index.js';
import type { PipelineParams } from '../options.js';
import type { PipelineTokenizer, PreparedData } from './prepare-data.js';

export interface FineTuneResult {
  baseHash: Hex;
  adapterHash: Hex;
  probe: TrainResult;
  training: TrainResult;
  /** The LoRA config passed to `attachAdapter`. */
  lora: LoraConfig;
  /** The guard's kind, table and resolved options (null when none). */
  guard: Pick<Guard, 'kind' | 'table' | 'used'> | null;
}

/**
 * Probe, attach, guard and train; the model is modified in place.
 *
 * @throws ProvenantError `TRAINING_CONFIG_INVALID` when a replay or KL guard has no `replayTexts`, or any training option is invalid
 * @example
 * ```ts
 * import { fineTune, type PipelineParams, type PipelineTokenizer, type PreparedData, type TransformerModel } from 'provenant';
 * declare const model: TransformerModel;
 * declare const data: PreparedData;
 * declare const used: PipelineParams;
 * declare const tokenizer: PipelineTokenizer;
 * declare const replayTexts: readonly string[];
 * const tuned = await fineTune(model, data, used, tokenizer, { replayTexts });
 * tuned.training.used.learningRate; // what the loop used
 * ```
 */
export async function fineTune(
  model: TransformerModel,
  data: PreparedData,
  used: Pick<PipelineParams, 'seed' | 'sequenceLength' | 'pooling' | 'probe' | 'training' | 'lora' | 'guard' | 'names'>,
  tokenizer: PipelineTokenizer,
  inputs: { replayTexts?: readonly string[]; onProgress?: ProgressCallback } = {},
): Promise<FineTuneResult> {
  const { seed, sequenceLength } = used;
  const baseHash = baseModelHash(model);
  if (!model.linears.has('classifier')) addClassificationHead(model, data.classes.length, { seed, pooling: used.pooling });
  // A head the model already has keeps its pooling: refuse a run whose record would state another.
  const pooling = model.config.pooling ?? 'mean';
  if (pooling !== used.pooling) {
    throw new ProvenantError('INVALID_ARGUMENT', `pooling '${used.pooling}' was asked for, but the model's classifier head pools with '${pooling}'.`, {
      data: { asked: used.pooling, model: pooling },
      docsPath: '#pipeline-parameters',
    });
  }
  for (const [name, weight] of model.weights) weight.trainable = name.startsWith('classifier.');
  const probeReporter = createProgressReporter('probe', used.probe.steps, inputs.onProgress);
  const probe = await train(model, {
    task: 'classification',
    train: data.trainExamples,
    seed,
    maxSteps: used.probe.steps,
    epochs: used.training.epochs,
    batchSize: used.training.batchSize,
    learningRate: used.probe.learningRate,
    sequenceLength,
    onStep: (e) => probeReporter.tick(e.step, { loss: e.loss }),
  });

  attachAdapter(model, used.names.adapter, used.lora, { seed });
  const guard = buildGuard(model, used, tokenizer, inputs.replayTexts ?? []);
  const reporter = createProgressReporter('fine-tune', used.training.maxSteps ?? undefined, inputs.onProgress);
  let training: TrainResult;
  try {
    training = await train(model, {
      ...used.training,
      task: 'classification',
      seed,
      sequenceLength,
      train: data.trainExamples,
      validation: data.validationExamples,
      ...(guard ? { extraLoss: guard } : {}),
      onStep: (e) => reporter.tick(e.step, { loss: e.loss, lr: e.lr, examplesPerSecond: e.examplesPerSecond }),
    });
  } finally {
    guard?.dispose();
  }
  return {
    baseHash,
    adapterHash: adapterHash(model, used.names.adapter),
    probe,
    training,
    lora: used.lora,
    guard: guard ? { kind: guard.kind, table: guard.table, used: guard.used } : null,
  };
}

/** The pipeline's guard: its kind and options from `used.guard`, its data and (unless given) seed and lengths from the run. */
function buildGuard(
  model: TransformerModel,
  used: Pick<PipelineParams, 'seed' | 'sequenceLength' | 'training' | 'guard'>,
  tokenizer: PipelineTokenizer,
  replayTexts: readonly string[],
): Guard | null {
  if (used.guard === 'none') return null;
  const spec = typeof used.guard === 'string' ? { kind: used.guard } : used.guard;
  if (spec.kind === 'l2-sp') return createGuard(model, spec as GuardSpec);
  if (replayTexts.length === 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', `The ${spec.kind} guard needs replayTexts (general passages).`, { docsPath: '#forgetting-guards' });
  const sequences = replayTexts.map((text) => ({ input: tokenizer.encode(text).slice(0, used.sequenceLength + 1) }));
  if (spec.kind === 'replay') {
    return createGuard(model, {
      seed: used.seed,
      sequenceLength: used.sequenceLength,
      gradientAccumulationSteps: used.training.gradientAccumulationSteps,
      ...spec,
      kind: 'replay',
      sequences,
    } as GuardSpec);
  }
  return createGuard(model, { sequenceLength: used.sequenceLength, ...spec, kind: 'kl-to-base', probe: sequences.slice(0, 16) } as GuardSpec);
}
