/**
 * The decisions of one attributable fine-tune, each with its default and what it does. `PIPELINE_DEFAULTS` is the table the
 * audit record prints beside the LoRA, training and guard tables, so no parameter of a run goes unrecorded.
 */
import type { ProgressCallback } from '../core/index.js';
import type { DatanetSnapshot, SnapshotRow } from '../datanet/index.js';
import type { Gate } from '../eval/index.js';
import type { LoraConfig, LrSchedule, TransformerModel } from '../finetune/index.js';

export type AttributionMethod = 'grad-dot' | 'grad-cos' | 'datainf';
export type GuardChoice = 'none' | 'replay' | 'l2-sp' | 'kl-to-base';

export interface PipelineOptions {
  /** The Datanet snapshot to fine-tune on: text rows with labels. */
  snapshot: DatanetSnapshot;
  /**
   * Rows held out entirely as a drift check (e.g. mail collected later); evaluated, never trained on. Default none.
   * `driftRule` describes the rule for the audit record.
   */
  isDriftRow?: (row: SnapshotRow) => boolean;
  driftRule?: string;
  /** The pretrained language model to adapt. It is modified in place (a classification head and an adapter are added). */
  baseModel: TransformerModel;
  baseModelName?: string;
  /** Held-out general English passages: the base model's retained ability (perplexity). */
  generalTexts: readonly string[];
  /** General English passages for the replay guard (distinct from `generalTexts`). */
  replayTexts?: readonly string[];
  /** Rows known to be mislabelled (ground truth of a synthetic noisy contributor), to measure detection AUC. */
  mislabelledRowIds?: readonly string[];
  seed?: number;
  /** Fraction of non-drift rows in each split. */
  fractions?: { train: number; validation: number; test: number };
  /** Cap on training rows (a seeded sample), to bound run time. */
  maxTrainRows?: number;
  /** Cap on test rows and drift rows evaluated. */
  maxEvalRows?: number;
  /** Tokens per e-mail seen by the model (≤ the model's maxSeqLen). */
  sequenceLength?: number;
  lora?: Partial<LoraConfig>;
  /** Steps of the linear probe that gives the base model its classification head. */
  probeSteps?: number;
  probeLearningRate?: number;
  steps?: number;
  learningRate?: number;
  batchSize?: number;
  schedule?: LrSchedule;
  guard?: GuardChoice;
  guardStrength?: number;
  attributionMethod?: AttributionMethod;
  /** Random projection width of the per-example gradients (0: no projection). */
  projectionDim?: number;
  /** Held-out e-mails to attribute in detail (top rows, shares, fee split). */
  sampleQueries?: number;
  topK?: number;
  /** Fee of one paid query, in wei, split among contributors. */
  feeWei?: bigint;
  /** Deploy gates; default: domain macro-F1 not regressed and ≥ 0.8, general perplexity increase ≤ 10 %. */
  gates?: Gate[];
  /** Bootstrap resamples of every interval. */
  resamples?: number;
  /** Where the attribution feature store is written (a temporary folder when omitted). */
  featureStoreDir?: string;
  onProgress?: ProgressCallback;
}

export interface PipelineParameter {
  name: keyof PipelineOptions;
  default: unknown;
  meaning: string;
}

export const PIPELINE_DEFAULTS: readonly PipelineParameter[] = Object.freeze([
  { name: 'seed', default: 7, meaning: 'Seed of every random step: splits, sampling, initialisation, batch order, projections, bootstrap.' },
  { name: 'fractions', default: { train: 0.8, validation: 0.1, test: 0.1 }, meaning: 'Share of the non-drift rows in each split (stratified by label).' },
  { name: 'maxTrainRows', default: 1600, meaning: 'Training rows used (seeded sample): bounds fine-tuning and featurization time.' },
  { name: 'maxEvalRows', default: 400, meaning: 'Test and drift rows evaluated (seeded sample): bounds evaluation time.' },
  { name: 'sequenceLength', default: 64, meaning: 'Characters of each e-mail the model reads (subject first); the rest is truncated.' },
  { name: 'probeSteps', default: 80, meaning: 'Steps training only the classification head on the frozen base: the base model’s domain ability.' },
  { name: 'probeLearningRate', default: 1e-2, meaning: 'Learning rate of the linear probe.' },
  { name: 'steps', default: 160, meaning: 'LoRA fine-tuning optimizer steps.' },
  { name: 'learningRate', default: 3e-3, meaning: 'Peak AdamW learning rate of the LoRA fine-tune.' },
  { name: 'batchSize', default: 32, meaning: 'E-mails per optimizer step.' },
  { name: 'schedule', default: { kind: 'linear', warmupSteps: 10 }, meaning: 'Learning-rate schedule: linear warm-up then linear decay to zero.' },
  { name: 'guard', default: 'none', meaning: 'Forgetting guard: none, replay of general text, L2-SP on the adapter update, or KL to the base on probe text.' },
  { name: 'guardStrength', default: 1, meaning: 'Weight of the guard’s penalty (replay loss weight, L2-SP α, or KL weight).' },
  { name: 'attributionMethod', default: 'datainf', meaning: 'Gradient-based attribution: grad-dot, grad-cos, or DataInf (Kwon et al. 2024).' },
  { name: 'projectionDim', default: 0, meaning: 'Random projection of per-example gradients (0 keeps the exact LoRA gradients).' },
  { name: 'sampleQueries', default: 4, meaning: 'Held-out e-mails attributed in detail in the record.' },
  { name: 'topK', default: 5, meaning: 'Proponent and opponent rows listed per query.' },
  { name: 'feeWei', default: '1000000000000000', meaning: 'Fee of one paid query (wei), split among contributors by positive influence.' },
  { name: 'resamples', default: 1000, meaning: 'Bootstrap resamples behind every confidence interval.' },
] satisfies PipelineParameter[]);

export const DEFAULT_LORA: Partial<LoraConfig> = Object.freeze({
  r: 8,
  alpha: 16,
  dropout: 0,
  targetModules: ['q_proj', 'v_proj'],
  modulesToSave: ['classifier'],
});
