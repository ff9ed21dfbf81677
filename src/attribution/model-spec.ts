/**
 * A plain, transferable description of a model's weights (base weights, adapters, trainability), so a worker thread can
 * rebuild the same model and featurize a shard. Only what featurization needs: not a save format (that is
 * ../finetune/io's PEFT I/O).
 */
import { ProvenantError } from '../core/index.js';
import { createLogisticRegression, createMlp, createTransformer, tf, type Model } from '../finetune/index.js';

export interface TensorSpec {
  shape: number[];
  data: Float32Array;
}

export interface ModelSpec {
  kind: Model['kind'];
  config: object;
  /** Base weights by name, with their `trainable` flags. */
  weights: { name: string; tensor: TensorSpec; trainable: boolean }[];
  /** Per module: adapters (weights, scale, dropout, trainable), active and merged names. */
  modules: {
    name: string;
    active: string[];
    merged: string[];
    adapters: { name: string; A: TensorSpec; B: TensorSpec; scale: number; dropout: number; trainable: [boolean, boolean] }[];
  }[];
}

const spec = (v: tf.Variable): TensorSpec => ({ shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });

/**
 * Captures a model's weights and adapters as plain data (structured-clone friendly, float32 copies): base weights with
 * their `trainable` flags, and per module the LoRA adapters (A, B, scale, dropout, trainable), active and merged names —
 * so a worker thread can rebuild the same model with {@link restoreModel}. Not a save format (use the PEFT adapter I/O).
 *
 * @example
 * ```ts
 * import { serializeModel } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 * import { Worker } from 'node:worker_threads';
 *
 * declare const model: Model;
 * declare const worker: Worker;
 * worker.postMessage({ model: serializeModel(model) }); // rebuilt there with restoreModel
 * ```
 */
export function serializeModel(model: Model): ModelSpec {
  return {
    kind: model.kind,
    config: JSON.parse(JSON.stringify(model.config)) as object,
    weights: [...model.weights].map(([name, v]) => ({ name, tensor: spec(v), trainable: v.trainable })),
    modules: [...model.linears.values()].map((l) => ({
      name: l.name,
      active: [...l.active],
      merged: [...l.merged],
      adapters: [...l.adapters].map(([name, a]) => ({ name, A: spec(a.A), B: spec(a.B), scale: a.scale, dropout: a.dropout, trainable: [a.A.trainable, a.B.trainable] as [boolean, boolean] })),
    })),
  };
}

/**
 * Rebuilds a model from {@link serializeModel}'s output: a fresh logistic regression, MLP or transformer of the same
 * config, with the weights, trainable flags and adapters (active and merged) restored.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for a model kind that cannot be rebuilt here (e.g. a checkpoint
 *   loaded by `loadPretrained`), or a weight or module the fresh model does not have.
 * @example
 * ```ts
 * import { restoreModel, type ModelSpec } from 'provenant/attribution';
 *
 * declare const spec: ModelSpec; // received from the main thread
 * const model = restoreModel(spec); // same outputs as the serialized model
 * ```
 */
export function restoreModel(s: ModelSpec): Model {
  let model: Model;
  if (s.kind === 'logistic-regression') model = createLogisticRegression(s.config as Parameters<typeof createLogisticRegression>[0]);
  else if (s.kind === 'mlp') model = createMlp(s.config as Parameters<typeof createMlp>[0]);
  else if (s.kind === 'transformer') model = createTransformer(s.config as Parameters<typeof createTransformer>[0]);
  else throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Cannot rebuild a model of kind "${String(s.kind)}" in a worker.`);
  for (const w of s.weights) {
    const v = model.weights.get(w.name);
    if (!v) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Weight "${w.name}" does not exist in a fresh ${s.kind}.`);
    tf.tidy(() => v.assign(tf.tensor(w.tensor.data, w.tensor.shape, 'float32')));
    v.trainable = w.trainable;
  }
  for (const m of s.modules) {
    const layer = model.linears.get(m.name);
    if (!layer) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Module "${m.name}" does not exist in a fresh ${s.kind}.`);
    for (const a of m.adapters) {
      const A = tf.variable(tf.tensor(a.A.data, a.A.shape, 'float32'), a.trainable[0]);
      const B = tf.variable(tf.tensor(a.B.data, a.B.shape, 'float32'), a.trainable[1]);
      layer.adapters.set(a.name, { A, B, scale: a.scale, dropout: a.dropout });
    }
    layer.active = [...m.active];
    layer.merged = [...m.merged];
  }
  return model;
}
