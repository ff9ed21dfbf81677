/**
 * An adapter's weights under PEFT's key names and layouts — what `adapter_model.safetensors` holds and what the adapter
 * hash covers (`get_peft_model_state_dict` in peft/utils/save_and_load.py, adapter name removed):
 *
 *   base_model.model.<module>.lora_A.weight   [r, in]   = Aᵀ   (tfjs keeps A [in, r])
 *   base_model.model.<module>.lora_B.weight   [out, r]  = Bᵀ   (tfjs keeps B [r, out])
 *   base_model.model.<module>.weight          [out, in] = the adapter's modules_to_save copy of the kernel, transposed
 *   base_model.model.<module>.bias            [out]     = … and of its bias
 *
 * (In memory PEFT names the copy `<module>.modules_to_save.<adapter>.weight`; on disk both `modules_to_save.` and the
 * adapter name are removed, leaving the module's own key.)
 */
import type { Model } from '../models/model.js';
import { modulesToSaveValues } from './adapter.js';
import type { LoraConfig } from './config.js';
import { getAdapter, getLinear, readValues } from './registry.js';

/** PEFT's prefix for a LoRA model's module paths (`PeftModel.base_model` → `LoraModel.model`). */
export const PEFT_KEY_PREFIX = 'base_model.model.';

export interface StateTensor {
  shape: [number, number] | [number];
  /** float32 values, row-major in the shape above (PyTorch layout). */
  data: Float32Array;
}

/** Row-major transpose of a rows×cols matrix. */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** PEFT's file key of a module's lora_A / lora_B weight. */
export const loraKey = (module: string, factor: 'A' | 'B'): string => `${PEFT_KEY_PREFIX}${module}.lora_${factor}.weight`;
/** PEFT's file key of a modules_to_save copy's weight or bias. */
export const savedModuleKey = (module: string, weight: 'weight' | 'bias'): string => `${PEFT_KEY_PREFIX}${module}.${weight}`;

/**
 * The adapter's tensors by PEFT key, in PyTorch layout (float32). Keys are listed sorted.
 *
 * @example
 * ```ts
 * import { adapterStateDict, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * const sd = adapterStateDict(model, 'default');
 * sd['base_model.model.fc1.lora_A.weight'].shape; // [r, in]
 * ```
 */
export function adapterStateDict(model: Model, name: string): Record<string, StateTensor> {
  const record = getAdapter(model, name);
  const entries: Array<[string, StateTensor]> = [];
  for (const m of record.modules) {
    const linear = getLinear(model, m);
    const { A, B } = linear.adapters.get(name)!;
    const r = A.shape[1]!;
    entries.push([loraKey(m, 'A'), { shape: [r, linear.inFeatures], data: transpose(readValues(A), linear.inFeatures, r) }]);
    entries.push([loraKey(m, 'B'), { shape: [linear.outFeatures, r], data: transpose(readValues(B), r, linear.outFeatures) }]);
  }
  for (const m of record.modulesToSave) {
    const linear = getLinear(model, m);
    const values = modulesToSaveValues(model, name, m);
    entries.push([savedModuleKey(m, 'weight'), { shape: [linear.outFeatures, linear.inFeatures], data: transpose(values.kernel, linear.inFeatures, linear.outFeatures) }]);
    if (values.bias) entries.push([savedModuleKey(m, 'bias'), { shape: [linear.outFeatures], data: Float32Array.from(values.bias) }]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/**
 * A PiSSA or OLoRA adapter rewritten as a plain LoRA adapter for the *original* base (PEFT's
 * `path_initial_model_for_weight_conversion`): the tuned model computes W_res + s·A·B = W + s·(A·B − A₀·B₀), which is
 * the rank-2r adapter A' = [A | −A₀], B' = [B; B₀] at the same scale s (so r' = 2r and alpha' = 2·alpha, or √2·alpha
 * with rsLoRA). Returns null for an adapter whose initialisation left the base alone. The state dict is in PEFT's keys
 * and PyTorch layouts (`lora_A.weight` [2r, in], `lora_B.weight` [out, 2r]); `originalKernels` holds each module's
 * original W [in, out] (the base to load the converted adapter onto).
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` when no adapter of that name is attached.
 *
 * @example
 * ```ts
 * import { attachAdapter, convertedAdapterStateDict, createMlp } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'pissa', { r: 2, alpha: 2, targetModules: ['fc2'], initLoraWeights: 'pissa' }, { seed: 1 });
 * const converted = convertedAdapterStateDict(model, 'pissa');
 * converted?.config.r; // 4 (= 2r), alpha 4; keys 'base_model.model.fc2.lora_A.weight' [4, 32], '….lora_B.weight' [2, 4]
 * ```
 */
export function convertedAdapterStateDict(model: Model, name: string): { stateDict: Record<string, StateTensor>; config: LoraConfig; originalKernels: Map<string, Float32Array> } | null {
  const record = getAdapter(model, name);
  if (!record.initial || record.initial.size === 0) return null;
  const stateDict = adapterStateDict(model, name);
  const originalKernels = new Map<string, Float32Array>();
  const doubleAlpha = (alpha: number) => (record.config.useRslora ? alpha * Math.SQRT2 : 2 * alpha);
  for (const [m, initial] of record.initial) {
    const linear = getLinear(model, m);
    const { A, B } = linear.adapters.get(name)!;
    const r = A.shape[1]!;
    const n = linear.inFeatures;
    const o = linear.outFeatures;
    const a = readValues(A);
    const b = readValues(B);
    const wideA = new Float32Array(n * 2 * r);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < r; c++) {
        wideA[i * 2 * r + c] = a[i * r + c]!;
        wideA[i * 2 * r + r + c] = -initial.A[i * r + c]!;
      }
    }
    const tallB = new Float32Array(2 * r * o);
    tallB.set(b, 0);
    tallB.set(initial.B, r * o);
    stateDict[loraKey(m, 'A')] = { shape: [2 * r, n], data: transpose(wideA, n, 2 * r) };
    stateDict[loraKey(m, 'B')] = { shape: [o, 2 * r], data: transpose(tallB, 2 * r, o) };
    originalKernels.set(m, initial.kernel);
  }
  const mapValues = (pattern: Readonly<Record<string, number>>, f: (v: number) => number) =>
    Object.fromEntries(Object.entries(pattern).map(([k, v]) => [k, f(v)]));
  const config: LoraConfig = {
    ...record.config,
    r: 2 * record.config.r,
    alpha: doubleAlpha(record.config.alpha),
    rankPattern: mapValues(record.config.rankPattern, (v) => 2 * v),
    alphaPattern: mapValues(record.config.alphaPattern, doubleAlpha),
    initLoraWeights: true,
  };
  return { stateDict, config, originalKernels };
}
