/**
 * Issue 13 kinds 3, 5 and 7 for training checkpoints: metadata that is not what it claims (a flipped `step`, NaN, a
 * missing field, tensors with NaN) is CHECKPOINT_INVALID naming the field; files are written atomically and a missing
 * file is FILE_NOT_FOUND.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../../src/core/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/finetune/io/safetensors.js';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type TrainingCheckpoint } from '../../../src/finetune/train/index.js';

function checkpoint(): TrainingCheckpoint {
  const entry = (step: number) => ({ step, epoch: step / 2, loss: 0.5 / step, lr: 1e-3, gradNorm: 0.1, examples: 4, ms: 3 });
  return {
    format: 'provenant-training-checkpoint',
    version: 1,
    step: 3,
    fingerprint: '0xabc',
    parameters: { w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
    optimizer: { step: 3, m: { w: new Float32Array([0.1, 0.2, 0.3, 0.4]) }, v: { w: new Float32Array([0.01, 0.02, 0.03, 0.04]) } },
    best: null,
    earlyStopping: { bestMetric: null, bestStep: null, badEpochs: 0, stopped: false },
    validations: [{ epoch: 1, step: 2, metrics: { accuracy: 0.75 } }],
    log: [entry(1), entry(2), entry(3)],
  };
}

/** Re-encodes valid checkpoint bytes with one metadata field replaced (undefined removes it) or one tensor edited. */
function tamper(edit: { field?: string; value?: string | undefined; tensor?: string; index?: number; x?: number }): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(checkpoint()));
  const meta: Record<string, string> = { ...metadata };
  if (edit.field) {
    if (edit.value === undefined) delete meta[edit.field];
    else meta[edit.field] = edit.value;
  }
  if (edit.tensor) (tensors[edit.tensor]!.data as Float32Array)[edit.index!] = edit.x!;
  return encodeSafetensors(tensors, meta);
}
const invalid = (bytes: Uint8Array): ProvenantError => {
  try {
    decodeCheckpoint(bytes);
  } catch (error) {
    expect(isProvenantError(error, 'CHECKPOINT_INVALID')).toBe(true);
    return error as ProvenantError;
  }
  throw new Error('a tampered checkpoint was accepted');
};

describe('checkpoint integrity', () => {
  it('a valid checkpoint round-trips', () => {
    const back = decodeCheckpoint(encodeCheckpoint(checkpoint()));
    expect([back.step, back.optimizer.step, back.log.length]).toEqual([3, 3, 3]);
  });

  it.each([
    ['step flipped to another integer', 'step', '30', /disagrees with its optimizer step/],
    ['step and optimizer step both flipped (later)', 'both', '5', /not the last logged step/],
    ['step and optimizer step both flipped (earlier)', 'both', '2', /past the checkpoint step/],
    ['step NaN', 'step', 'NaN', /"NaN", not a non-negative integer/],
    ['step not an integer', 'step', '3.0', /not a non-negative integer/],
    ['step negative', 'optimizer_step', '-3', /not a non-negative integer/],
    ['step missing', 'step', undefined, /"step" is missing/],
    ['optimizer step missing', 'optimizer_step', undefined, /"optimizer_step" is missing/],
    ['fingerprint missing', 'fingerprint', undefined, /no fingerprint/],
    ['log with NaN loss', 'log', JSON.stringify([{ step: 1, epoch: 0.5, loss: null, lr: 1, gradNorm: 1, examples: 1, ms: 1 }]), /"loss" is not a finite number/],
    ['log out of order', 'log', JSON.stringify([2, 1, 3].map((step) => ({ step, epoch: 1, loss: 1, lr: 1, gradNorm: 1, examples: 1, ms: 1 }))), /out of order/],
    ['early stopping malformed', 'early_stopping', JSON.stringify({ bestMetric: 'x' }), /early-stopping/],
    ['validation past the step', 'validations', JSON.stringify([{ epoch: 1, step: 9, metrics: {} }]), /validation 0/],
  ])('%s', (_name, field, value, pattern) => {
    const bytes =
      field === 'both'
        ? (() => {
            const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(checkpoint()));
            return encodeSafetensors(tensors, { ...metadata, step: value!, optimizer_step: value! });
          })()
        : tamper({ field, value });
    expect(invalid(bytes).message).toMatch(pattern);
  });

  it.each([
    ['param/w', Number.NaN],
    ['adam_m/w', Number.POSITIVE_INFINITY],
    ['adam_v/w', -1],
  ])('tensor %s holding %s is refused naming the tensor and index', (tensor, x) => {
    const error = invalid(tamper({ tensor, index: 2, x }));
    expect(error.data).toMatchObject({ tensor, index: 2 });
  });
});

describe('checkpoint files', () => {
  it('saveCheckpoint writes atomically (no temporary file left) and loadCheckpoint reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-ckpt-'));
    const path = join(dir, 'run', 'ckpt.safetensors');
    await saveCheckpoint(path, checkpoint());
    await saveCheckpoint(path, { ...checkpoint() });
    expect(readdirSync(join(dir, 'run'))).toEqual(['ckpt.safetensors']);
    expect((await loadCheckpoint(path)).log).toHaveLength(3);
  });

  it('a missing checkpoint file or folder is FILE_NOT_FOUND naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-ckpt-'));
    for (const path of [join(dir, 'nope.safetensors'), join(dir, 'no-dir', 'x.safetensors')]) {
      const error = await loadCheckpoint(path).catch((e: unknown) => e);
      expect(isProvenantError(error, 'FILE_NOT_FOUND')).toBe(true);
      expect((error as ProvenantError).message).toContain(path);
    }
  });
});
