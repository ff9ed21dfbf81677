/**
 * Exporting a model as a Hugging Face folder that transformers' `from_pretrained` loads: `config.json` (the loaded
 * config with `architectures`, labels and both dtype keys, `dtype` and `torch_dtype`, brought up to date), `model.safetensors` under the checkpoint's own
 * tensor names and layouts, and the tokenizer files copied from the source folder. Active adapters are folded in
 * (PEFT's `merge_and_unload`: W + s·A·B; a modules_to_save copy replaces its module), without changing the model in
 * memory.
 */
import { ProvenantError, checks, describeValue, resolve, type ParamCheck, type ParamTable } from '../../core/index.js';
import { adapterState } from '../lora/registry.js';
import { encodeSafetensors, float32ToBfloat16Bits, float32ToFloat16Bits, type SafetensorsTensor } from '../io/safetensors.js';
import { tf } from '../tf.js';
import { WEIGHTS_FILE } from './checkpoint.js';
import { CONFIG_FILE } from './load-pretrained.js';
import { transposeMatrix, type PretrainedModel } from './pretrained-model.js';

/** Files copied verbatim from the source folder when present (tokenizer and generation settings). */
export const COPIED_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'vocab.txt'];

export interface SaveMergedPretrainedOptions {
  /** Storage dtype; default 'F32'. BF16/F16 round each weight to nearest even. config.json's `dtype` and `torch_dtype` both name it. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Class names by index for a classification head (`id2label`); default the loaded config's, else LABEL_i. */
  labels?: readonly string[] | null;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

const labelsCheck: ParamCheck = (v) =>
  v === null || (Array.isArray(v) && v.every((l) => typeof l === 'string')) ? null : `must be an array of label strings or null, got ${describeValue(v)}`;

/**
 * The options of {@link saveMergedPretrained} (one parameter mechanism, `core/params.ts`): unknown names are refused with
 * the nearest field (transformers' `torch_dtype`, `id2label` map to theirs), so a typo never silently writes float32
 * weights or default labels.
 */
export const SAVE_MERGED_PRETRAINED_PARAMS: ParamTable = Object.freeze({
  name: 'saveMergedPretrained',
  fields: [
    {
      name: 'dtype',
      default: 'F32',
      meaning: "Storage dtype of model.safetensors; BF16/F16 round each weight to nearest even; config.json's dtype and torch_dtype both name it.",
      check: checks.oneOf(Object.keys(TORCH_DTYPE)),
      aliases: ['torch_dtype', 'torchDtype'],
    },
    {
      name: 'labels',
      default: null,
      meaning: "Class names by index for a classification head (id2label); null: the loaded config's, else LABEL_i.",
      check: labelsCheck,
      aliases: ['id2label', 'label_names', 'labelNames'],
    },
  ],
});

/**
 * The `config.json` keys that name the weights' dtype, both set to the torch name of `dtype` (F32 → `float32`, F16 →
 * `float16`, BF16 → `bfloat16`): transformers ≥ 5 reads `dtype` and 4.x `torch_dtype`, and `from_pretrained(dir,
 * dtype='auto')` loads the dtype the config names, so a config that keeps its source's key beside a new one loads the
 * wrong dtype. Every config.json Provenant writes (merged exports, the base model folder) spreads these after the
 * source's keys. Internal.
 */
export function configDtypeKeys(dtype: 'F32' | 'F16' | 'BF16'): { dtype: string; torch_dtype: string } {
  return { dtype: TORCH_DTYPE[dtype], torch_dtype: TORCH_DTYPE[dtype] };
}

/**
 * The weights the model computes with now, by checkpoint tensor name, in the checkpoint's layout (`nn.Linear` [out, in],
 * GPT-2 `Conv1D` [in, out]), float32: every active, unmerged LoRA adapter folded in as W + s·A·B (PEFT's
 * `merge_and_unload`); adapters already merged are in the kernel. The model is not changed. What `saveMergedPretrained`
 * writes (before any F16/BF16 rounding).
 *
 * @example
 * ```ts
 * import { loadPretrained, mergedStateDict } from 'provenant/finetune';
 *
 * const model = await loadPretrained('./tiny-llama');
 * const state = mergedStateDict(model);
 * state.get('model.embed_tokens.weight')?.shape; // [128, 32]  ([vocab, hidden])
 * ```
 */
export function mergedStateDict(model: PretrainedModel): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const kernels = new Map([...model.linears.values()].map((l) => [l.kernel, l] as const));
  for (const { name, variable, transpose } of model.fileTensors) {
    const linear = kernels.get(variable);
    let data: Float32Array = Float32Array.from(variable.dataSync() as Float32Array);
    if (linear) {
      const live = linear.active.filter((a) => !linear.merged.includes(a) && linear.adapters.has(a));
      if (live.length > 0) {
        const delta = tf.tidy(() => {
          let sum = tf.zeros([linear.inFeatures, linear.outFeatures]);
          for (const a of live) {
            const w = linear.adapters.get(a)!;
            sum = sum.add(tf.matMul(w.A, w.B).mul(w.scale));
          }
          return sum;
        });
        const d = delta.dataSync() as Float32Array;
        delta.dispose();
        for (let i = 0; i < data.length; i++) data[i] = data[i]! + d[i]!;
      }
    }
    const shape = [...variable.shape];
    if (transpose) {
      data = transposeMatrix(data, shape[0]!, shape[1]!);
      shape.reverse();
    }
    out.set(name, { shape, data });
  }
  return out;
}

/**
 * Writes the model (with its active adapters merged in) as a Hugging Face folder. Node only. Options resolve through
 * {@link SAVE_MERGED_PRETRAINED_PARAMS}.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option (with the nearest name) or a bad value (`dtype` not
 *   F32, F16 or BF16; `labels` not strings, or not one per class of the head), or when a module holds an inactive
 *   adapter's modules_to_save copy.
 *
 * @example
 * ```ts
 * import { loadAdapterFromDir, loadPretrained, saveMergedPretrained } from 'provenant/finetune';
 * const model = await loadPretrained('./tiny-llama');
 * await loadAdapterFromDir(model, 'default', './adapter');
 * await saveMergedPretrained(model, './tiny-llama-merged'); // AutoModelForCausalLM.from_pretrained('./tiny-llama-merged')
 * ```
 */
export async function saveMergedPretrained(model: PretrainedModel, dir: string, options: SaveMergedPretrainedOptions = {}): Promise<void> {
  const { mkdir, writeFile, copyFile, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { dtype, labels: givenLabels } = resolve<{ dtype: keyof typeof TORCH_DTYPE; labels: readonly string[] | null }>(SAVE_MERGED_PRETRAINED_PARAMS, options);
  const state = adapterState(model);
  for (const [m, owner] of state.loadedCopy) {
    if (owner !== null && !state.active.includes(owner)) {
      throw new ProvenantError('INVALID_ARGUMENT', `Module ${m} holds inactive adapter "${owner}"'s copy; activate the adapter to export.`);
    }
  }
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, { shape, data }] of mergedStateDict(model)) {
    tensors[name] = (dtype === 'F32' ? { dtype, shape, data } : { dtype, shape, data: dtype === 'BF16' ? float32ToBfloat16Bits(data) : float32ToFloat16Bits(data) }) as SafetensorsTensor;
  }
  const config: Record<string, unknown> = { ...model.rawConfig, architectures: [model.config.className], ...configDtypeKeys(dtype) };
  if (model.config.task === 'sequence-classification') {
    const n = model.config.numLabels;
    const labels = givenLabels ?? (model.config.id2label && Object.keys(model.config.id2label).length === n ? Array.from({ length: n }, (_, i) => model.config.id2label![String(i)] ?? `LABEL_${i}`) : Array.from({ length: n }, (_, i) => `LABEL_${i}`));
    if (labels.length !== n) throw new ProvenantError('INVALID_ARGUMENT', `labels has ${labels.length} names for a ${n}-class head.`);
    config.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
    delete config.num_labels;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(join(dir, WEIGHTS_FILE), encodeSafetensors(tensors, { format: 'pt' }));
  if (model.directory) {
    for (const file of COPIED_FILES) {
      const from = join(model.directory, file);
      if (await stat(from).then((s) => s.isFile(), () => false)) await copyFile(from, join(dir, file));
    }
  } else if (model.tokenizer) {
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(model.tokenizer.files.tokenizer));
    await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(model.tokenizer.files.config, null, 2)}\n`);
  }
}
