/**
 * GPT-2 (Radford et al. 2019) as transformers' `GPT2LMHeadModel` / `GPT2ForSequenceClassification` / `GPT2Model`:
 * learned positions, pre-LayerNorm blocks, fused `c_attn` (q, k, v concatenated on the output axis), `Conv1D` weights
 * stored [in, out] (tfjs's layout already), `gelu_new`, and an `lm_head` tied to `wte`.
 */
import type { ForwardContext } from '../linear.js';
import { linearForward } from '../linear.js';
import { tf, type Tensor, type Tensor2D } from '../tf.js';
import type { ArchitectureForward, BuiltParams, HfForwardInputs, KvCache, ParamSpec } from './architecture.js';
import type { Gpt2Config } from './config.js';
import { activation, anyTrainable, attend, attentionBias, dataInput, defaultPositions, embed, layerNorm, toHeads } from './layers.js';
import { classificationHead } from './pooling.js';

/** The module-path prefix of the GPT-2 body inside a model with a head (`transformer.`), or '' for `GPT2Model`. */
export const gpt2Prefix = (config: Gpt2Config): string => (config.task === 'base' ? '' : 'transformer.');

export function gpt2Specs(config: Gpt2Config): ParamSpec[] {
  const p = gpt2Prefix(config);
  const D = config.hiddenSize;
  const vector = (name: string): ParamSpec => ({ type: 'tensor', name, shape: [D], init: name.endsWith('.bias') ? 'zeros' : 'ones' });
  const conv = (module: string, inF: number, outF: number): ParamSpec => ({ type: 'linear', module, inFeatures: inF, outFeatures: outF, bias: true, layout: 'conv1d' });
  const specs: ParamSpec[] = [
    { type: 'tensor', name: `${p}wpe.weight`, shape: [config.maxPositions, D], init: 'normal' },
  ];
  if (config.task !== 'causal-lm' || !config.tieWordEmbeddings) specs.push({ type: 'tensor', name: `${p}wte.weight`, shape: [config.vocabSize, D], init: 'normal' });
  for (let i = 0; i < config.numLayers; i++) {
    const b = `${p}h.${i}`;
    specs.push(vector(`${b}.ln_1.weight`), vector(`${b}.ln_1.bias`));
    specs.push(conv(`${b}.attn.c_attn`, D, 3 * D), conv(`${b}.attn.c_proj`, D, D));
    specs.push(vector(`${b}.ln_2.weight`), vector(`${b}.ln_2.bias`));
    specs.push(conv(`${b}.mlp.c_fc`, D, config.intermediateSize), conv(`${b}.mlp.c_proj`, config.intermediateSize, D));
  }
  specs.push(vector(`${p}ln_f.weight`), vector(`${p}ln_f.bias`));
  if (config.task === 'causal-lm') {
    specs.push({
      type: 'linear',
      module: 'lm_head',
      inFeatures: D,
      outFeatures: config.vocabSize,
      bias: false,
      layout: 'linear',
      ...(config.tieWordEmbeddings ? { tiedTo: `${p}wte.weight` } : {}),
    });
  } else if (config.task === 'sequence-classification') {
    specs.push({ type: 'linear', module: 'score', inFeatures: D, outFeatures: config.numLabels, bias: false, layout: 'linear', head: true });
  }
  return specs;
}

export function gpt2Forward(config: Gpt2Config, params: BuiltParams): ArchitectureForward {
  const p = gpt2Prefix(config);
  const D = config.hiddenSize;
  const H = config.numHeads;
  const hd = D / H;
  const eps = config.layerNormEps;
  const tied = config.task === 'causal-lm' && config.tieWordEmbeddings;
  const wpe = params.tensor(`${p}wpe.weight`);
  const blocks = Array.from({ length: config.numLayers }, (_, i) => {
    const b = `${p}h.${i}`;
    return {
      ln1: [params.tensor(`${b}.ln_1.weight`), params.tensor(`${b}.ln_1.bias`)] as const,
      ln2: [params.tensor(`${b}.ln_2.weight`), params.tensor(`${b}.ln_2.bias`)] as const,
      cAttn: params.linear(`${b}.attn.c_attn`),
      cProj: params.linear(`${b}.attn.c_proj`),
      cFc: params.linear(`${b}.mlp.c_fc`),
      mlpProj: params.linear(`${b}.mlp.c_proj`),
    };
  });
  const lnF = [params.tensor(`${p}ln_f.weight`), params.tensor(`${p}ln_f.bias`)] as const;
  const head = config.task === 'causal-lm' ? params.linear('lm_head') : config.task === 'sequence-classification' ? params.linear('score') : null;
  const wte = tied ? head!.kernel : params.tensor(`${p}wte.weight`);

  const hidden = (inputs: HfForwardInputs, ctx: ForwardContext, cache?: KvCache): Tensor2D => {
    const [B, T] = inputs.inputIds.shape as [number, number];
    const past = cache?.length ?? 0;
    const S = past + T;
    const positions = inputs.positionIds ?? defaultPositions(B, T, past);
    const positionTensor = tf.tensor1d(Int32Array.from(positions), 'int32');
    let h: Tensor = embed(wte, inputs.inputIds, tied).add(embed(wpe, positionTensor));
    const bias = attentionBias(B, T, S, { causal: true, mask: inputs.attentionMask });
    let upstream = anyTrainable(wte, wpe);
    blocks.forEach((block, i) => {
      upstream ||= anyTrainable(...block.ln1);
      const a = layerNorm(h, block.ln1[0], block.ln1[1], eps);
      const qkv = linearForward(block.cAttn, a, dataInput(ctx, upstream));
      upstream = true;
      const [q, k, v] = tf.split(qkv, 3, 1);
      let key = toHeads(k!, B, T, H, hd);
      let value = toHeads(v!, B, T, H, hd);
      if (cache) {
        const previous = cache.layers[i];
        if (previous) {
          key = tf.concat([previous.key.reshape([B, H, past, hd]), key.reshape([B, H, T, hd])], 2).reshape([B * H, S, hd]);
          value = tf.concat([previous.value.reshape([B, H, past, hd]), value.reshape([B, H, T, hd])], 2).reshape([B * H, S, hd]);
          previous.key.dispose();
          previous.value.dispose();
        }
        cache.layers[i] = { key: tf.keep(key.clone()), value: tf.keep(value.clone()) };
      }
      let scale = config.scaleAttnWeights ? 1 / Math.sqrt(hd) : 1;
      if (config.scaleAttnByInverseLayerIdx) scale /= i + 1;
      const attention = attend(toHeads(q!, B, T, H, hd), key, value, bias, B, H, T, S, hd, scale, block.cProj.gemm);
      h = h.add(linearForward(block.cProj, attention, ctx));
      const m = layerNorm(h, block.ln2[0], block.ln2[1], eps);
      h = h.add(linearForward(block.mlpProj, activation(config.activation, linearForward(block.cFc, m, ctx)), ctx));
    });
    if (cache) cache.length = S;
    return layerNorm(h, lnF[0], lnF[1], eps) as Tensor2D;
  };

  return {
    hidden,
    head: (h, inputs, ctx) => classificationHead(config, head, h, inputs, ctx),
    defaultTargets: ['c_attn'],
  };
}
