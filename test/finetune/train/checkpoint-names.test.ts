/**
 * Tensor names in a checkpoint file are data: `param/__proto__`, `param/constructor`, `param/toString` are parameters
 * with those names, never a prototype swap or an inherited member.
 */
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/finetune/io/safetensors.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../../src/finetune/train/index.js';

const NAMES = ['__proto__', 'constructor', 'toString'];

/** Own data properties named `names` (Object.fromEntries defines them; a literal `__proto__:` would not). */
const record = <T>(f: (name: string, i: number) => T): Record<string, T> => Object.fromEntries(NAMES.map((n, i) => [n, f(n, i)]));

function checkpoint(withBest: boolean): TrainingCheckpoint {
  return {
    format: 'provenant-training-checkpoint',
    version: 1,
    step: 2,
    fingerprint: '0xabc',
    parameters: record((_, i) => ({ shape: [2], data: new Float32Array([i + 1, i + 2]) })),
    optimizer: { step: 2, m: record((_, i) => new Float32Array([0.1 * i, 0.2])), v: record((_, i) => new Float32Array([0.01 * i, 0.02])) },
    best: withBest ? record((_, i) => new Float32Array([10 + i, 20 + i])) : null,
    earlyStopping: { bestMetric: null, bestStep: null, badEpochs: 0, stopped: false },
    validations: [],
    log: [],
  };
}

describe('decodeCheckpoint with hostile tensor names', () => {
  it.each([false, true])('round-trips __proto__, constructor and toString as plain names (best kept: %s)', (withBest) => {
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint(withBest)));
    for (const rec of [decoded.parameters, decoded.optimizer.m, decoded.optimizer.v, ...(withBest ? [decoded.best!] : [])]) {
      expect(Object.keys(rec).sort()).toEqual([...NAMES].sort());
      // No prototype was swapped in: nothing but the three names resolves on the record.
      expect('shape' in rec).toBe(false);
      expect('hasOwnProperty' in rec).toBe(false);
    }
    NAMES.forEach((name, i) => {
      expect(Object.getOwnPropertyDescriptor(decoded.parameters, name)!.value).toEqual({ shape: [2], data: new Float32Array([i + 1, i + 2]) });
      expect([...Object.getOwnPropertyDescriptor(decoded.optimizer.m, name)!.value]).toEqual([...new Float32Array([0.1 * i, 0.2])]);
      if (withBest) expect([...Object.getOwnPropertyDescriptor(decoded.best, name)!.value]).toEqual([10 + i, 20 + i]);
    });
    expect(({} as Record<string, unknown>).shape).toBeUndefined(); // Object.prototype untouched
  });

  it.each(NAMES)('refuses a file lacking adam_m for a parameter named %s (no inherited member stands in)', (name) => {
    const { tensors, metadata } = decodeSafetensors(encodeCheckpoint(checkpoint(false)));
    delete tensors[`adam_m/${name}`];
    let caught: unknown;
    try {
      decodeCheckpoint(encodeSafetensors(tensors, metadata));
    } catch (e) {
      caught = e;
    }
    expect(isProvenantError(caught, 'CHECKPOINT_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(name);
  });
});
