/**
 * Stage 6 · the record's parts from the stages' outputs. Every parameter row is described from the object the stage used
 * (`training.used` returned by `train`, the LoRA config given to `attachAdapter`, the guard's `used`, the pipeline's
 * resolved options) — never re-derived — so the record equals what ran.
 */
import { describe, type ParamRow } from '../../core/index.js';
import type { DatanetSnapshot } from '../../datanet/index.js';
import { auditEvaluation, type AuditRecordParts } from '../../audit/index.js';
import type { AuditParameter } from '../../audit/record.js';
import type { TransformerModel } from '../../finetune/index.js';
import { describePipelineParams, type PipelineParams } from '../options.js';
import type { AttributionResult } from './attribute.js';
import type { EvaluationResult } from './evaluate.js';
import type { FineTuneResult } from './fine-tune.js';
import type { PreparedData } from './prepare-data.js';
import type { RewardResult } from './reward.js';

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);
const jsonSafe = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

/** Everything the stages produced, for `recordParts`. */
export interface StageOutputs {
  used: PipelineParams;
  snapshot: DatanetSnapshot;
  model: TransformerModel;
  data: PreparedData;
  tuned: FineTuneResult;
  evaluation: EvaluationResult;
  attribution: AttributionResult;
  rewards: RewardResult;
  environment: { backend: string; tfjsVersion: string; [key: string]: unknown };
  timings: Record<string, number>;
}

/**
 * The parameter rows: the pipeline's own choices, then training / LoRA described from the objects the stages used, then
 * the guard's resolved options.
 *
 * @example
 * ```ts
 * import { parameterRows, type PipelineParams, type FineTuneResult } from 'provenant';
 * declare const used: PipelineParams;
 * declare const tuned: Pick<FineTuneResult, 'training' | 'guard' | 'lora'>;
 * parameterRows(used, tuned).find((r) => r.name === 'training.learningRate'); // { value: 0.003, default: 0.003, … }
 * ```
 */
export function parameterRows(used: PipelineParams, tuned: Pick<FineTuneResult, 'training' | 'lora' | 'guard'>): ParamRow[] {
  const rows = describePipelineParams({ ...used, training: tuned.training.used, lora: tuned.lora });
  const guard = tuned.guard?.table && tuned.guard.used ? describe(tuned.guard.table, tuned.guard.used, `guard.${tuned.guard.kind}`) : [];
  return [...rows.filter((r) => !r.name.startsWith('attribution.')), ...guard];
}

/**
 * The audit record's parts for `buildAuditRecord`.
 *
 * @example
 * ```ts
 * import { buildAuditRecord, recordParts, type StageOutputs } from 'provenant';
 * declare const outputs: StageOutputs;
 * const record = buildAuditRecord(recordParts(outputs));
 * ```
 */
export function recordParts(o: StageOutputs): AuditRecordParts {
  const { used, snapshot, model, data, tuned, evaluation, attribution, rewards } = o;
  const summary = snapshot.summary();
  const proofRow = data.trainRows[0] ?? snapshot.rows[0]!;
  const proof = snapshot.getProof(proofRow.id);
  const contributorIds = snapshot.contributors.map((c) => c.contributor);
  const paidTotal = [...rewards.shares.values()].reduce((a, v) => a + Math.max(0, v), 0);
  const attributionRows = describePipelineParams(used).filter((r) => r.name.startsWith('attribution.'));
  const derived: AuditParameter[] = [
    { name: 'attribution.gradientTensors', value: attribution.parameterCount, default: null, meaning: 'Trainable tensors (LoRA A, B and the head copy) whose per-example gradients are compared.' },
    { name: 'attribution.preconditioner', value: jsonSafe(attribution.preconditioner.params), default: null, meaning: `Fitted parameters of ${attribution.preconditioner.method}.` },
    { name: 'attribution.target', value: 'loss', default: 'loss', meaning: 'Gradients of the cross-entropy at the predicted class (τ > 0: the row supports the prediction).' },
    { name: 'attribution.rewardRule', value: 'per-query positive shares', default: 'per-query positive shares', meaning: 'Each evaluated row is a paid query at its predicted label; its fee goes to contributors with positive net influence on it, in proportion.' },
    { name: 'attribution.flagRule', value: 'class-balanced net influence at the true label < 0', default: 'class-balanced net influence at the true label < 0', meaning: 'A contributor whose data, on balance over classes, pushes predictions away from the true label is flagged and paid nothing.' },
  ];
  return {
    seed: used.seed,
    environment: o.environment,
    timings: o.timings,
    datanet: {
      name: summary.name,
      version: summary.version,
      root: summary.root,
      leafEncoding: [...summary.leafTypes],
      rows: summary.rows,
      duplicatesRemoved: summary.duplicatesRemoved,
      rejections: summary.rejections,
      contributors: summary.contributors.map((c) => ({ id: c.contributor, rows: c.rows, bytes: c.bytes, labels: { ...c.labels }, duplicates: c.duplicates, rejections: c.rejections })),
      splits: {
        train: data.trainRows.length,
        validation: data.validationRows.length,
        test: data.testRows.length,
        drift: data.driftRows.length,
        driftRule: used.names.driftRule,
        seed: used.seed,
        ...(data.evaluationSplit
          ? { evaluationRule: used.names.evaluationRule, evaluationRuleDigest: data.evaluationSplit.digest, untrustedTestRows: data.untrustedTestRows.length }
          : {}),
      },
      proofExample: { rowId: proofRow.id, rowHash: proofRow.id, proof, verified: snapshot.verifyRow(proofRow, proof) },
    },
    baseModel: { name: used.names.baseModel, hash: tuned.baseHash, config: jsonSafe(model.config) as Record<string, unknown> },
    fineTuning: {
      adapterName: used.names.adapter,
      adapterHash: tuned.adapterHash,
      task: 'sequence-classification',
      parameters: parameterRows(used, tuned),
      log: {
        steps: tuned.training.steps,
        finalLoss: round(tuned.training.log.at(-1)?.loss ?? Number.NaN),
        lossCurve: tuned.training.log.map((e) => ({ step: e.step, loss: round(e.loss), lr: round(e.lr) })),
      },
    },
    evaluation: auditEvaluation(evaluation.comparison, evaluation.gates, used.gates, { probe: used.names.retainedProbe }),
    attribution: {
      method: used.attribution.method,
      parameters: attributionRows,
      derived,
      ...(Object.keys(attribution.quality).length ? { quality: attribution.quality } : {}),
      contributorTotals: contributorIds.map((c) => ({
        contributor: c,
        score: round(attribution.totals.get(c) ?? 0),
        share: paidTotal > 0 ? round(Math.max(0, rewards.shares.get(c) ?? 0) / paidTotal) : 0,
        flagged: rewards.flagged.includes(c),
      })),
      queries: attribution.queries.map((q, i) => ({
        id: `q${i + 1}`,
        input: data.textOf(data.testRows[i]!).slice(0, 300),
        prediction: { label: data.classes[q.prediction.label]!, probability: round(q.prediction.probabilities[q.prediction.label]!) },
        topProponents: q.proponents.map((r) => ({ rowId: r.rowId, contributor: r.contributor, score: round(r.score) })),
        topOpponents: q.opponents.map((r) => ({ rowId: r.rowId, contributor: r.contributor, score: round(r.score) })),
        contributorShares: Object.fromEntries(Object.entries(q.shares ?? {}).map(([c, s]) => [c, round(s)])),
      })),
      scoreDigest: attribution.scoreDigest,
    },
    rewards: {
      feeWei: rewards.split.totalWei.toString(),
      split: Object.entries(rewards.split.amounts).map(([contributor, amount]) => ({ contributor, amountWei: amount.toString() })),
      flagged: rewards.flagged,
      shares: [...rewards.shares].map(([contributor, weight]) => ({ contributor, weight })),
    },
  };
}
