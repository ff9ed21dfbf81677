/**
 * Attribution: featurize → precondition → score, aggregation, reward split, and attribution at inference time.
 * Sign convention (τ > 0: proponent) and layouts (scores n_train × n_test row-major): see ./conventions.ts.
 *
 * @example
 * ```ts
 * // 1. Featurize once (cacheable): per-example loss gradients, projected.
 * const train = featurize(model, { inputs, exampleShape: [784], labels }, { projection: { kind: 'rademacher', dim: 512, seed: 1 } });
 * await writeFeatureStore('cache/features', train, { model, rowIds, contributors, labels });
 * // 2. Precondition (pluggable) and 3. score: a dense matrix for the quality harness …
 * const pre = fitDataInf(train.features);
 * const scores = denseScores(train.features, testFeatures.features, pre); // { values, nTrain, nTest }
 * // … or Proof of Attribution per paid query, from the store.
 * const index = createAttributionIndex(model, await readFeatureStore('cache/features'), { preconditioner: pre });
 * const { prediction, proponents, shares, split } = attributeQuery(model, pixels, { index, topK: 5, feeWei: 10n ** 15n });
 * ```
 */
export { splitReward, splitRewardDetailed } from './reward-split.js';
export type { RewardSplit } from './reward-split.js';
export * from './quality/index.js';
export * from './convex/index.js';
export { SCORE_LAYOUT } from './conventions.js';
export type { FeatureBlock, FeatureMatrix } from './feature-matrix.js';
export { validateFeatureMatrix, singleBlock, concatRows, concatColumns, sliceRows } from './feature-matrix.js';
export {
  selectParameters,
  parameterBlocks,
  logitGradients,
  captureBackward,
  perExampleGradientTensors,
  perExampleGradients,
} from './per-example-gradients.js';
export type {
  GradientTarget,
  ParameterSelection,
  ParameterOptions,
  ParameterEntry,
  LogitGradients,
  PerExampleGradientOptions,
  PerExampleGradients,
} from './per-example-gradients.js';
export { projectionMatrix, deriveSeed, validateProjection } from './projection.js';
export type { ProjectionKind, ProjectionSpec, FactorizedProjectionSpec } from './projection.js';
export { featurize, createFeaturizer, FEATURIZE_PARAMS } from './featurize.js';
export type { FeaturizeData, FeaturizeOptions, FeaturizeInfo, Features, Featurizer } from './featurize.js';
export * from './precondition/index.js';
export { TopK } from './top-k.js';
export type { ScoredRow } from './top-k.js';
export { createScoreIndex, denseScores, selfInfluence, argsortDescending, SCORE_INDEX_PARAMS } from './score-index.js';
export type { ScoreIndex, ScoreIndexOptions, QueryTopK, GroupScores } from './score-index.js';
export { aggregateScores, aggregateByContributor, aggregateByVersion, contributorShares } from './aggregate.js';
export type { ScoreReduction, GroupAggregate } from './aggregate.js';
export { serializeModel, restoreModel } from './model-spec.js';
export type { ModelSpec, TensorSpec } from './model-spec.js';
export {
  FEATURE_STORE_FORMAT,
  featureModelHash,
  featureStoreDigest,
  writeFeatureShard,
  mergeFeatureShards,
  writeFeatureStore,
  readFeatureStore,
  shardFileName,
} from './feature-store.js';
export type {
  ShardEntry,
  FeatureStoreManifest,
  FeatureStore,
  RowMetadata,
  MergeShardsOptions,
  WriteFeatureStoreOptions,
  ReadFeatureStoreOptions,
} from './feature-store.js';
export { featurizeInWorkers } from './featurize-workers.js';
export type { FeaturizeInWorkersOptions, FeaturizeWorkerData } from './featurize-workers.js';
export { createAttributionIndex, attributeQuery, attributeQueries, ATTRIBUTION_INDEX_PARAMS, ATTRIBUTE_QUERY_PARAMS } from './attribute-query.js';
export type { AttributionIndex, AttributionIndexOptions, AttributeQueryOptions, AttributedRow, QueryAttribution } from './attribute-query.js';
export * from './generation/index.js';
export { assertFiniteFeatures } from './feature-matrix.js';
export * from './linalg/index.js';
export { formatSignedShares, SIGNED_SHARES_LABEL } from './format-shares.js';
export { createTrakEnsemble, trakModelScores } from './trak-ensemble.js';
export type { TrakEnsemble, TrakEnsembleModel, TrakEnsembleOptions, TrakModelScores, TrakModelScoresOptions } from './trak-ensemble.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
