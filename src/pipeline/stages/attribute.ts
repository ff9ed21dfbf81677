/**
 * Stage 4 · attribute: per-example gradients of the training rows (a feature store), a preconditioner, then queries:
 * the sample queries shown in the record, every test row attributed at its prediction (what a paid query sees), and every
 * test row at its true label (the quality flag). Mislabel detection AUC when ground truth is given.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, keccak256, type Hex, type ProgressCallback } from '../../core/index.js';
import type { DatanetSnapshot } from '../../datanet/index.js';
import {
  attributeQueries,
  createAttributionIndex,
  featurize,
  fitDataInf,
  gradCos,
  gradDot,
  mislabelAuc,
  readFeatureStore,
  selfInfluence,
  writeFeatureStore,
  type Preconditioner,
  type QueryAttribution,
} from '../../attribution/index.js';
import type { TransformerModel } from '../../finetune/index.js';
import type { PipelineParams } from '../options.js';
import type { PreparedData } from './prepare-data.js';

export interface AttributionResult {
  /** Detailed sample queries (top rows, shares). */
  queries: QueryAttribution[];
  /** Per contributor: the sum over test queries of its positive share at the prediction (what it is paid for). */
  paidShares: Map<string, number>;
  /** Per contributor: class-balanced net influence at the true label (negative = flagged). */
  totals: Map<string, number>;
  /** keccak256 of the per-query contributor scores at the true label (rounded), in query order. */
  scoreDigest: Hex;
  quality: Record<string, number | string>;
  /** Trainable tensors whose gradients were compared. */
  parameterCount: number;
  preconditioner: { method: string; params: unknown };
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);

/**
 * Featurizes the training rows and attributes the test rows.
 *
 * @example
 * ```ts
 * import { attribute, type TransformerModel, type DatanetSnapshot, type PreparedData, type PipelineParams } from 'provenant';
 * declare const model: TransformerModel;
 * declare const snapshot: Pick<DatanetSnapshot, 'root'>;
 * declare const data: PreparedData;
 * declare const used: Pick<PipelineParams, 'seed' | 'attribution' | 'sequenceLength'>;
 * const attribution = await attribute(model, snapshot, data, used, {});
 * attribution.totals.get('alice'); // class-balanced net influence of alice's rows
 * ```
 */
export async function attribute(
  model: TransformerModel,
  snapshot: Pick<DatanetSnapshot, 'root'>,
  data: PreparedData,
  used: Pick<PipelineParams, 'seed' | 'sequenceLength' | 'attribution'>,
  inputs: { featureStoreDir?: string; mislabelledRowIds?: readonly string[]; onProgress?: ProgressCallback },
): Promise<AttributionResult> {
  const { attribution: a, sequenceLength, seed } = used;
  const { trainRows, testRows, labelOf, idsOf } = data;
  const exampleShape = [sequenceLength];
  const featureOptions = {
    batchSize: a.featureBatchSize,
    ...(a.projectionDim > 0 ? { projection: { kind: 'rademacher' as const, dim: a.projectionDim, seed } } : {}),
    onProgress: inputs.onProgress,
  };
  const trainLabels = Int32Array.from(trainRows, labelOf);
  const features = featurize(model, { inputs: idsOf(trainRows), exampleShape, labels: trainLabels }, featureOptions);
  const storeDir = inputs.featureStoreDir ?? (await mkdtemp(join(tmpdir(), 'provenant-features-')));
  await writeFeatureStore(storeDir, features, { model, snapshotRoot: snapshot.root, rowIds: trainRows.map((r) => r.id), contributors: trainRows.map((r) => r.contributor), labels: trainLabels });
  const store = await readFeatureStore(storeDir, { model });
  if (!inputs.featureStoreDir) await rm(storeDir, { recursive: true, force: true });
  const preconditioner: Preconditioner = a.method === 'datainf' ? fitDataInf(store.features) : a.method === 'grad-cos' ? gradCos() : gradDot();
  // The query passes batch like featurization: at a long context a default batch of 64 outgrows the wasm heap.
  const index = createAttributionIndex(model, store, { preconditioner, batchSize: a.featureBatchSize });
  try {
    const queries = attributeQueries(model, idsOf(testRows.slice(0, a.sampleQueries)), { index, topK: a.topK, exampleShape });
    // Rewards: every evaluated test row is a paid query attributed at its own prediction (no label exists at inference);
    // each query pays the contributors with positive net influence on it, in proportion. Summing those per-query shares
    // pays a contributor for the queries its data supported, whatever the mix of queries.
    const paidShares = new Map<string, number>();
    for (const q of attributeQueries(model, idsOf(testRows), { index, topK: 1, exampleShape })) {
      for (const [c, share] of Object.entries(q.shares ?? {})) paidShares.set(c, (paidShares.get(c) ?? 0) + Math.max(0, share));
    }
    // Quality flag: influence on the *correct* label, normalised per query and balanced over classes, so a contributor is
    // flagged only when its data pushes predictions away from the truth on balance — not merely because most queries
    // belong to another class.
    const truth = attributeQueries(model, idsOf(testRows), { index, topK: 1, exampleShape, labels: Int32Array.from(testRows, labelOf) });
    const totals = classBalancedTotals(truth, testRows.map(labelOf));
    const scoreDigest = keccak256(canonicalJson(truth.map((q) => Object.entries(q.contributorScores).sort().map(([c, v]) => [c, round(v)]))));
    const selfScores = selfInfluence(store.features, preconditioner);
    const quality: Record<string, number | string> = {};
    const noisy = new Set(inputs.mislabelledRowIds ?? []);
    const flagged = trainRows.map((r) => noisy.has(r.id));
    if (flagged.some(Boolean) && flagged.some((f) => !f)) {
      const auc = mislabelAuc(selfScores, flagged, { baseline: features.loss });
      quality.mislabelledRowsAuc = round(auc.auc);
      if (auc.baselineAuc !== undefined) quality.ownLossBaselineAuc = round(auc.baselineAuc);
      quality.mislabelledRowsInTraining = auc.flagged;
    }
    return {
      queries,
      paidShares,
      totals,
      scoreDigest,
      quality,
      parameterCount: store.manifest.info.parameters.length,
      preconditioner: { method: preconditioner.method, params: preconditioner.params },
    };
  } finally {
    index.dispose();
    preconditioner.dispose?.();
  }
}

/** Σ over classes of (mean over that class's queries of each contributor's score / the query's total |score|) / classes. */
function classBalancedTotals(truth: readonly QueryAttribution[], labels: readonly number[]): Map<string, number> {
  const perClass = new Map<number, { n: number; sums: Map<string, number> }>();
  truth.forEach((q, t) => {
    const k = labels[t]!;
    const entry = perClass.get(k) ?? { n: 0, sums: new Map<string, number>() };
    const scale = Object.values(q.contributorScores).reduce((acc, v) => acc + Math.abs(v), 0) || 1;
    for (const [c, v] of Object.entries(q.contributorScores)) entry.sums.set(c, (entry.sums.get(c) ?? 0) + v / scale);
    entry.n += 1;
    perClass.set(k, entry);
  });
  const totals = new Map<string, number>();
  for (const { n, sums } of perClass.values()) for (const [c, v] of sums) totals.set(c, (totals.get(c) ?? 0) + v / n / perClass.size);
  return totals;
}
