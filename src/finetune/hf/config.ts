/**
 * A Hugging Face `config.json` read into the few numbers each architecture's forward pass needs, with every field that
 * would change the computation but is not implemented refused by name (a silently different function is worse than an
 * error). Field names and defaults follow transformers' `GPT2Config`, `LlamaConfig`/`MistralConfig`/`Qwen2Config` and
 * `BertConfig`.
 */
import { ProvenantError, checks, describeValue, resolve, type ParamTable } from '../../core/index.js';

export type HfArchitecture = 'gpt2' | 'llama' | 'bert';
/** What the checkpoint's head computes: next-token logits, class logits, or the bare encoder/decoder's hidden states. */
export type HfTask = 'causal-lm' | 'sequence-classification' | 'base';

interface CommonConfig {
  /** `model_type` as written (`gpt2`, `llama`, `mistral`, `qwen2`, `bert`). */
  modelType: string;
  /** transformers class (`architectures[0]`), e.g. `LlamaForCausalLM`. */
  className: string;
  task: HfTask;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Longest position (learned position tables; informational for RoPE models). */
  maxPositions: number;
  /** Class count for `sequence-classification`. */
  numLabels: number;
  padTokenId: number | null;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  tieWordEmbeddings: boolean;
  /** `id2label` when the config has one (class index → name). */
  id2label: Record<string, string> | null;
}

export interface Gpt2Config extends CommonConfig {
  architecture: 'gpt2';
  intermediateSize: number;
  layerNormEps: number;
  activation: 'gelu_new' | 'gelu' | 'relu';
  scaleAttnWeights: boolean;
  scaleAttnByInverseLayerIdx: boolean;
}

export interface LlamaConfig extends CommonConfig {
  architecture: 'llama';
  numKeyValueHeads: number;
  headDim: number;
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Bias on q, k and v (qwen2: always; llama: `attention_bias`). */
  qkvBias: boolean;
  /** Bias on o_proj (llama's `attention_bias` covers it too). */
  oBias: boolean;
  mlpBias: boolean;
  /** Mistral's sliding-window attention: a query sees at most this many keys back (null: unlimited). */
  slidingWindow: number | null;
}

export interface BertConfig extends CommonConfig {
  architecture: 'bert';
  intermediateSize: number;
  layerNormEps: number;
  typeVocabSize: number;
  activation: 'gelu' | 'gelu_new' | 'relu';
}

export type HfModelConfig = Gpt2Config | LlamaConfig | BertConfig;

const CLASSES: Record<string, { architecture: HfArchitecture; task: HfTask }> = {
  GPT2LMHeadModel: { architecture: 'gpt2', task: 'causal-lm' },
  GPT2ForSequenceClassification: { architecture: 'gpt2', task: 'sequence-classification' },
  GPT2Model: { architecture: 'gpt2', task: 'base' },
  LlamaForCausalLM: { architecture: 'llama', task: 'causal-lm' },
  LlamaForSequenceClassification: { architecture: 'llama', task: 'sequence-classification' },
  LlamaModel: { architecture: 'llama', task: 'base' },
  MistralForCausalLM: { architecture: 'llama', task: 'causal-lm' },
  MistralForSequenceClassification: { architecture: 'llama', task: 'sequence-classification' },
  MistralModel: { architecture: 'llama', task: 'base' },
  Qwen2ForCausalLM: { architecture: 'llama', task: 'causal-lm' },
  Qwen2ForSequenceClassification: { architecture: 'llama', task: 'sequence-classification' },
  Qwen2Model: { architecture: 'llama', task: 'base' },
  BertForSequenceClassification: { architecture: 'bert', task: 'sequence-classification' },
  BertModel: { architecture: 'bert', task: 'base' },
};

const MODEL_TYPES: Record<string, HfArchitecture> = { gpt2: 'gpt2', llama: 'llama', mistral: 'llama', qwen2: 'llama', bert: 'bert' };
const PREFIX: Record<HfArchitecture, string> = { gpt2: 'GPT2', llama: '', bert: 'Bert' };
const CLASS_PREFIX: Record<string, string> = { gpt2: 'GPT2', llama: 'Llama', mistral: 'Mistral', qwen2: 'Qwen2', bert: 'Bert' };

/**
 * The transformers class name for a model type and task (`llama` + `causal-lm` → `LlamaForCausalLM`), as written to
 * `config.json`'s `architectures` on export. Model types: `gpt2`, `llama`, `mistral`, `qwen2`, `bert`.
 *
 * @example
 * ```ts
 * import { hfClassName } from 'provenant/finetune';
 *
 * hfClassName('gpt2', 'causal-lm'); // 'GPT2LMHeadModel'
 * hfClassName('qwen2', 'sequence-classification'); // 'Qwen2ForSequenceClassification'
 * hfClassName('bert', 'base'); // 'BertModel'
 * ```
 */
export function hfClassName(modelType: string, task: HfTask): string {
  const p = CLASS_PREFIX[modelType] ?? PREFIX.gpt2;
  if (task === 'base') return `${p}Model`;
  if (task === 'sequence-classification') return `${p}ForSequenceClassification`;
  return modelType === 'gpt2' ? 'GPT2LMHeadModel' : `${p}ForCausalLM`;
}

/** Options that change which head is built. */
export interface HeadOptions {
  /**
   * Build a sequence-classification head with this many classes (`score` for decoders, `classifier` + pooler for BERT),
   * e.g. on a causal-LM or bare checkpoint; its weights come from the file when present, else are initialised from `seed`.
   */
  numLabels?: number;
}

/**
 * {@link HeadOptions} in the one parameter mechanism (`core/params.ts`): `numLabels` checked, unknown names (`num_labels`)
 * refused with the nearest field. `loadPretrained` and `createPretrainedFromConfig` extend it.
 */
export const HEAD_PARAMS: ParamTable = Object.freeze({
  name: 'head',
  fields: [
    {
      name: 'numLabels',
      default: null,
      meaning: "Build a sequence-classification head with this many classes (null: the config's own head).",
      check: checks.nullable(checks.int(1)),
      aliases: ['num_labels'],
    },
  ],
});

/**
 * Parses `config.json` (already JSON-decoded) into a model config. Every problem is listed in one
 * `PRETRAINED_CONFIG_UNSUPPORTED` error; a bad or unknown option (`options`) is `INVALID_ARGUMENT` (see {@link HEAD_PARAMS}).
 *
 * @example
 * ```ts
 * import { parseHfConfig } from 'provenant/finetune';
 * import { readFileSync } from 'node:fs';
 * const config = parseHfConfig(JSON.parse(readFileSync('tiny-llama/config.json', 'utf8')));
 * config.architecture; // 'llama'
 * ```
 */
export function parseHfConfig(json: unknown, options: HeadOptions = {}): HfModelConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `config.json must hold an object, got ${describeValue(json)}.`);
  }
  // A shallow copy: normalising (e.g. rope_parameters.rope_theta → rope_theta) must not touch the caller's object.
  const c = { ...(json as Record<string, unknown>) };
  const problems: string[] = [];
  const modelType = c.model_type;
  const architecture = typeof modelType === 'string' ? MODEL_TYPES[modelType] : undefined;
  if (!architecture) {
    throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `model_type ${describeValue(modelType)} is not supported.`, {
      metaMessages: [`supported: ${Object.keys(MODEL_TYPES).join(', ')}`],
      data: { modelType },
    });
  }
  const declared = Array.isArray(c.architectures) && typeof c.architectures[0] === 'string' ? (c.architectures[0] as string) : null;
  let task: HfTask;
  if (declared !== null) {
    const known = CLASSES[declared];
    if (!known || known.architecture !== architecture) {
      problems.push(`architectures: ${declared} is not supported for model_type ${modelType as string} (supported: ${Object.keys(CLASSES).filter((k) => CLASSES[k]!.architecture === architecture).join(', ')})`);
      task = 'base';
    } else {
      task = known.task;
    }
  } else {
    task = architecture === 'bert' ? 'base' : 'causal-lm';
  }
  const { numLabels } = resolve<{ numLabels: number | null }>(HEAD_PARAMS, options);
  if (numLabels !== null) task = 'sequence-classification';
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      problems.push(`${key}: must be a non-negative integer, got ${describeValue(c[key])}`);
      return 1;
    }
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${key}: must be a finite number, got ${describeValue(c[key])}`);
      return fallback;
    }
    return v;
  };
  const id = (key: string): number | null => (Number.isSafeInteger(c[key]) ? (c[key] as number) : null);
  const id2label = c.id2label && typeof c.id2label === 'object' ? (c.id2label as Record<string, string>) : null;
  const configLabels = Number.isSafeInteger(c.num_labels) ? (c.num_labels as number) : id2label ? Object.keys(id2label).length : 2;
  const eos = c.eos_token_id;
  const common = {
    modelType: modelType as string,
    className: hfClassName(modelType as string, task),
    task,
    numLabels: numLabels ?? configLabels,
    padTokenId: id('pad_token_id'),
    bosTokenId: id('bos_token_id'),
    eosTokenId: Number.isSafeInteger(eos) ? (eos as number) : Array.isArray(eos) && eos.every((e) => Number.isSafeInteger(e)) ? (eos as number[]) : null,
    id2label,
  };
  const refuse = (key: string, ok: (v: unknown) => boolean, why: string) => {
    if (!ok(c[key])) problems.push(`${key}: ${why} (got ${describeValue(c[key])})`);
  };
  const absent = (v: unknown) => v === undefined || v === null;
  let config: HfModelConfig;
  if (architecture === 'gpt2') {
    const hidden = int('n_embd');
    const activation = (c.activation_function ?? 'gelu_new') as string;
    if (!['gelu_new', 'gelu', 'relu'].includes(activation)) problems.push(`activation_function: ${activation} is not supported (gelu_new, gelu, relu)`);
    refuse('reorder_and_upcast_attn', (v) => !v, 'the upcast attention variant is not implemented');
    refuse('add_cross_attention', (v) => !v, 'cross-attention is not implemented');
    config = {
      ...common,
      architecture,
      vocabSize: int('vocab_size'),
      hiddenSize: hidden,
      numLayers: int('n_layer'),
      numHeads: int('n_head'),
      maxPositions: int('n_positions'),
      intermediateSize: c.n_inner === null || c.n_inner === undefined ? 4 * hidden : int('n_inner'),
      layerNormEps: num('layer_norm_epsilon', 1e-5),
      activation: activation as Gpt2Config['activation'],
      scaleAttnWeights: c.scale_attn_weights !== false,
      scaleAttnByInverseLayerIdx: c.scale_attn_by_inverse_layer_idx === true,
      tieWordEmbeddings: c.tie_word_embeddings !== false,
    };
  } else if (architecture === 'llama') {
    const hidden = int('hidden_size');
    const heads = int('num_attention_heads');
    const act = c.hidden_act ?? 'silu';
    if (act !== 'silu') problems.push(`hidden_act: only silu is implemented, got ${describeValue(act)}`);
    // transformers 5 writes `rope_parameters: { rope_theta, rope_type }`; 4.x wrote `rope_theta` and `rope_scaling`.
    const plainRope = (v: unknown) =>
      absent(v) || (typeof v === 'object' && ['default', undefined].includes((v as Record<string, unknown>).rope_type as string | undefined) && ['default', undefined].includes((v as Record<string, unknown>).type as string | undefined));
    refuse('rope_scaling', plainRope, 'RoPE scaling (linear, dynamic, yarn, llama3 …) is not implemented');
    refuse('rope_parameters', plainRope, 'RoPE scaling (linear, dynamic, yarn, llama3 …) is not implemented');
    const ropeParameters = c.rope_parameters && typeof c.rope_parameters === 'object' ? (c.rope_parameters as Record<string, unknown>) : null;
    if (ropeParameters && ropeParameters.rope_theta !== undefined) c.rope_theta = ropeParameters.rope_theta;
    refuse('pretraining_tp', (v) => absent(v) || v === 1, 'tensor-parallel pretraining slices change rounding only with pretraining_tp > 1, which is not implemented');
    const qwen = modelType === 'qwen2';
    const sliding =
      modelType === 'mistral' && Number.isSafeInteger(c.sliding_window)
        ? (c.sliding_window as number)
        : qwen && c.use_sliding_window === true && Number.isSafeInteger(c.sliding_window)
          ? (c.sliding_window as number)
          : null;
    if (qwen && c.use_sliding_window === true) problems.push('use_sliding_window: Qwen2 sliding-window layers are not implemented');
    const kv = c.num_key_value_heads === undefined || c.num_key_value_heads === null ? heads : int('num_key_value_heads');
    const headDim = c.head_dim === undefined || c.head_dim === null ? Math.floor(hidden / heads) : int('head_dim');
    if (kv < 1 || heads % kv !== 0) problems.push(`num_key_value_heads: ${kv} must divide num_attention_heads ${heads}`);
    const attentionBias = c.attention_bias === true;
    config = {
      ...common,
      architecture,
      vocabSize: int('vocab_size'),
      hiddenSize: hidden,
      numLayers: int('num_hidden_layers'),
      numHeads: heads,
      numKeyValueHeads: kv,
      headDim,
      maxPositions: int('max_position_embeddings', 2048),
      intermediateSize: int('intermediate_size'),
      rmsNormEps: num('rms_norm_eps', 1e-6),
      ropeTheta: num('rope_theta', 10000),
      qkvBias: qwen || attentionBias,
      oBias: attentionBias,
      mlpBias: c.mlp_bias === true,
      slidingWindow: sliding,
      tieWordEmbeddings: c.tie_word_embeddings === true,
    };
  } else {
    const activation = (c.hidden_act ?? 'gelu') as string;
    if (!['gelu', 'gelu_new', 'relu'].includes(activation)) problems.push(`hidden_act: ${activation} is not supported (gelu, gelu_new, relu)`);
    refuse('position_embedding_type', (v) => absent(v) || v === 'absolute', 'only absolute position embeddings are implemented');
    refuse('is_decoder', (v) => !v, 'BERT as a decoder is not implemented');
    config = {
      ...common,
      architecture,
      vocabSize: int('vocab_size'),
      hiddenSize: int('hidden_size'),
      numLayers: int('num_hidden_layers'),
      numHeads: int('num_attention_heads'),
      maxPositions: int('max_position_embeddings', 512),
      intermediateSize: int('intermediate_size'),
      layerNormEps: num('layer_norm_eps', 1e-12),
      typeVocabSize: int('type_vocab_size', 2),
      activation: activation as BertConfig['activation'],
      tieWordEmbeddings: false,
    };
  }
  if (config.architecture !== 'llama' && config.numHeads > 0 && config.hiddenSize % config.numHeads !== 0) {
    problems.push(`hidden size ${config.hiddenSize} must be a multiple of the ${config.numHeads} heads`);
  }
  if (problems.length > 0) {
    throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `config.json (${modelType as string}) describes a model Provenant cannot compute faithfully.`, {
      metaMessages: problems,
      data: { modelType, problems },
    });
  }
  return config;
}
