/**
 * BERT (Devlin et al. 2019) as transformers' `BertForSequenceClassification` / `BertModel`: word + position + token-type
 * embeddings, post-LayerNorm blocks (LayerNorm(x + sublayer(x)), ε from `layer_norm_eps`, 1e-12 by default),
 * bidirectional attention with padded keys masked, exact (erf) GELU, and a classifier on the pooler
 * (tanh(dense(h₀)), the first token's final hidden state).
 */
import type { ForwardContext } from '../linear.js';
import { linearForward } from '../linear.js';
import { tf, type Tensor, type Tensor2D } from '../tf.js';
import type { ArchitectureForward, BuiltParams, HfForwardInputs, ParamSpec } from './architecture.js';
import type { BertConfig } from './config.js';
import { activation, anyTrainable, attend, attentionBias, dataInput, defaultPositions, embed, layerNorm, selectRows, toHeads } from './layers.js';

export const bertPrefix = (config: BertConfig): string => (config.task === 'base' ? '' : 'bert.');

export function bertSpecs(config: BertConfig): ParamSpec[] {
  const p = bertPrefix(config);
  const D = config.hiddenSize;
  const linear = (module: string, inF: number, outF: number, head = false): ParamSpec => ({ type: 'linear', module, inFeatures: inF, outFeatures: outF, bias: true, layout: 'linear', ...(head ? { head } : {}) });
  const norm = (name: string): ParamSpec[] => [
    { type: 'tensor', name: `${name}.weight`, shape: [D], init: 'ones' },
    { type: 'tensor', name: `${name}.bias`, shape: [D], init: 'zeros' },
  ];
  const specs: ParamSpec[] = [
    { type: 'tensor', name: `${p}embeddings.word_embeddings.weight`, shape: [config.vocabSize, D], init: 'normal' },
    { type: 'tensor', name: `${p}embeddings.position_embeddings.weight`, shape: [config.maxPositions, D], init: 'normal' },
    { type: 'tensor', name: `${p}embeddings.token_type_embeddings.weight`, shape: [config.typeVocabSize, D], init: 'normal' },
    ...norm(`${p}embeddings.LayerNorm`),
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const b = `${p}encoder.layer.${i}`;
    specs.push(linear(`${b}.attention.self.query`, D, D), linear(`${b}.attention.self.key`, D, D), linear(`${b}.attention.self.value`, D, D));
    specs.push(linear(`${b}.attention.output.dense`, D, D), ...norm(`${b}.attention.output.LayerNorm`));
    specs.push(linear(`${b}.intermediate.dense`, D, config.intermediateSize));
    specs.push(linear(`${b}.output.dense`, config.intermediateSize, D), ...norm(`${b}.output.LayerNorm`));
  }
  // BertModel keeps its pooler (add_pooling_layer=True); the classifier reads it.
  specs.push(linear(`${p}pooler.dense`, D, D, config.task === 'sequence-classification'));
  if (config.task === 'sequence-classification') specs.push(linear('classifier', D, config.numLabels, true));
  return specs;
}

export function bertForward(config: BertConfig, params: BuiltParams): ArchitectureForward {
  const p = bertPrefix(config);
  const D = config.hiddenSize;
  const H = config.numHeads;
  const hd = D / H;
  const eps = config.layerNormEps;
  const words = params.tensor(`${p}embeddings.word_embeddings.weight`);
  const positionTable = params.tensor(`${p}embeddings.position_embeddings.weight`);
  const types = params.tensor(`${p}embeddings.token_type_embeddings.weight`);
  const embNorm = [params.tensor(`${p}embeddings.LayerNorm.weight`), params.tensor(`${p}embeddings.LayerNorm.bias`)] as const;
  const layers = Array.from({ length: config.numLayers }, (_, i) => {
    const b = `${p}encoder.layer.${i}`;
    return {
      query: params.linear(`${b}.attention.self.query`),
      key: params.linear(`${b}.attention.self.key`),
      value: params.linear(`${b}.attention.self.value`),
      attnOut: params.linear(`${b}.attention.output.dense`),
      attnNorm: [params.tensor(`${b}.attention.output.LayerNorm.weight`), params.tensor(`${b}.attention.output.LayerNorm.bias`)] as const,
      intermediate: params.linear(`${b}.intermediate.dense`),
      out: params.linear(`${b}.output.dense`),
      outNorm: [params.tensor(`${b}.output.LayerNorm.weight`), params.tensor(`${b}.output.LayerNorm.bias`)] as const,
    };
  });
  const pooler = params.linear(`${p}pooler.dense`);
  const classifier = config.task === 'sequence-classification' ? params.linear('classifier') : null;

  const hidden = (inputs: HfForwardInputs, ctx: ForwardContext): Tensor2D => {
    const [B, T] = inputs.inputIds.shape as [number, number];
    const positions = tf.tensor1d(Int32Array.from(inputs.positionIds ?? defaultPositions(B, T)), 'int32');
    const typeIds = inputs.tokenTypeIds ?? tf.zeros([B, T], 'int32');
    const sum = embed(words, inputs.inputIds).add(embed(positionTable, positions)).add(embed(types, typeIds));
    let h: Tensor = layerNorm(sum, embNorm[0], embNorm[1], eps);
    const bias = attentionBias(B, T, T, { causal: false, mask: inputs.attentionMask });
    let upstream = anyTrainable(words, positionTable, types, ...embNorm);
    for (const layer of layers) {
      const first = dataInput(ctx, upstream);
      upstream = true;
      const q = toHeads(linearForward(layer.query, h, first), B, T, H, hd);
      const k = toHeads(linearForward(layer.key, h, first), B, T, H, hd);
      const v = toHeads(linearForward(layer.value, h, first), B, T, H, hd);
      const attention = attend(q, k, v, bias, B, H, T, T, hd, 1 / Math.sqrt(hd), layer.attnOut.gemm);
      h = layerNorm(linearForward(layer.attnOut, attention, ctx).add(h), layer.attnNorm[0], layer.attnNorm[1], eps);
      const inner = activation(config.activation, linearForward(layer.intermediate, h, ctx));
      h = layerNorm(linearForward(layer.out, inner, ctx).add(h), layer.outNorm[0], layer.outNorm[1], eps);
    }
    return h as Tensor2D;
  };

  const head = (h: Tensor2D, inputs: HfForwardInputs, ctx: ForwardContext): Tensor2D => {
    if (!classifier) return h;
    const [B, T] = inputs.inputIds.shape as [number, number];
    const inner = { ...ctx, inputIsData: false };
    const first = selectRows(h, Array.from({ length: B }, (_, b) => b * T), true);
    const pooled = tf.tanh(linearForward(pooler, first, inner));
    return linearForward(classifier, pooled, inner);
  };

  return { hidden, head, defaultTargets: ['query', 'value'] };
}
