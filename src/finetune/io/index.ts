export {
  encodeSafetensors,
  decodeSafetensors,
  isSafetensorsDtype,
  safetensorsDtypeSize,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  bfloat16BitsToFloat32,
  float32ToBfloat16Bits,
  SAFETENSORS_DTYPES,
  SAFETENSORS_MAX_HEADER_BYTES,
} from './safetensors.js';
export type { SafetensorsDtype, SafetensorsTensor, SafetensorsTypedArray, SafetensorsArrayTypes, DecodedSafetensors } from './safetensors.js';
export {
  saveAdapter,
  loadAdapter,
  saveAdapterToDir,
  loadAdapterFromDir,
  loraConfigToPeft,
  loraConfigFromPeft,
  readAdapterLabels,
  UNSUPPORTED_PEFT_KEYS,
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  PEFT_METADATA_KEYS,
} from './peft.js';
export type { PeftAdapterFiles, PeftLoraConfigJson, SaveAdapterOptions, LoadAdapterOptions } from './peft.js';
