/**
 * The attribution quality harness: measures any attribution method against retraining, the way the field does
 * (leave-one-out correlation, linear datamodeling score, mislabel-detection AUC, brittleness). It reads scores as a
 * plain nTrain × nTest matrix and retrains through a caller-supplied function, so it measures any set-up.
 */
export { scoreMatrix, assertScoreMatrix, scoreColumn } from './score-matrix.js';
export type { ScoreMatrix } from './score-matrix.js';
// Named apart from src/eval's metrics (`auroc` there has bootstrap intervals): these are the harness's plain statistics.
export { averageRanks, pearson as pearsonCorrelation, spearman as spearmanCorrelation } from './correlation.js';
export type { RetrainFunction } from './train-function.js';
export { computeLooGroundTruth, looCorrelation } from './loo-correlation.js';
export type { LooGroundTruth, ComputeLooGroundTruthOptions, LooCorrelationResult } from './loo-correlation.js';
export { sampleLdsSubsets, computeLdsGroundTruth, linearDatamodelingScore } from './linear-datamodeling-score.js';
export type { LdsSubsetOptions, LdsGroundTruth, ComputeLdsGroundTruthOptions, LdsResult } from './linear-datamodeling-score.js';
export { auroc as rocAuc, mislabelAuc, flipLabels } from './mislabel-auc.js';
export type { MislabelAucOptions, MislabelAucResult, FlipLabelsOptions } from './mislabel-auc.js';
export { brittleness, topProponents } from './brittleness.js';
export type { BrittlenessOptions, BrittlenessResult } from './brittleness.js';
