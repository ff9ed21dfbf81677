export { runPipeline, ADAPTER_NAME } from './run-pipeline.js';
export type { PipelineResult } from './run-pipeline.js';
export { PIPELINE_DEFAULTS, DEFAULT_LORA } from './options.js';
export type { PipelineOptions, PipelineParameter, AttributionMethod, GuardChoice } from './options.js';
export { generalEnglish } from './general-english.js';
export type { GeneralEnglish, GeneralEnglishOptions } from './general-english.js';
export {
  GENERATIVE_DEFAULTS,
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
export type { GenerativeRow, GenerativeStageOptions, GenerativeStageRecord, GenerativeAnswerRecord, GenerativeSpanRecord } from './generative.js';
