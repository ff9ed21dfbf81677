/**
 * Plain-data features: a row-major float32 matrix with named column blocks (one per parameter tensor or projected
 * module). Everything downstream (preconditioners, scorers, the feature store) takes and returns these.
 */
import { ProvenantError } from '../core/index.js';

/** A contiguous range of feature columns that belongs to one parameter tensor (or its projection). */
export interface FeatureBlock {
  /** e.g. `fc1.weight`, `fc1.bias`, `blocks.0.attn.q_proj.lora_A.default`, or `projected`. */
  name: string;
  /** The module (layer) this block belongs to; DataInf treats each module as one layer. */
  module: string;
  offset: number;
  size: number;
}

/** rows × dim float32, row-major. */
export interface FeatureMatrix {
  rows: number;
  dim: number;
  data: Float32Array;
  blocks: FeatureBlock[];
}

/** Checks sizes and block coverage; throws `ATTRIBUTION_SHAPE_MISMATCH`. */
export function validateFeatureMatrix(features: FeatureMatrix, what = 'features'): void {
  const { rows, dim, data, blocks } = features;
  if (!Number.isInteger(rows) || !Number.isInteger(dim) || rows < 0 || dim < 1 || data.length !== rows * dim) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${what}: data length ${data.length} is not rows × dim = ${rows} × ${dim}.`);
  }
  let offset = 0;
  for (const b of blocks) {
    if (b.offset !== offset || b.size < 1) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${what}: block "${b.name}" does not tile the columns (offset ${b.offset}, expected ${offset}).`);
    }
    offset += b.size;
  }
  if (offset !== dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${what}: blocks cover ${offset} columns of ${dim}.`);
}

/**
 * Throws `ATTRIBUTION_INPUT_INVALID` naming the first row (and column) holding NaN or ±Infinity. A non-finite feature
 * makes every score it touches NaN, and NaN compares false both ways: top-k silently drops the row or ranks it wrongly,
 * and sums over a contributor become NaN. Refusing up front names the culprit instead.
 *
 * @example
 * ```ts
 * import { assertFiniteFeatures, type FeatureMatrix } from 'provenant/attribution';
 * declare const train: FeatureMatrix;
 * assertFiniteFeatures(train, 'training features'); // throws: training features: row 17, column 3 is NaN
 * ```
 */
export function assertFiniteFeatures(features: FeatureMatrix, what = 'features'): void {
  const { data, dim } = features;
  for (let k = 0; k < data.length; k++) {
    const x = data[k]!;
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one subtraction per element.
    if (x - x !== 0) {
      const row = Math.floor(k / dim);
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `${what}: row ${row}, column ${k % dim} is ${x}.`, {
        details: 'Non-finite features (an exploded gradient, a NaN input) would make scores NaN and rows vanish from top-k. Fix or drop the row.',
        data: { row, column: k % dim, value: String(x), what },
      });
    }
  }
}

/** One block covering every column. */
export function singleBlock(dim: number, name = 'features'): FeatureBlock[] {
  return [{ name, module: name, offset: 0, size: dim }];
}

/** Stacks feature matrices with identical blocks row-wise (e.g. merged shards). */
export function concatRows(parts: readonly FeatureMatrix[]): FeatureMatrix {
  if (parts.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'concatRows needs at least one feature matrix.');
  const dim = parts[0]!.dim;
  for (const p of parts) {
    if (p.dim !== dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Cannot stack features of width ${p.dim} onto width ${dim}.`);
  }
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const data = new Float32Array(rows * dim);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { rows, dim, data, blocks: parts[0]!.blocks.map((b) => ({ ...b })) };
}

/**
 * Lays feature matrices with the same rows side by side, scaling part j by `scales[j]` (e.g. √η_c for TracInCP
 * checkpoints). Block names are prefixed with `prefixes[j]`.
 */
export function concatColumns(parts: readonly FeatureMatrix[], scales?: readonly number[], prefixes?: readonly string[]): FeatureMatrix {
  if (parts.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'concatColumns needs at least one feature matrix.');
  const rows = parts[0]!.rows;
  for (const p of parts) {
    if (p.rows !== rows) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Cannot lay ${p.rows} rows beside ${rows} rows.`);
  }
  const dim = parts.reduce((a, p) => a + p.dim, 0);
  const data = new Float32Array(rows * dim);
  const blocks: FeatureBlock[] = [];
  let col = 0;
  parts.forEach((p, j) => {
    const s = scales?.[j] ?? 1;
    for (let r = 0; r < rows; r++) {
      const src = r * p.dim;
      const dst = r * dim + col;
      for (let c = 0; c < p.dim; c++) data[dst + c] = p.data[src + c]! * s;
    }
    const prefix = prefixes?.[j] ?? (parts.length > 1 ? `${j}/` : '');
    for (const b of p.blocks) blocks.push({ name: prefix + b.name, module: prefix + b.module, offset: b.offset + col, size: b.size });
    col += p.dim;
  });
  return { rows, dim, data, blocks };
}

/** Rows [start, end) as a view-free copy. */
export function sliceRows(features: FeatureMatrix, start: number, end: number): FeatureMatrix {
  return {
    rows: end - start,
    dim: features.dim,
    data: features.data.slice(start * features.dim, end * features.dim),
    blocks: features.blocks.map((b) => ({ ...b })),
  };
}
