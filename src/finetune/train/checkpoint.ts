/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped — the optimised tensors, AdamW's
 * moments and step, early-stopping state (and best weights when they are restored at the end), and the log so far. The
 * batch order needs no state (it is a pure function of seed and step, see data.ts), and dropout masks are seeded per
 * micro-batch, so a resumed run repeats the uninterrupted run's arithmetic operation for operation.
 *
 * On disk: one safetensors file (`param/<name>`, `adam_m/<name>`, `adam_v/<name>`, `best/<name>`, all F32) whose
 * `__metadata__` holds the JSON state, the log and a fingerprint of the settings that shape the trajectory.
 */
import { ProvenantError } from '../../core/index.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';

export interface TrainingLogEntry {
  /** Optimizer step, 1-based (the step just taken). */
  step: number;
  /** Fractional epoch reached after this step. */
  epoch: number;
  /** Mean training loss of the step's micro-batches (task loss plus any extra loss). */
  loss: number;
  /** Learning rate used (before group multipliers). */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Examples in the step. */
  examples: number;
  /** Wall time of the step in milliseconds. */
  ms: number;
}

export interface EarlyStoppingState {
  bestMetric: number | null;
  bestStep: number | null;
  badEpochs: number;
  stopped: boolean;
}

export interface TrainingCheckpoint {
  format: 'provenant-training-checkpoint';
  version: 1;
  /** Optimizer steps completed. */
  step: number;
  /** Hash of the settings that shape the trajectory; resuming with other settings is refused. */
  fingerprint: string;
  parameters: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> };
  /** Best weights so far (when early stopping restores them), else null. */
  best: Record<string, Float32Array> | null;
  earlyStopping: EarlyStoppingState;
  /** Validation metrics by epoch so far. */
  validations: Array<{ epoch: number; step: number; metrics: Record<string, number> }>;
  log: TrainingLogEntry[];
}

const f32 = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F32', shape, data });

/** Serialises a checkpoint to safetensors bytes. */
export function encodeCheckpoint(checkpoint: TrainingCheckpoint): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, p] of Object.entries(checkpoint.parameters)) {
    tensors[`param/${name}`] = f32(p.shape, p.data);
    tensors[`adam_m/${name}`] = f32(p.shape, checkpoint.optimizer.m[name]!);
    tensors[`adam_v/${name}`] = f32(p.shape, checkpoint.optimizer.v[name]!);
    if (checkpoint.best) tensors[`best/${name}`] = f32(p.shape, checkpoint.best[name]!);
  }
  return encodeSafetensors(tensors, {
    format: checkpoint.format,
    version: String(checkpoint.version),
    step: String(checkpoint.step),
    optimizer_step: String(checkpoint.optimizer.step),
    fingerprint: checkpoint.fingerprint,
    early_stopping: JSON.stringify(checkpoint.earlyStopping),
    validations: JSON.stringify(checkpoint.validations),
    log: JSON.stringify(checkpoint.log),
  });
}

/** Parses `encodeCheckpoint` bytes; a file that is not a Provenant training checkpoint is `CHECKPOINT_INVALID`. */
export function decodeCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== 'provenant-training-checkpoint' || metadata.version !== '1') {
    throw new ProvenantError('CHECKPOINT_INVALID', 'Not a Provenant training checkpoint (version 1).', { data: { metadata } });
  }
  const parameters: TrainingCheckpoint['parameters'] = {};
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  let best: Record<string, Float32Array> | null = null;
  for (const [key, t] of Object.entries(tensors)) {
    if (t.dtype !== 'F32') throw new ProvenantError('CHECKPOINT_INVALID', `Checkpoint tensor "${key}" is ${t.dtype}, expected F32.`);
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const data = t.data as Float32Array;
    if (kind === 'param') parameters[name] = { shape: t.shape, data };
    else if (kind === 'adam_m') m[name] = data;
    else if (kind === 'adam_v') v[name] = data;
    else if (kind === 'best') (best ??= {})[name] = data;
    else throw new ProvenantError('CHECKPOINT_INVALID', `Unexpected checkpoint tensor "${key}".`);
  }
  for (const name of Object.keys(parameters)) {
    if (!m[name] || !v[name] || (best && !best[name])) {
      throw new ProvenantError('CHECKPOINT_INVALID', `Checkpoint lacks optimizer state for "${name}".`);
    }
  }
  const parse = <T>(field: string): T => {
    try {
      return JSON.parse(metadata[field] ?? '') as T;
    } catch (cause) {
      throw new ProvenantError('CHECKPOINT_INVALID', `Checkpoint metadata "${field}" is not valid JSON.`, { cause });
    }
  };
  return {
    format: 'provenant-training-checkpoint',
    version: 1,
    step: Number(metadata.step),
    fingerprint: metadata.fingerprint ?? '',
    parameters,
    optimizer: { step: Number(metadata.optimizer_step), m, v },
    best,
    earlyStopping: parse<EarlyStoppingState>('early_stopping'),
    validations: parse<TrainingCheckpoint['validations']>('validations'),
    log: parse<TrainingLogEntry[]>('log'),
  };
}
