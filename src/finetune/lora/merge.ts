/**
 * Merging an adapter into the base kernels (W ← W + s·A·B, so inference costs nothing extra) and unmerging it.
 *
 * Unmerge is an exact inverse: merging keeps the kernel's bytes from before the merge, and unmerging writes them back —
 * not W − s·A·B, which in float32 differs from the original W by rounding (PEFT subtracts and accepts the drift).
 * Merges stack per module; unmerging one that is not the latest restores the bytes from before it and re-applies the
 * later merges. If the kernel was changed after the latest merge (e.g. trained while merged), the kept bytes are stale:
 * unmerge then falls back to subtracting s·A·B, as PEFT does, and the exactness guarantee no longer holds.
 * The kept bytes cost one copy of each merged kernel.
 */
import { ProvenantError, assertArgument, resolve, type ParamTable } from '../../core/index.js';
import type { Linear } from '../linear.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor } from '../tf.js';
import { adapterState, getAdapter, getLinear, readValues } from './registry.js';

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function assignKernel(linear: Linear, values: Float32Array): void {
  const t = tf.tensor(values, linear.kernel.shape, 'float32');
  linear.kernel.assign(t);
  t.dispose();
}

/** W ← W + sign·s·A·B for one adapter on one module (float32, as the forward pass computes it). */
function applyDelta(linear: Linear, adapter: string, sign: 1 | -1): void {
  const weights = linear.adapters.get(adapter)!;
  tf.tidy(() => {
    const delta = tf.matMul(weights.A, weights.B).mul(sign * weights.scale);
    linear.kernel.assign(linear.kernel.add(delta));
  });
}

function mergeModule(model: Model, m: string, adapter: string): void {
  const linear = getLinear(model, m);
  const stack = adapterState(model).merges.get(m) ?? [];
  const before = readValues(linear.kernel);
  applyDelta(linear, adapter, 1);
  stack.push({ adapter, before, after: readValues(linear.kernel) });
  adapterState(model).merges.set(m, stack);
  linear.merged = [...linear.merged, adapter];
}

/**
 * Merges an adapter into the kernels of its target modules: W ← W + s·A·B. The forward pass then skips it (its update is
 * in W), whether or not it is active. Merging an already merged adapter does nothing.
 *
 * @example
 * ```ts
 * import { mergeAdapter, unmergeAdapter, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * mergeAdapter(model, 'default');   // inference at base-model cost
 * unmergeAdapter(model, 'default'); // kernels back to their exact pre-merge bytes
 * ```
 */
export function mergeAdapter(model: Model, name: string): void {
  const record = getAdapter(model, name);
  for (const m of record.modules) {
    if (getLinear(model, m).merged.includes(name)) continue;
    mergeModule(model, m, name);
  }
}

/**
 * Undoes `mergeAdapter` exactly: the kernel's pre-merge bytes are written back (not W − s·A·B, which drifts by float32
 * rounding), later merges re-applied. The one exception (see the file comment): a kernel changed since its latest merge
 * falls back to subtracting s·A·B, as PEFT does. Modules where the adapter is not merged are skipped.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` when no adapter of that name is attached.
 *
 * @example
 * ```ts
 * import { mergeAdapter, unmergeAdapter, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * mergeAdapter(model, 'default'); // W ← W + s·A·B
 * unmergeAdapter(model, 'default'); // W back to its exact pre-merge bytes
 * ```
 */
export function unmergeAdapter(model: Model, name: string): void {
  const record = getAdapter(model, name);
  const state = adapterState(model);
  for (const m of record.modules) {
    const linear = getLinear(model, m);
    if (!linear.merged.includes(name)) continue;
    const stack = state.merges.get(m) ?? [];
    const index = stack.findIndex((e) => e.adapter === name);
    const top = stack[stack.length - 1];
    if (index >= 0 && top && sameBits(readValues(linear.kernel), top.after)) {
      const later = stack.slice(index + 1).map((e) => e.adapter);
      assignKernel(linear, stack[index]!.before);
      stack.length = index;
      linear.merged = linear.merged.filter((a) => a !== name && !later.includes(a));
      for (const adapter of later) mergeModule(model, m, adapter);
    } else {
      // The kernel changed since the last merge: the kept bytes are stale. Subtract, as PEFT does.
      applyDelta(linear, name, -1);
      stack.length = 0;
      linear.merged = linear.merged.filter((a) => a !== name);
    }
    if (stack.length === 0) state.merges.delete(m);
  }
}

/**
 * Merges every active adapter (PEFT's `merge_adapter()`): each active adapter's W ← W + s·A·B on its modules, so
 * inference runs at base-model cost. Already merged adapters are skipped. Undo with `unmergeAllAdapters`.
 *
 * @example
 * ```ts
 * import { mergeActiveAdapters, unmergeAllAdapters, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * mergeActiveAdapters(model);
 * model.linears.get('fc1')?.merged; // ['default']
 * unmergeAllAdapters(model);
 * ```
 */
export function mergeActiveAdapters(model: Model): void {
  for (const name of adapterState(model).active) mergeAdapter(model, name);
}

/**
 * Unmerges every merged adapter, newest first (PEFT's `unmerge_adapter()`), restoring each kernel's exact pre-merge
 * bytes (see `unmergeAdapter`).
 *
 * @example
 * ```ts
 * import { unmergeAllAdapters, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * unmergeAllAdapters(model);
 * [...model.linears.values()].every((l) => l.merged.length === 0); // true
 * ```
 */
export function unmergeAllAdapters(model: Model): void {
  const merged = new Set<string>();
  for (const linear of model.linears.values()) for (const a of linear.merged) merged.add(a);
  for (const name of [...merged].reverse()) unmergeAdapter(model, name);
}

/** The options of {@link checkMerge}. */
const CHECK_MERGE_PARAMS: ParamTable = Object.freeze({
  name: 'checkMerge',
  fields: [{ name: 'adapters', default: null, meaning: 'Adapters merged for the check; null: the active ones not yet merged.', aliases: ['adapter_names', 'adapterNames'] }],
});

/**
 * The largest |Δlogit| between the adapter path (x·W + s·x·A·B) and the merged path (x·(W + s·A·B)) on `inputs`, for the
 * given adapters (default: the active ones not yet merged). The model is left as it was. Expect float32 rounding,
 * ~1e-6 relative; anything larger means the merge is wrong.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name (with the nearest one); `ADAPTER_NOT_FOUND`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { checkMerge, type Model } from 'provenant/finetune';
 * declare const model: Model; // an MLP with 16 inputs and an attached adapter
 * const xs = tf.randomNormal([8, 16]);
 * checkMerge(model, xs); // max |merged − unmerged| over the logits, e.g. 3e-7
 * ```
 */
export function checkMerge(model: Model, inputs: Tensor, options: { adapters?: readonly string[] } = {}): number {
  resolve(CHECK_MERGE_PARAMS, options);
  const state = adapterState(model);
  const names = options.adapters ?? state.active.filter((n) => getAdapter(model, n).modules.some((m) => !getLinear(model, m).merged.includes(n)));
  for (const n of names) {
    const record = getAdapter(model, n);
    assertArgument(state.active.includes(n), 'options.adapters', `adapter "${n}" is not active, so the adapter path would not include it`, n);
    if (record.modules.some((m) => getLinear(model, m).merged.includes(n))) {
      throw new ProvenantError('INVALID_ARGUMENT', `Adapter "${n}" is already merged; unmerge it before checkMerge.`, { data: { adapter: n } });
    }
  }
  const logits = (): Float32Array => {
    const out = tf.tidy(() => model.forward(inputs));
    const values = Float32Array.from(out.dataSync() as Float32Array);
    out.dispose();
    return values;
  };
  const adapterPath = logits();
  const merged: string[] = [];
  let mergedPath: Float32Array;
  try {
    for (const n of names) {
      mergeAdapter(model, n);
      merged.push(n);
    }
    mergedPath = logits();
  } finally {
    for (const n of merged.reverse()) unmergeAdapter(model, n);
  }
  let max = 0;
  for (let i = 0; i < adapterPath.length; i++) max = Math.max(max, Math.abs(adapterPath[i]! - mergedPath[i]!));
  return max;
}

/**
 * Merges an adapter for good and removes it (PEFT's `merge_and_unload` for one adapter): W ← W + s·A·B becomes the new
 * base kernel, the adapter's A and B are freed, and no pre-merge bytes are kept. The base-model hash changes to that of
 * the merged weights — it is a new base. Adapters with modules_to_save are refused (their head copy would have to
 * replace the base's head; do it explicitly if that is what you mean).
 *
 * An adapter already merged (`mergeAdapter`) keeps its merged kernels, as PEFT's `merge_and_unload` keeps a merged
 * model's weights: the result is bit-identical to calling this on the unmerged adapter. Other adapters merged on the
 * same modules stay merged; those merged after this one still unmerge exactly, the others (whose kept pre-merge bytes
 * lack this adapter's update) unmerge by subtracting s·A·B, as PEFT does.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND`; `INVALID_ARGUMENT` when the adapter has modules_to_save.
 *
 * @example
 * ```ts
 * import { listAdapters, mergeAndUnload, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * mergeAndUnload(model, 'default');
 * listAdapters(model); // []  — and baseModelHash(model) is now the merged model's
 * ```
 */
export function mergeAndUnload(model: Model, name: string): void {
  const record = getAdapter(model, name);
  if (record.modulesToSave.length > 0) {
    throw new ProvenantError('INVALID_ARGUMENT', `Adapter "${name}" has modules_to_save copies; mergeAndUnload only folds LoRA factors.`, { data: { adapter: name } });
  }
  const state = adapterState(model);
  for (const m of record.modules) {
    const linear = getLinear(model, m);
    const stack = state.merges.get(m) ?? [];
    if (linear.merged.includes(name)) {
      // Its update is already in W. Merges below it kept bytes without it: drop them (their unmerge then subtracts).
      const index = stack.findIndex((e) => e.adapter === name);
      stack.splice(0, index + 1 > 0 ? index + 1 : stack.length);
      linear.merged = linear.merged.filter((a) => a !== name);
    } else {
      applyDelta(linear, name, 1);
      stack.length = 0; // every kept pre-merge byte now lacks this update
    }
    if (stack.length === 0) state.merges.delete(m);
    const weights = linear.adapters.get(name)!;
    weights.A.dispose();
    weights.B.dispose();
    linear.adapters.delete(name);
    linear.active = linear.active.filter((a) => a !== name);
  }
  state.adapters.delete(name);
  state.active = state.active.filter((a) => a !== name);
}
