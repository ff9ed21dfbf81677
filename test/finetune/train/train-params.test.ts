import { beforeAll, describe, expect, it } from 'vitest';
import { ProvenantError, describe as describeParams } from '../../../src/core/index.js';
import { TRAINING_PARAMS, createLogisticRegression, initBackend, train, type TrainOptions } from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const rows = Array.from({ length: 12 }, (_, i) => ({ input: [i % 3, 1 - (i % 2), 0.5, -1], label: i % 3 }));

async function rejection(options: Record<string, unknown>): Promise<ProvenantError> {
  const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
  try {
    await train(model, { task: 'classification', train: rows, seed: 1, ...options } as TrainOptions);
  } catch (error) {
    if (error instanceof ProvenantError) return error;
    throw error;
  } finally {
    model.dispose();
  }
  throw new Error('train did not throw');
}

describe('train options through TRAINING_PARAMS', () => {
  it('refuses an unknown option, naming the nearest field (lr → learningRate)', async () => {
    const e = await rejection({ lr: 0.01 });
    expect(e.code).toBe('TRAINING_CONFIG_INVALID');
    expect(e.data.unknown).toEqual(['lr']);
    expect(e.message).toContain('did you mean "learningRate"');
    const nested = await rejection({ optimizer: { beta_1: 0.8 }, earlyStopping: { patiense: 3 } });
    expect(nested.data.unknown).toEqual(['optimizer.beta_1', 'earlyStopping.patiense']);
  });

  it('refuses an absurd learning rate and gathers every bad value into one error', async () => {
    const e = await rejection({ learningRate: 1e9, batchSize: 0, schedule: { kind: 'step' }, optimizer: { beta2: 1 } });
    expect(e.data.fields).toEqual(['batchSize', 'learningRate', 'schedule.kind', 'optimizer.beta2']);
    expect(e.docsPath).toBe('#training-parameters');
  });

  it('returns the object it used; the described rows are its values, and an absent early stopping stays absent', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const result = await train(model, { task: 'classification', train: rows, seed: 3, batchSize: 4, maxSteps: 2, optimizer: { beta1: 0.8 }, learningRate: 0.02 });
    model.dispose();
    expect(result.used.optimizer).toEqual({ beta1: 0.8, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
    expect(result.used.earlyStopping).toBeNull();
    // Observed where used: every step's lr is the peak (constant schedule), and the loop took maxSteps steps of batchSize.
    expect(result.log.map((e) => e.lr)).toEqual([0.02, 0.02]);
    expect(result.log.map((e) => e.examples)).toEqual([4, 4]);
    const rows_ = describeParams(TRAINING_PARAMS, result.used);
    expect(rows_.find((r) => r.name === 'training.optimizer.beta1')).toMatchObject({ value: 0.8, default: 0.9 });
    expect(rows_.filter((r) => r.name.startsWith('training.earlyStopping'))).toEqual([
      expect.objectContaining({ name: 'training.earlyStopping', value: null }),
    ]);
  });
});
