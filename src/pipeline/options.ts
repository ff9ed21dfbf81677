/**
 * The decisions of one attributable fine-tune, in one table (`PIPELINE_PARAMS`, see `core/params.ts`): each with its
 * default, meaning and check. The nested groups are the library's own tables with the pipeline's defaults
 * (`withDefaults`): `training` is `TRAINING_PARAMS`, `lora` is `LORA_PARAMS`, so a value is stated once and the record
 * prints each decision once, beside the default that applied to it.
 *
 * Names a record shows (task names, adapter name, base-model name, the drift rule) are options too: the defaults are
 * neutral, so a custom Datanet's record never speaks of another domain.
 */
import { checks, describe, resolve, withDefaults, type ParamCheck, type ParamRow, type ParamTable, type ProgressCallback } from '../core/index.js';
import type { DatanetSnapshot, SnapshotRow } from '../datanet/index.js';
import type { Gate } from '../eval/index.js';
import { LORA_PARAMS, TRAINING_PARAMS, type GuardSpec, type LoraConfig, type TrainingParams, type TransformerModel } from '../finetune/index.js';

export type AttributionMethod = 'grad-dot' | 'grad-cos' | 'datainf';
export type GuardChoice = 'none' | 'replay' | 'l2-sp' | 'kl-to-base';

/** A guard for the pipeline: a kind, or a kind with options (its data — replay sequences, KL probe — the pipeline supplies). */
export type PipelineGuard = 'none' | Exclude<GuardChoice, 'none'> | DistributiveOmit<Exclude<GuardSpec, { kind: 'ewc' }>, 'sequences' | 'probe'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The names a record shows. */
export interface PipelineNames {
  /** The domain task (rows of the snapshot that are not drift). */
  task: string;
  /** The held-out drift rows. */
  driftTask: string;
  /** The retained general ability measured on `generalTexts`. */
  retainedTask: string;
  /** The adapter (PEFT's adapter name). */
  adapter: string;
  baseModel: string;
  /** How drift rows were chosen, in words. */
  driftRule: string;
  /** What the probe on `generalTexts` is, in words (recorded with the drift measure). */
  retainedProbe: string;
  /** Which held-out rows have trusted labels and are evaluated (the `isTrustedRow` input), in words. */
  evaluationRule: string;
}

/** Attribution choices. */
export interface PipelineAttribution {
  method: AttributionMethod;
  projectionDim: number;
  sampleQueries: number;
  topK: number;
  featureBatchSize: number;
}

/** The parameters the pipeline used: every field resolved (`PipelineResult.used`). */
export interface PipelineParams {
  seed: number;
  fractions: { train: number; validation: number; test: number };
  maxTrainRows: number;
  maxEvalRows: number;
  sequenceLength: number;
  pooling: 'mean' | 'last';
  probe: { steps: number; learningRate: number };
  training: Omit<TrainingParams, 'task' | 'seed' | 'sequenceLength' | 'checkpointEvery'>;
  lora: LoraConfig;
  guard: PipelineGuard;
  attribution: PipelineAttribution;
  feeWei: bigint;
  resamples: number;
  names: PipelineNames;
  gates: Gate[];
}

/** Inputs of a run (data, models, callbacks): not parameters, never in the parameter table. */
export interface PipelineInputs {
  /** The Datanet snapshot to fine-tune on: text rows with labels. */
  snapshot: DatanetSnapshot;
  /** Rows held out entirely as a drift check (e.g. data collected later); evaluated, never trained on. Default none. */
  isDriftRow?: (row: SnapshotRow) => boolean;
  /**
   * The pretrained language model to adapt: a zoo transformer (`createTransformer`, `loadBaseModel`). It is modified in
   * place (a classification head and an adapter are added). A Hugging Face model (`loadPretrained`) is refused first
   * (`MODEL_CONFIG_INVALID`): classify with `loadPretrained(dir, { numLabels })` + `prepareClassificationExamples` + `train`.
   */
  baseModel: TransformerModel;
  /** Held-out general passages: the base model's retained ability (perplexity). */
  generalTexts: readonly string[];
  /** General passages for the replay and KL guards (distinct from `generalTexts`). */
  replayTexts?: readonly string[];
  /**
   * Rows whose labels are trusted for evaluation: validation, test and drift rows are drawn only from these (training rows
   * are not filtered); describe the rule in `names.evaluationRule`. Default: every row. The test rows the rule leaves
   * out are still evaluated, as a second task "<task> (all labels)", so both figures are reported.
   */
  isTrustedRow?: (row: SnapshotRow) => boolean;
  /** Rows known to be mislabelled (ground truth of a synthetic noisy contributor), to measure detection AUC. */
  mislabelledRowIds?: readonly string[];
  /** Where the attribution feature store is written (a temporary folder when omitted). */
  featureStoreDir?: string;
  onProgress?: ProgressCallback;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] | bigint | string | number | boolean | null ? T[K] : DeepPartial<T[K]> };

/** What `runPipeline` takes: the inputs plus any parameters (see `PIPELINE_PARAMS` for each one's default and meaning). */
export type PipelineOptions = PipelineInputs & DeepPartial<Omit<PipelineParams, 'gates' | 'guard' | 'lora' | 'feeWei'>> & {
  lora?: Partial<LoraConfig>;
  guard?: PipelineGuard;
  /** Fee of one paid query, in wei. */
  feeWei?: bigint;
  /** Deploy gates; default: the domain task's macro-F1 not regressed and ≥ 0.8, retained perplexity increase ≤ 10 %. */
  gates?: Gate[];
};

const fraction: ParamCheck = checks.number(0, 1);
const guardCheck: ParamCheck = (v) =>
  v === 'none' || v === 'replay' || v === 'l2-sp' || v === 'kl-to-base' || (v !== null && typeof v === 'object' && ['replay', 'l2-sp', 'kl-to-base'].includes((v as { kind?: string }).kind ?? ''))
    ? null
    : `must be 'none', 'replay', 'l2-sp', 'kl-to-base' or { kind, …options }, got ${JSON.stringify(v)}`;
const weiCheck: ParamCheck = (v) => (typeof v === 'bigint' && v >= 0n ? null : `must be a bigint ≥ 0 (wei), got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`);
const gatesCheck: ParamCheck = (v) => (Array.isArray(v) && v.every((g) => g && typeof g === 'object' && typeof g.task === 'string') ? null : 'must be an array of gates ({ task, … })');

/**
 * The pipeline's training table: `TRAINING_PARAMS` with the pipeline's defaults, less what the pipeline sets itself (task,
 * seed and sequence length come from the pipeline's own fields) or never uses (checkpoints: no `onCheckpoint`).
 */
const PIPELINE_SETS = new Set(['task', 'seed', 'sequenceLength', 'checkpointEvery']);
export const PIPELINE_TRAINING_PARAMS: ParamTable = withDefaults(
  { ...TRAINING_PARAMS, fields: TRAINING_PARAMS.fields.filter((f) => !PIPELINE_SETS.has(f.name)) },
  {
    maxSteps: 160,
    epochs: 1000,
    learningRate: 3e-3,
    'schedule.kind': 'linear',
    'schedule.warmupSteps': 10,
  },
);

/** The pipeline's LoRA table: PEFT's fields, with the pipeline's defaults (rank 8, alpha 16 on q and v, a saved head copy). */
export const PIPELINE_LORA_PARAMS: ParamTable = withDefaults(LORA_PARAMS, {
  alpha: 16,
  targetModules: ['q_proj', 'v_proj'],
  modulesToSave: ['classifier'],
});

/** Every parameter of `runPipeline` with its default, meaning and check. */
export const PIPELINE_PARAMS: ParamTable = Object.freeze({
  name: 'pipeline',
  code: 'INVALID_ARGUMENT',
  docsPath: '#pipeline-parameters',
  inputs: ['snapshot', 'isDriftRow', 'isTrustedRow', 'baseModel', 'generalTexts', 'replayTexts', 'mislabelledRowIds', 'featureStoreDir', 'onProgress'],
  fields: [
    { name: 'seed', default: 7, meaning: 'Seed of every random step: splits, sampling, initialisation, batch order, projections, bootstrap.', check: checks.int(Number.MIN_SAFE_INTEGER) },
    {
      name: 'fractions',
      meaning: 'Share of the non-drift rows in each split (stratified by label).',
      group: {
        name: 'fractions',
        fields: [
          { name: 'train', default: 0.8, meaning: 'Share of non-drift rows trained on.', check: fraction },
          { name: 'validation', default: 0.1, meaning: 'Share of non-drift rows for validation during training.', check: fraction },
          { name: 'test', default: 0.1, meaning: 'Share of non-drift rows evaluated and attributed.', check: fraction },
        ],
        crossChecks: (f) => (Math.abs((f.train as number) + (f.validation as number) + (f.test as number) - 1) > 1e-9 ? [['train', 'fractions must sum to 1']] : []),
      },
    },
    { name: 'maxTrainRows', default: 1600, meaning: 'Training rows used (seeded sample): bounds fine-tuning and featurization time.', check: checks.int(1) },
    { name: 'maxEvalRows', default: 400, meaning: 'Test and drift rows evaluated (seeded sample): bounds evaluation time.', check: checks.int(1) },
    { name: 'sequenceLength', default: 64, meaning: "Tokens of each row the model reads; the rest is truncated. Must not exceed the model's maxSeqLen.", check: checks.int(1) },
    {
      name: 'pooling',
      default: 'mean',
      meaning:
        "How the classification head reads a row: 'mean' of the hidden states over its non-pad tokens (sentence-transformers' mean pooling) or the 'last' non-pad token (transformers' GPT2ForSequenceClassification). A mean-pooled head is not GPT2ForSequenceClassification: its adapter reproduces these predictions only on a mean-pooling head.",
      check: checks.oneOf(['mean', 'last']),
    },
    {
      name: 'probe',
      meaning: "Linear probe: only the classification head trained on the frozen base, so the base's domain ability is measured fairly.",
      group: {
        name: 'probe',
        fields: [
          { name: 'steps', default: 80, meaning: 'Optimizer steps of the linear probe.', check: checks.int(1) },
          { name: 'learningRate', default: 1e-2, meaning: 'Learning rate of the linear probe (a head alone tolerates a higher rate).', check: checks.number(0, 1, { min: true }) },
        ],
      },
    },
    { name: 'training', group: PIPELINE_TRAINING_PARAMS, meaning: 'The LoRA fine-tune (train options; the probe shares its batch size and sequence length).' },
    { name: 'lora', group: PIPELINE_LORA_PARAMS, meaning: 'The LoRA adapter (PEFT LoraConfig fields).' },
    { name: 'guard', default: 'none', meaning: 'Forgetting guard: none, replay of general text, L2-SP on the adapter update, or KL to the base on general text; { kind, …options } sets its options (see the guard tables).', check: guardCheck },
    {
      name: 'attribution',
      meaning: 'Training-data attribution of the tuned model.',
      group: {
        name: 'attribution',
        fields: [
          { name: 'method', default: 'datainf', meaning: 'Gradient-based attribution: grad-dot, grad-cos, or DataInf (Kwon et al. 2024, eq. 5).', check: checks.oneOf(['grad-dot', 'grad-cos', 'datainf']) },
          { name: 'projectionDim', default: 0, meaning: 'Random (Rademacher) projection width of per-example gradients; 0 keeps the exact LoRA gradients.', check: checks.int(0) },
          { name: 'sampleQueries', default: 4, meaning: 'Held-out rows attributed in detail in the record (top rows, shares).', check: checks.int(0) },
          { name: 'topK', default: 5, meaning: 'Proponent and opponent rows listed per query.', check: checks.int(1) },
          { name: 'featureBatchSize', default: 64, meaning: 'Rows per featurization batch (memory bound, no effect on scores).', check: checks.int(1) },
        ],
      },
    },
    { name: 'feeWei', default: 10n ** 15n, meaning: 'Fee of the paid sample (wei), split among contributors by positive influence.', check: weiCheck },
    { name: 'resamples', default: 1000, meaning: 'Bootstrap resamples behind every confidence interval.', check: checks.int(10) },
    {
      name: 'names',
      meaning: 'Names the record shows.',
      group: {
        name: 'names',
        fields: [
          { name: 'task', default: 'domain task', meaning: 'Name of the domain task in the evaluation and gates.', check: checks.string() },
          { name: 'driftTask', default: 'drift set', meaning: 'Name of the held-out drift rows in the evaluation.', check: checks.string() },
          { name: 'retainedTask', default: 'general text', meaning: 'Name of the retained-ability task measured on generalTexts.', check: checks.string() },
          { name: 'adapter', default: 'default', meaning: "Adapter name (PEFT's default is 'default').", check: checks.string() },
          { name: 'baseModel', default: 'base model', meaning: 'Name of the base model in the record.', check: checks.string() },
          { name: 'driftRule', default: 'none', meaning: 'How drift rows were chosen, in words.', check: checks.string() },
          { name: 'retainedProbe', default: 'next-token distributions on generalTexts', meaning: 'What the drift (KL, JS) of the retained task is measured on.', check: checks.string() },
          { name: 'evaluationRule', default: 'every held-out row', meaning: 'Which held-out rows have trusted labels and are evaluated (the isTrustedRow input), in words.', check: checks.string() },
        ],
      },
    },
    {
      name: 'gates',
      default: (used: Record<string, unknown>) => defaultGates(used.names as PipelineNames),
      defaultText: "the domain task's macro-F1 not regressed and ≥ 0.8; retained perplexity increase ≤ 10 %",
      meaning: 'Deploy gates over the base-versus-tuned table.',
      check: gatesCheck,
    },
  ],
});

/**
 * The default gates, named after the run's tasks.
 *
 * @example
 * ```ts
 * import { defaultGates } from 'provenant';
 * defaultGates({ task: 'spam detection', retainedTask: 'general English' }).map((g) => g.name);
 * // ['spam detection not regressed', 'spam detection macro-F1 ≥ 0.8', 'general English perplexity increase ≤ 10 %']
 * ```
 */
export function defaultGates(names: Pick<PipelineNames, 'task' | 'retainedTask'>): Gate[] {
  return [
    { task: names.task, verdict: 'not-regressed', name: `${names.task} not regressed` },
    { task: names.task, quantity: 'tuned', atLeast: 0.8, name: `${names.task} macro-F1 ≥ 0.8` },
    { task: names.retainedTask, quantity: 'relativeDelta', atMost: 0.1, name: `${names.retainedTask} perplexity increase ≤ 10 %` },
  ];
}

/**
 * The pipeline's parameters with their defaults filled in, validated (`PIPELINE_PARAMS`).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` (or the nested table's code) naming every bad or unknown option, with the
 *   nearest known name for each unknown one
 * @example
 * ```ts
 * import { resolvePipelineParams } from 'provenant';
 * resolvePipelineParams({ seed: 1, training: { learningRate: 1e-3 } }).training.maxSteps; // 160
 * ```
 */
export function resolvePipelineParams(options: Partial<PipelineOptions> | Record<string, unknown>): PipelineParams {
  return resolve<PipelineParams>(PIPELINE_PARAMS, options);
}

/**
 * Every pipeline parameter as an audit row (`pipeline.seed`, `training.learningRate`, `lora.r`, `attribution.method`, …)
 * from the object the pipeline used.
 *
 * @example
 * ```ts
 * import { describePipelineParams, resolvePipelineParams } from 'provenant';
 * const used = resolvePipelineParams({ lora: { alpha: 16 } });
 * describePipelineParams(used).find((r) => r.name === 'lora.alpha'); // { value: 16, default: 16, … }
 * ```
 */
export function describePipelineParams(used: PipelineParams): ParamRow[] {
  return describe(PIPELINE_PARAMS, used, '').map((row) => (row.name.includes('.') ? row : { ...row, name: `pipeline.${row.name}` }));
}

/** The pipeline's parameters in the flat shape of the old table (name, default, meaning), for documentation. */
export const PIPELINE_DEFAULTS: ReadonlyArray<{ name: string; default: unknown; meaning: string }> = Object.freeze(
  describePipelineParams(resolvePipelineParams({})).map((row) => ({ name: row.name, default: row.default, meaning: row.meaning })),
);
