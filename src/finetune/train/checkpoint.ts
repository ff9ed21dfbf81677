/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped — the optimised tensors, AdamW's
 * moments and step, early-stopping state (and best weights when they are restored at the end), and the log so far. The
 * batch order needs no state (it is a pure function of seed and step, see data.ts), and dropout masks are seeded per
 * micro-batch, so a resumed run repeats the uninterrupted run's arithmetic operation for operation.
 *
 * On disk: one safetensors file (`param/<name>`, `adam_m/<name>`, `adam_v/<name>`, `best/<name>`, all F32) whose
 * `__metadata__` holds the JSON state, the log and a fingerprint of the settings that shape the trajectory.
 */
import { ProvenantError, readFileChecked, writeFileAtomic } from '../../core/index.js';
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
const nullRecord = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/**
 * Serialises a checkpoint to safetensors bytes: per parameter `param/<name>`, `adam_m/<name>`, `adam_v/<name>` (and
 * `best/<name>` when best weights are kept), all F32 in the parameter's shape; the step counts, fingerprint,
 * early-stopping state, validations and log as JSON strings in `__metadata__`. The inverse of `decodeCheckpoint`.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from 'provenant/finetune';
 *
 * declare const checkpoint: TrainingCheckpoint; // e.g. from train()'s onCheckpoint
 * const bytes = encodeCheckpoint(checkpoint); // Uint8Array, a valid .safetensors file
 * decodeCheckpoint(bytes).step === checkpoint.step; // true
 * ```
 */
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

/**
 * Parses `encodeCheckpoint` bytes back into a `TrainingCheckpoint`, then validates it (step counts decimal integers,
 * optimizer state for every parameter, matching shapes, well-formed JSON), so an edited or truncated file is refused
 * rather than resumed from.
 *
 * @throws ProvenantError `SAFETENSORS_INVALID` (not a safetensors file), `CHECKPOINT_INVALID` (not a Provenant training
 * checkpoint version 1, a non-F32 or unknown tensor, missing optimizer state, bad metadata).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { decodeCheckpoint } from 'provenant/finetune';
 *
 * const checkpoint = decodeCheckpoint(readFileSync('run/checkpoint.safetensors'));
 * checkpoint.step; // optimizer steps completed, e.g. 200;  checkpoint.log.at(-1)?.loss: the last step's loss
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== 'provenant-training-checkpoint' || metadata.version !== '1') {
    throw new ProvenantError('CHECKPOINT_INVALID', 'Not a Provenant training checkpoint (version 1).', { data: { metadata } });
  }
  // Tensor names are data read from the file: null-prototype records, so `param/__proto__` is a parameter named
  // "__proto__" (not a prototype swap) and `constructor`/`toString` never resolve to inherited members.
  const parameters = nullRecord<TrainingCheckpoint['parameters'][string]>();
  const m = nullRecord<Float32Array>();
  const v = nullRecord<Float32Array>();
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
    else if (kind === 'best') (best ??= nullRecord<Float32Array>())[name] = data;
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
  const checkpoint: TrainingCheckpoint = {
    format: 'provenant-training-checkpoint',
    version: 1,
    step: countField(metadata, 'step'),
    fingerprint: metadata.fingerprint ?? '',
    parameters,
    optimizer: { step: countField(metadata, 'optimizer_step'), m, v },
    best,
    earlyStopping: parse<EarlyStoppingState>('early_stopping'),
    validations: parse<TrainingCheckpoint['validations']>('validations'),
    log: parse<TrainingLogEntry[]>('log'),
  };
  validateCheckpoint(checkpoint);
  return checkpoint;
}

const bad = (message: string, data: Record<string, unknown> = {}): ProvenantError =>
  new ProvenantError('CHECKPOINT_INVALID', message, { data, details: 'The checkpoint is not what it claims to be (edited, corrupted or truncated); resuming from it would not reproduce the run.' });

/** A metadata count as written by encodeCheckpoint: a decimal integer string, nothing else ("12", never "12.0", "NaN", ""). */
function countField(metadata: Record<string, string>, field: string): number {
  const text = metadata[field];
  if (text === undefined) throw bad(`Checkpoint metadata "${field}" is missing.`, { field });
  if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw bad(`Checkpoint metadata "${field}" is ${JSON.stringify(text)}, not a non-negative integer.`, { field, value: text });
  }
  return Number(text);
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Checks that a checkpoint is internally consistent, so a corrupted one is refused instead of resuming with `steps: NaN`:
 * counts are integers and agree (`step` = optimizer step = the last logged step), the log and validations are ordered
 * and finite, early-stopping state has its shape, every tensor is finite (Adam's second moment non-negative) and has the
 * size of its parameter. Throws `CHECKPOINT_INVALID` naming the field.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, validateCheckpoint } from 'provenant/finetune';
 * declare const bytes: Uint8Array;
 * validateCheckpoint(decodeCheckpoint(bytes)); // decodeCheckpoint already calls it
 * ```
 */
export function validateCheckpoint(checkpoint: TrainingCheckpoint): void {
  const { step, optimizer, log, validations, earlyStopping, fingerprint } = checkpoint;
  if (!isCount(step)) throw bad(`Checkpoint step ${String(step)} is not a non-negative integer.`, { field: 'step' });
  if (!isCount(optimizer.step)) throw bad(`Checkpoint optimizer step ${String(optimizer.step)} is not a non-negative integer.`, { field: 'optimizer_step' });
  if (optimizer.step !== step) throw bad(`Checkpoint step ${step} disagrees with its optimizer step ${optimizer.step}.`, { field: 'step', step, optimizerStep: optimizer.step });
  if (typeof fingerprint !== 'string' || fingerprint === '') throw bad('Checkpoint has no fingerprint.', { field: 'fingerprint' });
  if (!Array.isArray(log)) throw bad('Checkpoint log is not a list.', { field: 'log' });
  let previous = 0;
  log.forEach((entry, k) => {
    const fields = ['step', 'epoch', 'loss', 'lr', 'gradNorm', 'examples', 'ms'] as const;
    const wrong = entry === null || typeof entry !== 'object' ? 'entry' : fields.find((f) => !isFiniteNumber((entry as unknown as Record<string, unknown>)[f]));
    if (wrong) throw bad(`Checkpoint log entry ${k}: "${wrong}" is not a finite number.`, { field: 'log', entry: k });
    if (!isCount(entry.step) || entry.step <= previous || entry.step > step) {
      throw bad(`Checkpoint log entry ${k} has step ${entry.step}, out of order or past the checkpoint step ${step}.`, { field: 'log', entry: k });
    }
    previous = entry.step;
  });
  if (log.length > 0 && previous !== step) throw bad(`Checkpoint step ${step} is not the last logged step ${previous}.`, { field: 'step', step, lastLogged: previous });
  if (!Array.isArray(validations)) throw bad('Checkpoint validations are not a list.', { field: 'validations' });
  validations.forEach((v, k) => {
    const metricsOk = v !== null && typeof v === 'object' && v.metrics !== null && typeof v.metrics === 'object' && Object.values(v.metrics).every((x) => typeof x === 'number' && !Number.isNaN(x));
    if (!metricsOk || !isFiniteNumber(v.epoch) || !isCount(v.step) || v.step > step) {
      throw bad(`Checkpoint validation ${k} is malformed (epoch, step ≤ ${step} and numeric metrics needed).`, { field: 'validations', entry: k });
    }
  });
  const es = earlyStopping as unknown as Record<string, unknown> | null;
  if (
    es === null ||
    typeof es !== 'object' ||
    !(es.bestMetric === null || isFiniteNumber(es.bestMetric)) ||
    !(es.bestStep === null || (isCount(es.bestStep) && es.bestStep <= step)) ||
    !isCount(es.badEpochs) ||
    typeof es.stopped !== 'boolean'
  ) {
    throw bad('Checkpoint early-stopping state is malformed.', { field: 'early_stopping', value: es });
  }
  for (const [name, p] of Object.entries(checkpoint.parameters)) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const arrays: [string, Float32Array | undefined][] = [
      ['param', p.data],
      ['adam_m', optimizer.m[name]],
      ['adam_v', optimizer.v[name]],
      ...(checkpoint.best ? ([['best', checkpoint.best[name]]] as [string, Float32Array | undefined][]) : []),
    ];
    for (const [kind, data] of arrays) {
      if (!data || data.length !== size) throw bad(`Checkpoint tensor "${kind}/${name}" is missing or has the wrong size.`, { tensor: `${kind}/${name}` });
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        if (!Number.isFinite(x) || (kind === 'adam_v' && x < 0)) {
          throw bad(`Checkpoint tensor "${kind}/${name}" holds ${x} at index ${i}.`, { tensor: `${kind}/${name}`, index: i });
        }
      }
    }
  }
}

/**
 * Writes a checkpoint to `path` atomically (temporary file, fsync, rename): a crash leaves the previous checkpoint or the
 * new one, never a torn file. Throws `FILE_WRITE_FAILED`.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, train, type Model, type TrainOptions } from 'provenant/finetune';
 * declare const model: Model;
 * declare const options: TrainOptions;
 * await train(model, { ...options, checkpointEvery: 50, onCheckpoint: (c) => saveCheckpoint('run/ckpt.safetensors', c) });
 * ```
 */
export async function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/**
 * Reads and validates a checkpoint file. A missing file is `FILE_NOT_FOUND`; a file that is not a valid checkpoint is
 * `CHECKPOINT_INVALID` (or `SAFETENSORS_INVALID` when the container itself is broken).
 *
 * @example
 * ```ts
 * import { loadCheckpoint } from 'provenant/finetune';
 * const resumeFrom = await loadCheckpoint('run/ckpt.safetensors');
 * ```
 */
export async function loadCheckpoint(path: string): Promise<TrainingCheckpoint> {
  return decodeCheckpoint(await readFileChecked(path, { what: 'checkpoint' }));
}
