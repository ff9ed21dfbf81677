export { LORA_CONFIG_FIELDS, resolveLoraConfig, validateLoraConfig, loraScale, describeLoraConfig } from './config.js';
export type { LoraConfig, LoraConfigField, LoraConfigRow, LoraInit, LoraTargetModules } from './config.js';
export { resolveTargetModules, resolveModulesToSave, defaultTargetModules, outputHeadModules, isTargetModule, moduleRankAlpha, checkPatternKeys } from './target-modules.js';
export { householderQr } from './init.js';
export {
  attachAdapter,
  attachAdapterWeights,
  setActiveAdapter,
  setActiveAdapters,
  disableAdapters,
  activeAdapters,
  listAdapters,
  getAdapterInfo,
  deleteAdapter,
  parameterGroups,
  trainableVariables,
} from './adapter.js';
export type { AttachAdapterOptions, LoraModuleWeights, AdapterInfo, ParameterGroup } from './adapter.js';
export { mergeAdapter, unmergeAdapter, mergeActiveAdapters, unmergeAllAdapters, checkMerge, mergeAndUnload } from './merge.js';
export { baseModelHash, adapterHash, BASE_MODEL_HASH_FORMAT, ADAPTER_HASH_FORMAT, INIT_ONLY_CONFIG_FIELDS } from './hash.js';
export { adapterStateDict, convertedAdapterStateDict, PEFT_KEY_PREFIX } from './state-dict.js';
export type { StateTensor } from './state-dict.js';
export { addWeightedAdapter } from './weighted-merge.js';
export type { AddWeightedAdapterOptions, WeightedAdapterReport } from './weighted-merge.js';
export {
  baseModelFingerprint,
  baseModelMetadata,
  classificationHeadModules,
  diffBaseTensors,
  headHash,
  verifyAdapterBase,
  BASE_METADATA_KEYS,
  HEAD_CONFIG_FIELDS,
  HEAD_HASH_FORMAT,
} from './hash.js';
export type { BaseModelFingerprint, BaseTensorDiff } from './hash.js';
export { LORA_PARAMS } from './lora-params.js';
