/**
 * What every Hugging Face architecture file provides, and the plain-data contract between them and the loader: a list
 * of parameter specs (module paths and shapes exactly as transformers names them), then a forward pass over the
 * variables built from those specs.
 */
import type { ForwardContext, Linear } from '../linear.js';
import type { Tensor, Tensor2D, Variable } from '../tf.js';

/** How a module's weight is stored in the checkpoint: `nn.Linear` [out, in], or GPT-2's `Conv1D` [in, out]. */
export type WeightLayout = 'linear' | 'conv1d';

export type ParamSpec =
  | {
      type: 'linear';
      /** Module path, e.g. `model.layers.0.self_attn.q_proj`. */
      module: string;
      inFeatures: number;
      outFeatures: number;
      bias: boolean;
      layout: WeightLayout;
      /** A tied output head: its weight is this embedding tensor ([out, in] = [vocab, hidden]) and is not in the file itself. */
      tiedTo?: string;
      /** Part of a task head that may be absent from the file (then initialised from the seed). */
      head?: boolean;
    }
  | {
      type: 'tensor';
      name: string;
      shape: number[];
      /** How a missing head tensor starts (only for `head` tensors). */
      init: 'ones' | 'zeros' | 'normal';
      head?: boolean;
    };

/** The variables the loader built, by module path / tensor name. */
export interface BuiltParams {
  linear(module: string): Linear;
  tensor(name: string): Variable;
}

/** Inputs of one forward pass (plain arrays for the masks and positions: they are built into bias tables in JS). */
export interface HfForwardInputs {
  /** int32 ids [B, T]. */
  inputIds: Tensor;
  /** 1 = real token, 0 = padding; [B · (cached + T)] row-major. Default all ones. */
  attentionMask?: ArrayLike<number> | null;
  /** BERT segment ids, int32 [B, T]; default zeros. */
  tokenTypeIds?: Tensor | null;
  /** Positions [B · T]; default cached..cached+T−1 for every row (transformers' plain forward pass). */
  positionIds?: ArrayLike<number> | null;
}

/** Keys and values of the positions already processed, per layer: [B·H_kv, S, d] each (kept tensors). */
export interface KvCache {
  layers: Array<{ key: Tensor; value: Tensor } | null>;
  /** S: positions cached. */
  length: number;
}

export interface ArchitectureForward {
  /** Final hidden states [B·T, D] (after the final norm for decoders; BERT's last layer). Extends `cache` when given. */
  hidden(inputs: HfForwardInputs, ctx: ForwardContext, cache?: KvCache): Tensor2D;
  /**
   * The task head on the hidden states: causal LM → logits [B·T, V]; sequence classification → [B, C]; base → h itself.
   */
  head(h: Tensor2D, inputs: HfForwardInputs, ctx: ForwardContext): Tensor2D;
  /** Modules whose weights PEFT's default `target_modules` names for this model type. */
  defaultTargets: string[];
}
