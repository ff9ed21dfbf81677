/**
 * One attributable fine-tune, end to end, as stages over plain data:
 *   prepare data → fine-tune (probe, LoRA, guard) → evaluate (base vs tuned, gates) → attribute → reward → the audit record
 * (`buildAuditRecord`; chain section "skipped" — `provenant/chain` publishes it). Each stage is exported from
 * `./stages/` for flows that need a different order or a stage of their own; this body only wires them.
 */
import { ProvenantError, describeValue, type ProgressCallback } from '../core/index.js';
import { buildAuditRecord, type AuditRecord } from '../audit/index.js';
import type { ComparisonTable, GateReport } from '../eval/index.js';
import { createCharTokenizer, gemmF32Kernel, initBackend, type TrainResult } from '../finetune/index.js';
import { denseKernel, type QueryAttribution } from '../attribution/index.js';
import { resolvePipelineParams, type PipelineOptions, type PipelineParams } from './options.js';
import { attribute } from './stages/attribute.js';
import { evaluate } from './stages/evaluate.js';
import { fineTune } from './stages/fine-tune.js';
import { prepareData } from './stages/prepare-data.js';
import { recordParts } from './stages/record-parts.js';
import { reward } from './stages/reward.js';

export interface PipelineResult {
  /** The audit record, chain section `skipped` (publish with `provenant/chain` to fill it). */
  record: AuditRecord;
  comparison: ComparisonTable;
  gates: GateReport;
  training: TrainResult;
  queries: QueryAttribution[];
  /** The parameters the run used (`PIPELINE_PARAMS` resolved). */
  used: PipelineParams;
}

/** Seconds of one stage, rounded to ms. */
async function timed<T>(timings: Record<string, number>, name: string, work: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const result = await work();
  timings[name] = +((performance.now() - start) / 1000).toFixed(3);
  return result;
}

/**
 * The pipeline's classification (a head added by `addClassificationHead`, the char tokenizer) runs on the zoo
 * transformer only: refuse anything else before any data is prepared, saying what to use instead.
 */
function assertZooTransformer(model: unknown): void {
  const kind = model !== null && typeof model === 'object' ? (model as { kind?: unknown }).kind : undefined;
  if (kind === 'transformer') return;
  const what = kind === 'gpt2' || kind === 'llama' || kind === 'bert' ? `a Hugging Face ${kind} model (loadPretrained)` : kind === undefined ? describeValue(model) : `a model of kind ${JSON.stringify(kind)}`;
  throw new ProvenantError(
    'MODEL_CONFIG_INVALID',
    `runPipeline: baseModel is ${what}; the pipeline's classification runs on zoo transformers (createTransformer or loadBaseModel — the demo loads models/base that way).`,
    {
      metaMessages: [
        'For a Hugging Face model: loadPretrained(dir, { numLabels }) + prepareClassificationExamples + train, then toEvalModel / compareModels to evaluate it.',
      ],
      data: { input: 'baseModel', kind: kind ?? null },
      docsPath: '#pipeline-parameters',
    },
  );
}

/**
 * Runs the whole pipeline. The base model is modified in place (a classification head and an adapter are added).
 *
 * @param options inputs (snapshot, base model, general texts, …) and parameters (see `PIPELINE_PARAMS` for each
 *   parameter's default, meaning and range)
 * @throws ProvenantError `MODEL_CONFIG_INVALID` first of all when `baseModel` is not a zoo transformer (createTransformer /
 *   loadBaseModel), e.g. a Hugging Face model from loadPretrained (the error says what to use for one);
 *   `INVALID_ARGUMENT` (or a nested table's code) naming every unknown or invalid option, with the
 *   nearest known name (`lr` → `training.learningRate`); `INVALID_ARGUMENT` when `sequenceLength` exceeds the model's
 *   context; the stages' own errors (`DATANET_SCHEMA_INVALID` for non-text rows, `TRAINING_CONFIG_INVALID`, …)
 * @example
 * ```ts
 * import { runPipeline, verifyAuditRecord, type DatanetSnapshot, type TransformerModel } from 'provenant';
 * declare const snapshot: DatanetSnapshot;
 * declare const baseModel: TransformerModel;
 * declare const generalTexts: readonly string[];
 * declare const replayTexts: readonly string[];
 * const { record } = await runPipeline({
 *   snapshot, baseModel, generalTexts, replayTexts,
 *   names: { task: 'spam detection', adapter: 'security' },
 *   training: { maxSteps: 100, learningRate: 3e-3 }, lora: { r: 8, alpha: 16 },
 * });
 * (await verifyAuditRecord(record)).ok; // true
 * ```
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  assertZooTransformer(options?.baseModel);
  const used = resolvePipelineParams(options);
  const { snapshot, baseModel: model } = options;
  if (used.sequenceLength > model.config.maxSeqLen) {
    throw new ProvenantError('INVALID_ARGUMENT', `sequenceLength ${used.sequenceLength} exceeds the model's context (maxSeqLen ${model.config.maxSeqLen}).`, {
      data: { sequenceLength: used.sequenceLength, maxSeqLen: model.config.maxSeqLen },
      docsPath: '#pipeline-parameters',
    });
  }
  const onProgress: ProgressCallback | undefined = options.onProgress;
  const timings: Record<string, number> = {};
  const started = performance.now();
  const backend = await initBackend();
  const tokenizer = createCharTokenizer();
  const data = await timed(timings, 'data', () => prepareData(snapshot, used, tokenizer, options.isDriftRow, options.isTrustedRow));
  const tuned = await timed(timings, 'fineTune', () => fineTune(model, data, used, tokenizer, { replayTexts: options.replayTexts, onProgress }));
  const evaluation = await timed(timings, 'evaluation', () => evaluate(model, data, used, { generalTexts: options.generalTexts, onProgress }));
  const attribution = await timed(timings, 'attribution', () =>
    attribute(model, snapshot, data, used, { featureStoreDir: options.featureStoreDir, mislabelledRowIds: options.mislabelledRowIds, onProgress }),
  );
  const rewards = reward(snapshot.contributors.map((c) => c.contributor), attribution, used.feeWei);
  timings.total = +((performance.now() - started) / 1000).toFixed(3);
  // The product kernels this runtime picks (relaxed-SIMD FMA where it compiles, else SIMD 1.0): their sums differ in the
  // last bits, so a run is reproduced exactly only on the same kernels.
  const productKernels = { float32: gemmF32Kernel() ?? 'none (tf.matMul)', float64: denseKernel() };
  const environment = { ...(JSON.parse(JSON.stringify(backend)) as Record<string, unknown>), backend: String(backend.backend), tfjsVersion: String(backend.tfjsVersion), productKernels };
  const record = buildAuditRecord(recordParts({ used, snapshot, model, data, tuned, evaluation, attribution, rewards, environment, timings }));
  return { record, comparison: evaluation.comparison, gates: evaluation.gates, training: tuned.training, queries: attribution.queries, used };
}
