/**
 * Evaluation: metrics with seeded bootstrap intervals, base-versus-tuned comparison, distribution drift, forgetting
 * across fine-tunes, deployment gates, Pareto fronts and text tables. Models plug in through {@link EvalModel}.
 */
export {
  bootstrapEstimate,
  runBootstrap,
  percentileInterval,
  quantileSorted,
  resolveBootstrapOptions,
  checkedBootstrapOptions,
  bootstrapOptionsTable,
  BOOTSTRAP_FIELDS,
  BOOTSTRAP_PARAMS,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  DEFAULT_BOOTSTRAP_ALPHA,
  DEFAULT_BOOTSTRAP_SEED,
} from './bootstrap.js';
export type { BootstrapOptions, BootstrapSummary, ConfidenceInterval, Estimate } from './bootstrap.js';
export { pairedBootstrap, bootstrapPValue } from './paired-bootstrap.js';
export type { PairedComparison } from './paired-bootstrap.js';
export { HIGHER_IS_BETTER, isMetricName } from './metric-result.js';
export type { MetricResult, MetricName, ClassificationMetricName, LanguageMetricName } from './metric-result.js';
export type { ProbabilityRows } from './validate.js';
export type { Predictions } from './predictions.js';
export { accuracy } from './accuracy.js';
export { precisionRecallF1 } from './precision-recall-f1.js';
export type { ClassificationReport, ClassScores, PrecisionRecallF1Options } from './precision-recall-f1.js';
export { logLoss, LOG_LOSS_EPSILON } from './log-loss.js';
export { auroc } from './auroc.js';
export type { AurocOptions } from './auroc.js';
export { expectedCalibrationError, DEFAULT_ECE_BINS } from './calibration.js';
export type { CalibrationOptions, CalibrationResult, ReliabilityBin } from './calibration.js';
export { perplexity, bitsPerCharacter } from './perplexity.js';
export type { TextScore, LanguageMetricResult } from './perplexity.js';
export { klDivergence, jensenShannonDivergence, distributionDrift, DEFAULT_KL_EPSILON } from './divergence.js';
export type { DivergenceOptions, DriftOptions, DriftResult } from './divergence.js';
export type {
  EvalModel,
  EvalTask,
  EvalTaskKind,
  ClassificationTask,
  LanguageTask,
  ClassificationDataset,
  TextDataset,
  LanguageInput,
} from './eval-model.js';
export { evaluateTask } from './evaluate-task.js';
export type { EvaluateTaskOptions, TaskEvaluation } from './evaluate-task.js';
export { DEFAULT_EVAL_BATCH_SIZE } from './task-statistic.js';
export { compareModels, verdictOf, VERDICT_RULE } from './compare-models.js';
export type { CompareModelsOptions, ComparisonTable, TaskComparison, Verdict } from './compare-models.js';
export { forgettingMeasures } from './forgetting.js';
export type { ForgettingMeasures, ForgettingOptions } from './forgetting.js';
export { evaluateStages } from './evaluate-stages.js';
export type { AccuracyMatrix, EvaluateStagesOptions } from './evaluate-stages.js';
export { evaluateGates } from './gates.js';
export type { Gate, GateQuantity, GateReport, GateResult, ThresholdGate, VerdictGate } from './gates.js';
export { paretoFront, learningForgettingFront } from './pareto.js';
export type { LearningForgettingPoint, ParetoObjective } from './pareto.js';
export { formatTable, formatNumber, formatComparisonTable, formatGateReport, formatForgettingMeasures } from './format.js';
export type { FormatTableOptions } from './format.js';
export { toEvalModel } from './finetune-adapter.js';
export type { FinetuneInput, ToEvalModelOptions } from './finetune-adapter.js';
export { sweep, sweepRuns } from './sweep.js';
export type { SweepGrid, SweepGuard, SweepGuardData, SweepOptions, SweepPoint, SweepResult } from './sweep.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
