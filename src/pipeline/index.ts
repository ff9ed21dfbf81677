export { runPipeline } from './run-pipeline.js';
export type { PipelineResult } from './run-pipeline.js';
export {
  PIPELINE_PARAMS,
  PIPELINE_TRAINING_PARAMS,
  PIPELINE_LORA_PARAMS,
  PIPELINE_DEFAULTS,
  defaultGates,
  resolvePipelineParams,
  describePipelineParams,
} from './options.js';
export type { PipelineOptions, PipelineInputs, PipelineParams, PipelineNames, PipelineAttribution, PipelineGuard, AttributionMethod, GuardChoice } from './options.js';
export { prepareData } from './stages/prepare-data.js';
export type { PreparedData, PipelineTokenizer } from './stages/prepare-data.js';
export { fineTune } from './stages/fine-tune.js';
export type { FineTuneResult } from './stages/fine-tune.js';
export { evaluate } from './stages/evaluate.js';
export type { EvaluationResult } from './stages/evaluate.js';
export { attribute } from './stages/attribute.js';
export type { AttributionResult } from './stages/attribute.js';
export { reward } from './stages/reward.js';
export type { RewardResult } from './stages/reward.js';
export { recordParts, parameterRows } from './stages/record-parts.js';
export type { StageOutputs } from './stages/record-parts.js';
export { generalEnglish } from './general-english.js';
export type { GeneralEnglish, GeneralEnglishOptions } from './general-english.js';
export {
  GENERATIVE_DEFAULTS,
  GENERATIVE_PARAMS,
  generativeParams,
  generativeTargetModules,
  resolveGenerativeParams,
  describeGenerativeModel,
  tokenizerFilesHash,
  PLANTED_FACTS,
  runGenerativeStage,
  fineTuneOnText,
  buildGenerativeIndex,
  answerRecord,
  generativeDemoData,
  plantedFactRows,
  sotuPassageRows,
  sotuEra,
  sampleInOrder,
} from './generative.js';
export type { GenerativeRow, GenerativeParams, GenerativeModelRecord, GenerativeStageOptions, GenerativeStageRecord, GenerativeAnswerRecord, GenerativeSpanRecord } from './generative.js';
