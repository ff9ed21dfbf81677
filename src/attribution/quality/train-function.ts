/**
 * The one thing the harness asks of a caller: retrain on a subset of the training rows and report how well the result
 * does on each test point. The harness never sees a model, so it measures any set-up (tfjs, the float64 reference,
 * a remote trainer).
 */
import { ProvenantError } from '../../core/index.js';

/**
 * Retrains on `trainRows` (indices into the training set, ascending) and returns one number per test point (the
 * columns of the score matrix, in order), where **higher is better for that test point**: the negative loss or the
 * correct-class margin. Use the same training recipe (and, for non-convex models, average a few seeds) for every call.
 */
export type RetrainFunction = (trainRows: Uint32Array) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Calls `train` and checks that it returned `nTest` finite numbers, as a Float64Array. */
export async function callRetrain(train: RetrainFunction, rows: Uint32Array, nTest: number): Promise<Float64Array> {
  const out = await train(rows);
  if (!out || out.length !== nTest) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `The retrain function must return ${nTest} outputs (one per test point), got ${out?.length}.`, {
      data: { expected: nTest, got: out?.length },
    });
  }
  const copy = Float64Array.from(out);
  const bad = copy.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `The retrain function returned a non-finite output for test point ${bad}.`, {
      metaMessages: [`output[${bad}] = ${copy[bad]}`],
    });
  }
  return copy;
}

/** 0..n-1 without the indices in `removed`, ascending. */
export function complementRows(n: number, removed: ArrayLike<number>): Uint32Array {
  const drop = new Uint8Array(n);
  for (let k = 0; k < removed.length; k++) drop[removed[k]!] = 1;
  let count = 0;
  for (let i = 0; i < n; i++) if (!drop[i]) count++;
  const out = new Uint32Array(count);
  for (let i = 0, j = 0; i < n; i++) if (!drop[i]) out[j++] = i;
  return out;
}
