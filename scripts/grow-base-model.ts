/**
 * Function-preserving growth of a base model for a warm start (`scripts/pretrain.ts --init-from`): the weights of a
 * smaller zoo transformer laid into a larger one's tensors so that the grown model computes the source's function on the
 * source's positions — position embeddings tiled to a longer context (Longformer's recipe, Beltagy et al. 2020 §5: row
 * p ← row p mod n), added blocks starting as the identity (attention and MLP output projections zero: a pre-LayerNorm
 * block then adds nothing to the residual stream), wider MLPs keeping the source's hidden units and adding new ones with
 * random input weights and zero output rows (Net2Net-style widening, Chen et al. 2016, with zero instead of split output
 * weights). Everything else must match in shape.
 */

/** A tensor as the zoo models hold it: its shape and its float32 values (row-major). */
export interface GrowTensor {
  shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/**
 * The grown model's tensors: `target` (the larger model's weights, by name, whose values serve as the random init of
 * anything new) filled from `source` (the smaller model's weights; `sourceLayers` blocks). Returns the tensors for
 * `loadModelState` and one note per tensor that was tiled, widened or zeroed. Layouts: `fc_in.weight` [D, H],
 * `fc_in.bias` [H], `fc_out.weight` [H, D], `embed_positions.weight` [T, D].
 *
 * @throws Error naming the tensor when a target tensor cannot be grown from the source (different width, fewer hidden
 * units, a missing tensor of a block the source has).
 */
export function growWeights(
  target: ReadonlyMap<string, GrowTensor>,
  source: ReadonlyMap<string, GrowTensor>,
  sourceLayers: number,
): { tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>; notes: string[] } {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  const notes: string[] = [];
  for (const [name, v] of target) {
    const shape = [...v.shape];
    const own = Float32Array.from(v.dataSync());
    const src = source.get(name);
    const layer = /^blocks\.(\d+)\./.exec(name);
    if (src && src.shape.join() === shape.join()) {
      tensors[name] = { dtype: 'F32', shape, data: Float32Array.from(src.dataSync()) };
    } else if (src && name === 'embed_positions.weight' && src.shape[1] === shape[1]) {
      const [n, d] = src.shape as [number, number];
      const data = Float32Array.from(src.dataSync());
      const out = new Float32Array(shape[0]! * d);
      for (let p = 0; p < shape[0]!; p++) out.set(data.subarray((p % n) * d, (p % n + 1) * d), p * d);
      tensors[name] = { dtype: 'F32', shape, data: out };
      notes.push(`${name}: [${src.shape}] tiled to [${shape}]`);
    } else if (src && /\.mlp\.fc_(in|out)\.(weight|bias)$/.test(name) && src.shape.length === shape.length) {
      // A wider MLP: the source's hidden units kept, new units with random input weights and zero output rows, so
      // they add nothing until trained.
      const data = Float32Array.from(src.dataSync());
      const out = /fc_out\.weight$/.test(name) ? new Float32Array(own.length) : own;
      if (name.endsWith('fc_in.weight')) {
        const [d, hs] = src.shape as [number, number];
        const h = shape[1]!;
        if (d !== shape[0] || hs > h) throw new Error(`--init-from: cannot widen ${name} from [${src.shape}] to [${shape}]`);
        for (let r = 0; r < d; r++) out.set(data.subarray(r * hs, (r + 1) * hs), r * h);
      } else if (name.endsWith('fc_out.weight')) {
        if (src.shape[1] !== shape[1] || src.shape[0]! > shape[0]!) throw new Error(`--init-from: cannot widen ${name} from [${src.shape}] to [${shape}]`);
        out.set(data, 0);
      } else if (name.endsWith('fc_in.bias')) {
        if (src.shape[0]! > shape[0]!) throw new Error(`--init-from: cannot widen ${name} from [${src.shape}] to [${shape}]`);
        out.set(data, 0);
      } else {
        throw new Error(`--init-from: cannot grow ${name} from [${src.shape}] to [${shape}]`);
      }
      tensors[name] = { dtype: 'F32', shape, data: out };
      notes.push(`${name}: [${src.shape}] widened to [${shape}] (new hidden units${name.endsWith('fc_out.weight') ? ' zero' : ''})`);
    } else if (!src && layer && Number(layer[1]) >= sourceLayers) {
      const zero = /\.(attn\.o_proj|mlp\.fc_out)\./.test(name);
      tensors[name] = { dtype: 'F32', shape, data: zero ? new Float32Array(own.length) : own };
      if (zero) notes.push(`${name}: zero (new block starts as the identity)`);
    } else {
      throw new Error(`--init-from: cannot grow ${name} from ${src ? `[${src.shape}]` : 'nothing'} to [${shape}]`);
    }
  }
  return { tensors, notes };
}
