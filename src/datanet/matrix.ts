/**
 * Dense views of vector and image rows for training code: one row-major feature matrix and one label-index array,
 * the shape every model in `src/finetune` and every estimator in `src/attribution` starts from. Float64 is offered
 * because influence algebra on convex models needs it (Koh & Liang, 2017; small float32 errors swamp LOO effects).
 */
import { ProvenantError } from '../core/index.js';
import type { ImageInput, Label, StoredRow } from './types.js';

export interface RowMatrixOptions {
  /** Label vocabulary: `labels[i]` is the position of the row's label here (-1 if unlabelled). Usually `snapshot.classes`. */
  readonly classes: readonly Label[];
  /** Element type of `features`. Default 'float32'. */
  readonly dtype?: 'float32' | 'float64';
}

export interface RowMatrix<F extends Float32Array | Float64Array = Float32Array | Float64Array> {
  /** Row-major `[rows × columns]`. */
  readonly features: F;
  /** Class index per row (-1 for an unlabelled row). */
  readonly labels: Int32Array;
  readonly rows: number;
  readonly columns: number;
}

/**
 * Packs vector (or image) rows into a dense matrix and label indices. Throws `INVALID_ARGUMENT` for text rows, rows
 * of different lengths, or a label missing from `classes`.
 *
 * @example
 * ```ts
 * import { toMatrix, type DatanetSnapshot } from 'provenant/datanet';
 * declare const snapshot: DatanetSnapshot;
 * const { features, labels, columns } = toMatrix(snapshot.rows, { classes: snapshot.classes, dtype: 'float64' });
 * ```
 */
export function toMatrix(rows: readonly StoredRow[], options: RowMatrixOptions): RowMatrix {
  const classIndex = new Map(options.classes.map((c, i) => [JSON.stringify(c), i]));
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new ProvenantError('INVALID_ARGUMENT', `dtype must be "float32" or "float64", got ${String(dtype)}.`);
  const values = (row: StoredRow, i: number): readonly number[] => {
    if (typeof row.input === 'string') throw new ProvenantError('INVALID_ARGUMENT', `Row ${i} is text; toMatrix needs vector or image rows.`);
    return Array.isArray(row.input) ? (row.input as readonly number[]) : (row.input as ImageInput).data;
  };
  const columns = rows.length > 0 ? values(rows[0]!, 0).length : 0;
  const features = dtype === 'float64' ? new Float64Array(rows.length * columns) : new Float32Array(rows.length * columns);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    const v = values(row, i);
    if (v.length !== columns) {
      throw new ProvenantError('INVALID_ARGUMENT', `Row ${i} has ${v.length} values; row 0 has ${columns}.`, { data: { row: i } });
    }
    features.set(v, i * columns);
    if (row.label === undefined) labels[i] = -1;
    else {
      const k = classIndex.get(JSON.stringify(row.label));
      if (k === undefined) throw new ProvenantError('INVALID_ARGUMENT', `Row ${i} has label ${JSON.stringify(row.label)}, which is not in classes.`, { data: { row: i } });
      labels[i] = k;
    }
  });
  return { features, labels, rows: rows.length, columns };
}
