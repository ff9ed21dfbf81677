/**
 * Rotary position embedding (Su et al. 2021, RoFormer, eq. 34) in transformers' "rotate half" layout, fused with the
 * head split: a projection's output [B·T, H·d] goes to [B, H, T, d] already rotated, in one pass over plain arrays,
 * with the inverse rotation as its gradient. The tfjs form (reshape, transpose, x·cos + rotate_half(x)·sin with
 * rotate_half as a ±1 matmul, and the gradients of each) took 5.6 ms forward + backward per q projection of bench:hf's
 * Llama-256 ([1024, 256]); this, one loop each way, 2.4 ms (same process).
 *
 * Rounding as `LlamaRotaryEmbedding` + `apply_rotary_pos_emb` in float32: inv_freq_i = 1 / θ^(2i/d), angle =
 * inv_freq_i · position, then per pair (x_i, x_{i+d/2}): x_i·cos − x_{i+d/2}·sin and x_{i+d/2}·cos + x_i·sin, each
 * product and the sum rounded to float32.
 */
import { ProvenantError } from '../../core/index.js';
import { tensorFilled, valuesOf } from '../gemm/gemm-linear.js';
import { tf, type Tensor, type CustomGradientFunc } from '../tf.js';

/** cos and sin of every (row, frequency): [B·T, d/2] each, row b·T + t. */
export interface RotaryTables {
  readonly cos: Float32Array;
  readonly sin: Float32Array;
  readonly rows: number;
  readonly headDim: number;
}

/**
 * The rotary tables for `positions` [B·T] (row-major), head width `headDim` (even) and base `theta` (`rope_theta`),
 * computed with float32 roundings at the same steps as transformers' `LlamaRotaryEmbedding`. Built once per forward
 * pass and shared by every layer.
 */
export function rotaryTables(positions: ArrayLike<number>, headDim: number, theta: number): RotaryTables {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  const rows = positions.length;
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  // Rows of one position share their angles (every sequence of a batch counts 0..T−1): computed once, then copied.
  const firstRow = new Map<number, number>();
  for (let r = 0; r < rows; r++) {
    const p = positions[r]!;
    const seen = firstRow.get(p);
    if (seen !== undefined) {
      cos.copyWithin(r * half, seen * half, (seen + 1) * half);
      sin.copyWithin(r * half, seen * half, (seen + 1) * half);
      continue;
    }
    firstRow.set(p, r);
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(inv[i]! * p);
      cos[r * half + i] = Math.cos(angle);
      sin[r * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, rows, headDim };
}

/**
 * Rotates every head of x [B·T, H·d] into out laid out as [B, H, T, d] (`toHeads`), or with `inverse` undoes it: from
 * [B, H, T, d] back to [B·T, H·d], rotated by −angle (the transpose of a rotation, hence the gradient of the forward).
 * Each product is rounded to float32 (`Math.fround`) and each sum by the float32 store, as PyTorch's float32 ops round.
 */
function rotate(x: Float32Array, out: Float32Array, tables: RotaryTables, B: number, T: number, H: number, inverse: boolean): void {
  const d = tables.headDim;
  const half = d / 2;
  const { cos, sin } = tables;
  const sign = inverse ? -1 : 1;
  // Token-major offset of (row, h) is row·H·d + h·d; head-major ((b·H + h)·T + t)·d. Reading from one and writing to the
  // other is the same loop with the two offsets swapped.
  const tokenStep = d;
  const headStep = T * d;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      const table = row * half;
      for (let h = 0; h < H; h++) {
        const tokenMajor = row * H * d + h * tokenStep;
        const headMajor = (b * H + h) * headStep + t * d;
        const src = inverse ? headMajor : tokenMajor;
        const dst = inverse ? tokenMajor : headMajor;
        for (let i = 0; i < half; i++) {
          const c = cos[table + i]!;
          const s = sign * sin[table + i]!;
          const x1 = x[src + i]!;
          const x2 = x[src + half + i]!;
          out[dst + i] = Math.fround(x1 * c) - Math.fround(x2 * s);
          out[dst + half + i] = Math.fround(x2 * c) + Math.fround(x1 * s);
        }
      }
    }
  }
}

/**
 * RoPE fused with the head split: x [B·T, H·d] (a q or k projection's output, rows b·T + t) → [B, H, T, d] with each
 * head rotated by its row's angles, as transformers' `apply_rotary_pos_emb(split(x))`. Its gradient is the inverse
 * rotation back to [B·T, H·d]. `tables` must have B·T rows for this `headDim`.
 */
export function rotaryHeads(x: Tensor, tables: RotaryTables, B: number, T: number, H: number): Tensor {
  const d = tables.headDim;
  if (x.rank !== 2 || x.shape[0] !== B * T || x.shape[1] !== H * d || tables.rows !== B * T) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `rotaryHeads: expected x [${B * T}, ${H * d}] and ${B * T} table rows, got [${x.shape}] and ${tables.rows}.`);
  }
  const op = tf.customGrad(((input: Tensor) => ({
    value: tensorFilled([B, H, T, d], (out) => rotate(valuesOf(input), out, tables, B, T, H, false)),
    gradFunc: (dy: Tensor) => [tensorFilled([B * T, H * d], (out) => rotate(valuesOf(dy), out, tables, B, T, H, true))],
  })) as unknown as CustomGradientFunc);
  return op(x) as Tensor;
}
