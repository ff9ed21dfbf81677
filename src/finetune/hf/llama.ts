/**
 * The Llama family (Touvron et al. 2023) as transformers' `LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`
 * (and their `*ForSequenceClassification` / `*Model`): RMSNorm before each block, rotary positions in the "rotate half"
 * layout from `rope_theta`, grouped-/multi-query attention (each key/value head serves num_heads / num_kv_heads query
 * heads), SwiGLU MLP down(silu(gate(x)) · up(x)), optional q/k/v biases (Qwen2), Mistral's sliding window, and a tied or
 * untied `lm_head`.
 */
import type { ForwardContext } from '../linear.js';
import { linearForward } from '../linear.js';
import { tf, type Tensor, type Tensor2D } from '../tf.js';
import type { ArchitectureForward, BuiltParams, HfForwardInputs, KvCache, ParamSpec } from './architecture.js';
import type { LlamaConfig } from './config.js';
import { activation, anyTrainable, attendGrouped, attentionBias, dataInput, defaultPositions, embed, rmsNorm } from './layers.js';
import { rotaryHeads, rotaryTables } from './rotary.js';
import { classificationHead } from './pooling.js';

export const llamaPrefix = (config: LlamaConfig): string => (config.task === 'base' ? '' : 'model.');

export function llamaSpecs(config: LlamaConfig): ParamSpec[] {
  const p = llamaPrefix(config);
  const D = config.hiddenSize;
  const qDim = config.numHeads * config.headDim;
  const kvDim = config.numKeyValueHeads * config.headDim;
  const linear = (module: string, inF: number, outF: number, bias: boolean): ParamSpec => ({ type: 'linear', module, inFeatures: inF, outFeatures: outF, bias, layout: 'linear' });
  const tied = config.task === 'causal-lm' && config.tieWordEmbeddings;
  const specs: ParamSpec[] = [];
  if (!tied) specs.push({ type: 'tensor', name: `${p}embed_tokens.weight`, shape: [config.vocabSize, D], init: 'normal' });
  for (let i = 0; i < config.numLayers; i++) {
    const b = `${p}layers.${i}`;
    specs.push({ type: 'tensor', name: `${b}.input_layernorm.weight`, shape: [D], init: 'ones' });
    specs.push(linear(`${b}.self_attn.q_proj`, D, qDim, config.qkvBias));
    specs.push(linear(`${b}.self_attn.k_proj`, D, kvDim, config.qkvBias));
    specs.push(linear(`${b}.self_attn.v_proj`, D, kvDim, config.qkvBias));
    specs.push(linear(`${b}.self_attn.o_proj`, qDim, D, config.oBias));
    specs.push({ type: 'tensor', name: `${b}.post_attention_layernorm.weight`, shape: [D], init: 'ones' });
    specs.push(linear(`${b}.mlp.gate_proj`, D, config.intermediateSize, config.mlpBias));
    specs.push(linear(`${b}.mlp.up_proj`, D, config.intermediateSize, config.mlpBias));
    specs.push(linear(`${b}.mlp.down_proj`, config.intermediateSize, D, config.mlpBias));
  }
  specs.push({ type: 'tensor', name: `${p}norm.weight`, shape: [D], init: 'ones' });
  if (config.task === 'causal-lm') {
    specs.push({ type: 'linear', module: 'lm_head', inFeatures: D, outFeatures: config.vocabSize, bias: false, layout: 'linear', ...(tied ? { tiedTo: `${p}embed_tokens.weight` } : {}) });
  } else if (config.task === 'sequence-classification') {
    specs.push({ type: 'linear', module: 'score', inFeatures: D, outFeatures: config.numLabels, bias: false, layout: 'linear', head: true });
  }
  return specs;
}

export function llamaForward(config: LlamaConfig, params: BuiltParams): ArchitectureForward {
  const p = llamaPrefix(config);
  const H = config.numHeads;
  const Hkv = config.numKeyValueHeads;
  const hd = config.headDim;
  const groups = H / Hkv;
  const eps = config.rmsNormEps;
  const tied = config.task === 'causal-lm' && config.tieWordEmbeddings;
  const layers = Array.from({ length: config.numLayers }, (_, i) => {
    const b = `${p}layers.${i}`;
    return {
      inputNorm: params.tensor(`${b}.input_layernorm.weight`),
      q: params.linear(`${b}.self_attn.q_proj`),
      k: params.linear(`${b}.self_attn.k_proj`),
      v: params.linear(`${b}.self_attn.v_proj`),
      o: params.linear(`${b}.self_attn.o_proj`),
      postNorm: params.tensor(`${b}.post_attention_layernorm.weight`),
      gate: params.linear(`${b}.mlp.gate_proj`),
      up: params.linear(`${b}.mlp.up_proj`),
      down: params.linear(`${b}.mlp.down_proj`),
    };
  });
  const norm = params.tensor(`${p}norm.weight`);
  const head = config.task === 'causal-lm' ? params.linear('lm_head') : config.task === 'sequence-classification' ? params.linear('score') : null;
  const embedding = tied ? head!.kernel : params.tensor(`${p}embed_tokens.weight`);

  /** [B·T, heads·d] → [B, heads, T, d]. */
  const split = (x: Tensor, B: number, T: number, heads: number) => x.reshape([B, T, heads, hd]).transpose([0, 2, 1, 3]);

  const hidden = (inputs: HfForwardInputs, ctx: ForwardContext, cache?: KvCache): Tensor2D => {
    const [B, T] = inputs.inputIds.shape as [number, number];
    const past = cache?.length ?? 0;
    const S = past + T;
    const rope = rotaryTables(inputs.positionIds ?? defaultPositions(B, T, past), hd, config.ropeTheta);
    const bias = attentionBias(B, T, S, { causal: true, mask: inputs.attentionMask, slidingWindow: config.slidingWindow });
    let h: Tensor = embed(embedding, inputs.inputIds, tied);
    let upstream = anyTrainable(embedding);
    layers.forEach((layer, i) => {
      upstream ||= anyTrainable(layer.inputNorm);
      const a = rmsNorm(h, layer.inputNorm, eps);
      const first = dataInput(ctx, upstream);
      upstream = true;
      const q = rotaryHeads(linearForward(layer.q, a, first), rope, B, T, H);
      let k = rotaryHeads(linearForward(layer.k, a, first), rope, B, T, Hkv);
      let v = split(linearForward(layer.v, a, first), B, T, Hkv);
      if (cache) {
        const previous = cache.layers[i];
        if (previous) {
          k = tf.concat([previous.key, k], 2);
          v = tf.concat([previous.value, v], 2);
          previous.key.dispose();
          previous.value.dispose();
        }
        cache.layers[i] = { key: tf.keep(k.clone()), value: tf.keep(v.clone()) };
      }
      // Grouped-query attention without copying keys and values (`repeat_kv`): query heads g·groups … g·groups + groups − 1
      // share key/value head g, so the queries of one group stack into one [groups·T, d] block per key/value head.
      const attention = attendGrouped(q, k, v, bias, B, H, Hkv, T, S, hd, 1 / Math.sqrt(hd), layer.o.gemm);
      h = h.add(linearForward(layer.o, attention, ctx));
      const m = rmsNorm(h, layer.postNorm, eps);
      const gated = activation('silu', linearForward(layer.gate, m, ctx)).mul(linearForward(layer.up, m, ctx));
      h = h.add(linearForward(layer.down, gated, ctx));
    });
    if (cache) cache.length = S;
    return rmsNorm(h, norm, eps) as Tensor2D;
  };

  return {
    hidden,
    head: (h, inputs, ctx) => classificationHead(config, head, h, inputs, ctx),
    defaultTargets: ['q_proj', 'v_proj'],
  };
}
