/**
 * `loadPretrained(dir)`: a local Hugging Face model folder → a `PretrainedModel` with its tokenizer.
 *
 * Strict, like PEFT adapter loading here: every tensor the architecture needs must be in the file with its exact shape,
 * and every tensor in the file must be used — one `PRETRAINED_WEIGHTS_MISMATCH` lists all offenders. Two tolerances, both
 * transformers' own: non-persistent buffers some older files carry (GPT-2's `attn.bias`/`attn.masked_bias`, BERT's
 * `position_ids`, Llama's `rotary_emb.inv_freq`) are skipped, and when a head other than the file's is asked for
 * (`numLabels` on a causal-LM or bare checkpoint) the file's own head tensors are left out and the new head is
 * initialised from `seed` (both listed on the model). Body tensors saved with or without the body prefix
 * (`transformer.`, `model.`, `bert.` — a bare `GPT2Model` checkpoint has none) are matched either way.
 *
 * Memory: weights are read one tensor at a time and widened to float32 in place (see `checkpoint.ts`); the model then
 * occupies 4 bytes per parameter (2× a BF16/F16 file), plus one tensor in flight while loading.
 */
import { ProvenantError, checks, describeValue, resolve, type ParamTable } from '../../core/index.js';
import type { ArchitectureForward, BuiltParams, ParamSpec } from './architecture.js';
import { bertForward, bertSpecs } from './bert.js';
import { nonFiniteValues, openCheckpoint } from './checkpoint.js';
import { HEAD_PARAMS, parseHfConfig, type HeadOptions, type HfModelConfig, type HfTask } from './config.js';
import { gpt2Forward, gpt2Specs } from './gpt2.js';
import { llamaForward, llamaSpecs } from './llama.js';
import { buildPretrainedModel, expectedFileTensors, type PretrainedModel } from './pretrained-model.js';
import { createPretrainedTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type PretrainedTokenizer } from './tokenizer.js';

export const CONFIG_FILE = 'config.json';

export interface LoadPretrainedOptions extends HeadOptions {
  /** Seed of any head initialised because the file lacks it (numLabels on an LM checkpoint). Default 0. */
  seed?: number;
  /** Read `tokenizer.json` when the folder has one (default true). */
  tokenizer?: boolean;
}

/** The options of {@link loadPretrained} (one parameter mechanism: unknown names refused with the nearest field). */
export const LOAD_PRETRAINED_PARAMS: ParamTable = Object.freeze({
  name: 'loadPretrained',
  fields: [
    ...HEAD_PARAMS.fields,
    { name: 'seed', default: 0, meaning: 'Seed of any head initialised because the file lacks it (numLabels on an LM checkpoint).', check: checks.int(0) },
    { name: 'tokenizer', default: true, meaning: 'Read tokenizer.json when the folder has one.', check: checks.boolean() },
  ],
});

/** The options of {@link createPretrainedFromConfig}; `tokenizer` (an instance) is an input, not a parameter. */
export const CREATE_PRETRAINED_PARAMS: ParamTable = Object.freeze({
  name: 'createPretrainedFromConfig',
  fields: [...HEAD_PARAMS.fields, { name: 'seed', default: 0, required: true, meaning: 'Seed of the initial weights.', check: checks.int(0) }],
  inputs: ['tokenizer'],
});

/** The prefix of the body's tensors inside a model with a head. */
const BODY_PREFIX = { gpt2: 'transformer.', llama: 'model.', bert: 'bert.' } as const;

/** Non-persistent buffers some files still carry; never weights. */
const BUFFER_PATTERNS = [/(^|\.)attn\.(masked_)?bias$/, /(^|\.)embeddings\.position_ids$/, /(^|\.)rotary_emb\.inv_freq$/];

/**
 * The architecture table: for a parsed config, the parameter specs (module paths, shapes and layouts exactly as
 * transformers names them — `nn.Linear` [out, in], GPT-2 `Conv1D` [in, out]) and the forward pass to run over the
 * variables built from them. `gpt2`, `llama` (also mistral and qwen2) and `bert`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { architectureOf, parseHfConfig } from 'provenant/finetune';
 *
 * const config = parseHfConfig(JSON.parse(readFileSync('tiny-llama/config.json', 'utf8')));
 * const { specs } = architectureOf(config);
 * specs[2]; // { type: 'linear', module: 'model.layers.0.self_attn.q_proj', inFeatures: 32, outFeatures: 32, bias: false, layout: 'linear' }
 * ```
 */
export function architectureOf(config: HfModelConfig): { specs: ParamSpec[]; forward: (params: BuiltParams) => ArchitectureForward } {
  switch (config.architecture) {
    case 'gpt2':
      return { specs: gpt2Specs(config), forward: (p) => gpt2Forward(config, p) };
    case 'llama':
      return { specs: llamaSpecs(config), forward: (p) => llamaForward(config, p) };
    case 'bert':
      return { specs: bertSpecs(config), forward: (p) => bertForward(config, p) };
  }
}

/** The task of the class named in `config.json` (before any `numLabels` override). */
function declaredTask(raw: Record<string, unknown>): HfTask | null {
  try {
    return parseHfConfig(raw).task;
  } catch {
    return null;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `${what} is not valid JSON.`, { cause, data: { path } });
  }
}

/**
 * Loads a local Hugging Face model folder: `config.json`, `model.safetensors` (or the shards of
 * `model.safetensors.index.json`; F32, F16, BF16 widened to float32), and `tokenizer.json` + `tokenizer_config.json` when
 * present. Architectures: `gpt2`, `llama`/`mistral`/`qwen2`, `bert`, with the heads of their `*LMHeadModel` /
 * `*ForCausalLM`, `*ForSequenceClassification` and bare `*Model` classes. Nothing is downloaded: a hub id is
 * `PRETRAINED_NOT_FOUND`.
 *
 * Errors: `PRETRAINED_NOT_FOUND` (no such folder, no weights file), `PRETRAINED_CONFIG_UNSUPPORTED` (unknown
 * `model_type`, or a config field that changes the computation and is not implemented — every one listed),
 * `PRETRAINED_WEIGHTS_MISMATCH` (missing, unexpected or mis-shaped tensors — every one listed; a `numLabels` that
 * contradicts a classification checkpoint's head is named as the cause), `PRETRAINED_WEIGHTS_INVALID` (NaN or ±Inf
 * values in a base weight: every such tensor with its count and first index — the scan costs one multiply-add per
 * value, 0.17–0.18 s on 135M parameters, 4–5 % of the load: benchmarks/hf-load-scan.ts), `INVALID_ARGUMENT` (an unknown or invalid option, with the nearest name), `SAFETENSORS_INVALID`,
 * `TOKENIZER_INVALID`.
 *
 * @example
 * ```ts
 * import { computeLogits, loadPretrained } from 'provenant/finetune';
 * const model = await loadPretrained('./tiny-llama');
 * const { shape, data } = computeLogits(model, { inputIds: [[1, 5, 9]] }); // shape [1, 3, vocab]
 * const classifier = await loadPretrained('./gpt2', { numLabels: 2, seed: 1 }); // new `score` head
 * ```
 */
export async function loadPretrained(dir: string, options: LoadPretrainedOptions = {}): Promise<PretrainedModel> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  if (typeof dir !== 'string' || dir.length === 0) throw new ProvenantError('INVALID_ARGUMENT', `loadPretrained needs a folder path, got ${describeValue(dir)}.`);
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    const looksLikeHubId = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(dir) && !dir.startsWith('.');
    throw new ProvenantError('PRETRAINED_NOT_FOUND', looksLikeHubId ? `"${dir}" is not a local folder; Provenant never downloads models.` : `No model folder at ${dir}.`, {
      details: looksLikeHubId
        ? `Download it once (e.g. \`huggingface-cli download ${dir} --local-dir ./${dir.split('/').pop()}\` or save_pretrained in Python) and pass the local folder.`
        : 'Pass a folder holding config.json and model.safetensors (or model.safetensors.index.json).',
      data: { path: dir, hubId: looksLikeHubId },
    });
  }
  const hasFile = async (name: string) => stat(join(dir, name)).then((s) => s.isFile(), () => false);
  if (!(await hasFile(CONFIG_FILE))) throw new ProvenantError('PRETRAINED_NOT_FOUND', `${dir} has no ${CONFIG_FILE}.`, { data: { path: dir } });
  const opts = resolve<{ numLabels: number | null; seed: number; tokenizer: boolean }>(LOAD_PRETRAINED_PARAMS, options);
  const raw = (await readJson(join(dir, CONFIG_FILE), CONFIG_FILE)) as Record<string, unknown>;
  const config = parseHfConfig(raw, opts.numLabels === null ? {} : { numLabels: opts.numLabels });
  const fileTask = declaredTask(raw);
  const headChanged = fileTask !== config.task;
  const { specs, forward } = architectureOf(config);

  let tokenizer: PretrainedTokenizer | null = null;
  if (opts.tokenizer && (await hasFile(TOKENIZER_FILE))) {
    const tokenizerJson = await readJson(join(dir, TOKENIZER_FILE), TOKENIZER_FILE);
    const tokenizerConfig = (await hasFile(TOKENIZER_CONFIG_FILE)) ? await readJson(join(dir, TOKENIZER_CONFIG_FILE), TOKENIZER_CONFIG_FILE) : {};
    tokenizer = createPretrainedTokenizer(tokenizerJson, tokenizerConfig);
  }

  const checkpoint = await openCheckpoint(dir);
  try {
    const body = BODY_PREFIX[config.architecture];
    // Each file key under its own name and under the other prefix convention (with / without the body prefix).
    const lookup = new Map<string, string>();
    for (const key of checkpoint.tensors.keys()) {
      lookup.set(key, key);
      const alternate = key.startsWith(body) ? key.slice(body.length) : `${body}${key}`;
      if (!lookup.has(alternate)) lookup.set(alternate, key);
    }
    const used = new Set<string>();
    const missing: string[] = [];
    const badShapes: string[] = [];
    const sourceOf = new Map<string, string>();
    // The user's numLabels against a classification checkpoint whose head has another size: the option is the cause.
    const headConflicts: string[] = [];
    for (const spec of specs) {
      for (const { name, shape, head } of expectedFileTensors(spec)) {
        const fileKey = lookup.get(name);
        const info = fileKey === undefined ? undefined : checkpoint.tensors.get(fileKey);
        const fits = info !== undefined && info.shape.join(',') === shape.join(',');
        // A new head (numLabels on another class's checkpoint) starts fresh where the file has nothing that fits.
        if (head && headChanged && !fits) continue;
        if (!info) {
          missing.push(`missing: ${name} [${shape.join(', ')}]`);
          continue;
        }
        used.add(info.name);
        sourceOf.set(name, info.name);
        if (!fits && head && opts.numLabels !== null) headConflicts.push(`${name} is [${info.shape.join(', ')}] in the file, numLabels ${opts.numLabels} needs [${shape.join(', ')}]`);
        else if (!fits) badShapes.push(`shape: ${name} is [${info.shape.join(', ')}] in the file, the config needs [${shape.join(', ')}]`);
      }
    }
    const ignored: string[] = [];
    const unexpected: string[] = [];
    const tiedHead = specs.some((s) => s.type === 'linear' && s.tiedTo !== undefined);
    for (const key of checkpoint.tensors.keys()) {
      if (used.has(key)) continue;
      const canonical = key.startsWith(body) ? key : `${body}${key}`;
      const isBody = key.startsWith(body) || specs.some((s) => expectedFileTensors(s).some((t) => t.name === canonical));
      if (BUFFER_PATTERNS.some((p) => p.test(key)) || (tiedHead && key === 'lm_head.weight') || (headChanged && !isBody)) ignored.push(key);
      else unexpected.push(`unexpected: ${key} ${JSON.stringify(checkpoint.tensors.get(key)!.shape)}`);
    }
    if (headConflicts.length > 0) {
      const fileLabels = typeof raw.num_labels === 'number' ? raw.num_labels : config.id2label ? Object.keys(config.id2label).length : null;
      throw new ProvenantError('PRETRAINED_WEIGHTS_MISMATCH', `${dir}: the option numLabels ${opts.numLabels} does not match this ${declaredTask(raw) === 'sequence-classification' ? 'classification ' : ''}checkpoint's ${fileLabels ?? 'saved'}-class head.`, {
        metaMessages: headConflicts,
        details: `Omit numLabels to use the checkpoint's head${fileLabels ? ` (${fileLabels} classes)` : ''}. transformers refuses this too (unless ignore_mismatched_sizes=True); for a fresh head of another size, start from a checkpoint without a classification head (a causal-LM or bare model).`,
        data: { option: 'numLabels', numLabels: opts.numLabels, checkpointLabels: fileLabels },
      });
    }
    const problems = [...missing, ...badShapes, ...unexpected];
    if (problems.length > 0) {
      throw new ProvenantError('PRETRAINED_WEIGHTS_MISMATCH', `${dir}: the checkpoint does not match its ${config.className} config (${problems.length} problem(s)).`, {
        metaMessages: problems,
        data: { missing: missing.length, shapes: badShapes.length, unexpected: unexpected.length },
      });
    }
    const initializerRange = typeof raw.initializer_range === 'number' ? raw.initializer_range : 0.02;
    // A NaN or infinite base weight turns every logit into NaN; refused here (every tensor scanned once as it is read).
    const nonFinite: Array<{ tensor: string; count: number; first: number; size: number }> = [];
    const model = await buildPretrainedModel({
      config,
      rawConfig: raw,
      specs,
      forward,
      source: async (name) => {
        const fileKey = sourceOf.get(name);
        if (fileKey === undefined) return null;
        const values = await checkpoint.read(fileKey);
        const bad = nonFiniteValues(values);
        if (bad) nonFinite.push({ tensor: fileKey, ...bad, size: values.length });
        return values;
      },
      seed: opts.seed,
      initializerRange,
      directory: dir,
      tokenizer,
      ignoredTensors: ignored,
    });
    if (nonFinite.length > 0) {
      model.dispose();
      throw new ProvenantError('PRETRAINED_WEIGHTS_INVALID', `${dir}: ${nonFinite.length} base weight tensor(s) hold NaN or infinite values.`, {
        metaMessages: nonFinite.map((t) => `${t.tensor} [${checkpoint.tensors.get(t.tensor)!.shape.join(', ')}] ${checkpoint.tensors.get(t.tensor)!.dtype}: ${t.count} of ${t.size} non-finite, first at flat index ${t.first}`),
        details: 'Every logit of such a model is NaN. Re-export the checkpoint from a healthy copy (a float16 export can overflow to ±Inf: keep float32 or bfloat16).',
        data: { tensors: nonFinite.map(({ tensor, count, first }) => ({ tensor, count, first })) },
      });
    }
    return model;
  } finally {
    await checkpoint.close();
  }
}

/**
 * A model of a `config.json`'s architecture with freshly initialised weights (N(0, initializer_range) matrices, unit
 * norms, zero biases — transformers' `_init_weights` scheme) and no file: for benchmarks, tests and pretraining.
 *
 * @example
 * ```ts
 * import { createPretrainedFromConfig } from 'provenant/finetune';
 * const model = await createPretrainedFromConfig(
 *   { model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 96, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 },
 *   { seed: 1 },
 * ); // random weights, no tokenizer
 * ```
 */
export async function createPretrainedFromConfig(configJson: Record<string, unknown>, options: HeadOptions & { seed: number; tokenizer?: PretrainedTokenizer | null }): Promise<PretrainedModel> {
  const used = resolve<{ numLabels: number | null; seed: number }>(CREATE_PRETRAINED_PARAMS, options);
  const config = parseHfConfig(configJson, used.numLabels === null ? {} : { numLabels: used.numLabels });
  const { specs, forward } = architectureOf(config);
  const initializerRange = typeof configJson.initializer_range === 'number' ? configJson.initializer_range : 0.02;
  return buildPretrainedModel({
    config,
    rawConfig: { ...configJson },
    specs,
    forward,
    source: async () => null,
    seed: used.seed,
    initializerRange,
    directory: null,
    tokenizer: options.tokenizer ?? null,
    ignoredTensors: [],
  });
}
