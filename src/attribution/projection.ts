/**
 * Random projections of gradient features to k dimensions, regenerated from a seed rather than stored.
 *
 * Every kind has E[P Pᵀ] = I (entries of variance 1/k), so inner products — and hence Grad-Dot, TracIn and influence
 * scores — are preserved in expectation and, by Johnson–Lindenstrauss, within (1 ± ε) for k = O(log n / ε²):
 * - `gaussian`: N(0, 1/k) entries (TRAK, Park et al. 2023, §3.1).
 * - `rademacher`: ±1/√k with equal probability (Achlioptas 2003, eq. 1).
 * - `sparse`: √(1/(k·density))·{+1, 0, −1} with probabilities {density/2, 1 − density, density/2}; density 1/3 is
 *   Achlioptas' "database-friendly" projection (2003, eq. 2), smaller densities are Li, Hastie & Church's very sparse
 *   projections (2006).
 * The matrix is [inputDim, k] so that features·P is a plain, non-transposed 2-D matmul (the fast wasm path).
 */
import { ProvenantError, createRng } from '../core/index.js';

export type ProjectionKind = 'gaussian' | 'rademacher' | 'sparse';

/** A dense projection of a whole feature vector to `dim` columns. */
export interface ProjectionSpec {
  kind: ProjectionKind;
  /** Output dimension k. */
  dim: number;
  /** Seed the matrix is regenerated from. */
  seed: number;
  /** Fraction of non-zero entries for `sparse` (default 1/3). */
  density?: number;
}

/**
 * A factorized (LoGra-style, Choe et al. 2024, §3.2) projection of each dense layer's gradient xᵀδ: the layer input is
 * projected to `inDim` and the output gradient to `outDim` separately, so the projected gradient (P_inᵀ x)ᵀ(P_outᵀ δ)
 * equals (P_in ⊗ P_out)ᵀ vec(xᵀδ) without ever forming the in×out gradient.
 */
export interface FactorizedProjectionSpec {
  kind: ProjectionKind;
  inDim: number;
  outDim: number;
  seed: number;
  density?: number;
}

/**
 * A 32-bit seed for one named sub-matrix (module and side, e.g. `fc1/in`), derived from the run's seed by FNV-1a over
 * the label, so each module's projection is reproducible on its own and independent of the order modules are visited.
 *
 * @example
 * ```ts
 * import { deriveSeed, projectionMatrix } from 'provenant/attribution';
 *
 * const pIn = projectionMatrix('rademacher', 784, 16, deriveSeed(42, 'fc1/in')); // Float32Array(784 · 16)
 * deriveSeed(42, 'fc1/in') === deriveSeed(42, 'fc1/in'); // true; 'fc1/out' gives another seed
 * ```
 */
export function deriveSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * Validates a projection spec: `kind` is 'gaussian', 'rademacher' or 'sparse'; every dimension a positive integer; a
 * sparse `density` in (0, 1].
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` naming the bad kind, dimension or density.
 * @example
 * ```ts
 * import { validateProjection } from 'provenant/attribution';
 *
 * validateProjection('sparse', [7850, 512], 1 / 3); // passes
 * validateProjection('rademacher', [0]);           // throws ATTRIBUTION_INPUT_INVALID: dimensions must be positive integers
 * ```
 */
export function validateProjection(kind: ProjectionKind, dims: number[], density?: number): void {
  if (kind !== 'gaussian' && kind !== 'rademacher' && kind !== 'sparse') {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown projection kind "${String(kind)}" (gaussian, rademacher, sparse).`);
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Projection dimensions must be positive integers, got ${d}.`);
  }
  if (density !== undefined && !(density > 0 && density <= 1)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Sparse projection density must be in (0, 1], got ${density}.`);
  }
}

/**
 * The [inputDim, k] projection matrix of `kind` drawn from `seed`, row-major float32. Deterministic: the same
 * arguments give the same bytes on every platform.
 *
 * @example
 * ```ts
 * import { projectionMatrix } from 'provenant/attribution';
 * const P = projectionMatrix('rademacher', 7850, 512, 42); // Float32Array(7850 * 512)
 * ```
 */
export function projectionMatrix(kind: ProjectionKind, inputDim: number, k: number, seed: number, density = 1 / 3): Float32Array {
  validateProjection(kind, [inputDim, k], density);
  const rng = createRng(seed >>> 0);
  const out = new Float32Array(inputDim * k);
  if (kind === 'gaussian') {
    const s = 1 / Math.sqrt(k);
    for (let i = 0; i < out.length; i++) out[i] = rng.nextNormal() * s;
  } else if (kind === 'rademacher') {
    const s = 1 / Math.sqrt(k);
    let bits = 0;
    for (let i = 0; i < out.length; i++) {
      // Use the 32 bits of one draw for 32 entries.
      if ((i & 31) === 0) bits = rng.nextUint32();
      out[i] = bits & (1 << (i & 31)) ? s : -s;
    }
  } else {
    const s = 1 / Math.sqrt(k * density);
    for (let i = 0; i < out.length; i++) {
      const u = rng.nextDouble();
      out[i] = u < density / 2 ? s : u < density ? -s : 0;
    }
  }
  return out;
}
