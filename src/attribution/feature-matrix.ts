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

/**
 * Checks a feature matrix's shape: `data` holds rows × dim float32 values (row-major, dim ≥ 1) and the blocks tile the
 * columns in order, without gaps or overlaps. `what` names the matrix in the message.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a data length that is not rows × dim, or blocks that do not
 *   cover [0, dim) contiguously.
 * @example
 * ```ts
 * import { singleBlock, validateFeatureMatrix } from 'provenant/attribution';
 *
 * validateFeatureMatrix({ rows: 2, dim: 3, data: new Float32Array(6), blocks: singleBlock(3) }); // passes
 * validateFeatureMatrix({ rows: 2, dim: 3, data: new Float32Array(5), blocks: singleBlock(3) }, 'test features');
 * // throws ATTRIBUTION_SHAPE_MISMATCH: test features: data length 5 is not rows × dim = 2 × 3.
 * ```
 */
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

/**
 * One block covering every column (`offset` 0, `size` dim), named and moduled `name`: the block list of features that
 * have no per-parameter structure (a random projection of the whole gradient).
 *
 * @example
 * ```ts
 * import { singleBlock, type FeatureMatrix } from 'provenant/attribution';
 *
 * const features: FeatureMatrix = { rows: 2, dim: 4, data: new Float32Array(8), blocks: singleBlock(4, 'projected') };
 * // blocks: [{ name: 'projected', module: 'projected', offset: 0, size: 4 }]
 * ```
 */
export function singleBlock(dim: number, name = 'features'): FeatureBlock[] {
  return [{ name, module: name, offset: 0, size: dim }];
}

/**
 * Stacks feature matrices of one column layout row-wise (e.g. merged shards): rows add up, the blocks are the parts'
 * common blocks. Each part must be well formed (`data` holds rows × dim values, blocks tile the columns) and carry the
 * same blocks as the first — same names, modules, offsets and sizes — since stacking rows of different parameter
 * layouts would silently mix unrelated features in one column.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an empty list; `ATTRIBUTION_SHAPE_MISMATCH` naming the part
 *   whose data length is not rows × dim, whose width differs, or whose blocks differ from the first part's.
 * @example
 * ```ts
 * import { concatRows, type FeatureMatrix } from 'provenant/attribution';
 *
 * declare const shard0: FeatureMatrix, shard1: FeatureMatrix; // 1000 × 512 each
 * const all = concatRows([shard0, shard1]); // 2000 × 512
 * ```
 */
export function concatRows(parts: readonly FeatureMatrix[]): FeatureMatrix {
  if (parts.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'concatRows needs at least one feature matrix.');
  const first = parts[0]!;
  const dim = first.dim;
  parts.forEach((p, j) => {
    validateFeatureMatrix(p, `concatRows: part ${j}`);
    if (p.dim !== dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `concatRows: part ${j} has width ${p.dim}, part 0 width ${dim}.`, { data: { part: j } });
    const differs = p.blocks.findIndex((b, k) => {
      const a = first.blocks[k];
      return !a || a.name !== b.name || a.module !== b.module || a.offset !== b.offset || a.size !== b.size;
    });
    if (differs >= 0 || p.blocks.length !== first.blocks.length) {
      const k = differs >= 0 ? differs : Math.min(p.blocks.length, first.blocks.length);
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `concatRows: part ${j}'s column blocks differ from part 0's at block ${k}.`, {
        metaMessages: [`part 0: ${JSON.stringify(first.blocks[k] ?? null)}`, `part ${j}: ${JSON.stringify(p.blocks[k] ?? null)}`],
        data: { part: j, block: k },
      });
    }
  });
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
 * checkpoints, so a dot product sums η_c·gᵢ·gₜ over checkpoints; Pruthi et al. 2020, Eq. 4). Block names and modules
 * are prefixed with `prefixes[j]` (default `j/` when there is more than one part).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an empty list; `ATTRIBUTION_SHAPE_MISMATCH` when the row
 *   counts differ.
 * @example
 * ```ts
 * import { concatColumns, type FeatureMatrix } from 'provenant/attribution';
 *
 * declare const epoch1: FeatureMatrix, epoch2: FeatureMatrix; // n × 256 each, gradients at two checkpoints
 * const tracIn = concatColumns([epoch1, epoch2], [Math.sqrt(1e-3), Math.sqrt(5e-4)], ['ckpt1/', 'ckpt2/']); // n × 512
 * ```
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

/**
 * Rows [start, end) as a copy that shares no memory with `features` (blocks copied too).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` naming `start` or `end` unless they are integers with
 *   0 ≤ start ≤ end ≤ rows; `ATTRIBUTION_SHAPE_MISMATCH` when `features.data` does not hold rows × dim values.
 * @example
 * ```ts
 * import { sliceRows, type FeatureMatrix } from 'provenant/attribution';
 *
 * declare const train: FeatureMatrix; // 5000 × 512
 * const firstTile = sliceRows(train, 0, 1024); // 1024 × 512
 * ```
 */
export function sliceRows(features: FeatureMatrix, start: number, end: number): FeatureMatrix {
  const { rows, dim, data } = features;
  if (data.length !== rows * dim) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `sliceRows: data length ${data.length} is not rows × dim = ${rows} × ${dim}.`);
  }
  for (const [name, value, low, high] of [['start', start, 0, rows], ['end', end, start, rows]] as const) {
    if (!Number.isInteger(value) || value < low || value > high) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `sliceRows: ${name} = ${value} is not an integer in [${low}, ${high}].`, {
        details: `Rows [start, end) of a ${rows}-row matrix need 0 ≤ start ≤ end ≤ ${rows}.`,
        data: { argument: name, value, rows },
      });
    }
  }
  return {
    rows: end - start,
    dim: features.dim,
    data: features.data.slice(start * features.dim, end * features.dim),
    blocks: features.blocks.map((b) => ({ ...b })),
  };
}
