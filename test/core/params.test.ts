import { describe as suite, expect, it } from 'vitest';
import { ProvenantError, checks, defaultOf, describe, fieldPaths, nearestField, resolve, type ParamTable } from '../../src/core/index.js';

const table: ParamTable = {
  name: 'training',
  code: 'TRAINING_CONFIG_INVALID',
  inputs: ['onStep'],
  fields: [
    { name: 'seed', default: null, required: true, meaning: 'Seed.', check: checks.int(0) },
    { name: 'learningRate', default: 1e-3, meaning: 'Peak learning rate.', check: checks.number(0, 1, { min: true }), aliases: ['learning_rate'] },
    { name: 'batchSize', default: 32, meaning: 'Examples per batch.', check: checks.int(1) },
    {
      name: 'optimizer',
      meaning: 'AdamW.',
      group: { name: 'optimizer', fields: [{ name: 'beta1', default: 0.9, meaning: 'First-moment decay.', check: checks.number(0, 1, { max: true }) }] },
    },
    {
      name: 'earlyStopping',
      optional: true,
      meaning: 'Stop when validation stops improving.',
      group: {
        name: 'earlyStopping',
        fields: [
          { name: 'metric', default: 'loss', meaning: 'Metric watched.', check: checks.oneOf(['loss', 'accuracy']) },
          { name: 'mode', default: (u: Record<string, unknown>) => (u.metric === 'accuracy' ? 'max' : 'min'), defaultText: "'max' for accuracy, else 'min'", meaning: 'Direction.' },
          { name: 'patience', default: 2, meaning: 'Epochs.', check: checks.int(1) },
        ],
      },
    },
  ],
};

const thrown = (f: () => unknown): ProvenantError => {
  try {
    f();
  } catch (error) {
    if (error instanceof ProvenantError) return error;
    throw error;
  }
  throw new Error('did not throw');
};

suite('resolve', () => {
  it('fills defaults from the table and keeps given values, with nested groups', () => {
    const used = resolve<Record<string, any>>(table, { seed: 3, optimizer: { beta1: 0.5 }, onStep: () => {} });
    expect(used).toEqual({ seed: 3, learningRate: 1e-3, batchSize: 32, optimizer: { beta1: 0.5 }, earlyStopping: null });
    expect(resolve<Record<string, any>>(table, { seed: 1, earlyStopping: { metric: 'accuracy' } }).earlyStopping).toEqual({ metric: 'accuracy', mode: 'max', patience: 2 });
    expect(resolve<Record<string, any>>(table, { seed: 1, earlyStopping: true }).earlyStopping).toEqual({ metric: 'loss', mode: 'min', patience: 2 });
  });

  it('refuses unknown names, suggesting the nearest field', () => {
    const e = thrown(() => resolve(table, { seed: 1, lr: 0.1, batch_size: 4, optimizer: { beta_1: 0.8 }, zzzzzz: 1 }));
    expect(e.code).toBe('TRAINING_CONFIG_INVALID');
    expect(e.data.unknown).toEqual(['lr', 'batch_size', 'zzzzzz', 'optimizer.beta_1']);
    expect({ ...(e.data.suggestions as object) }).toEqual({ lr: 'learningRate', batch_size: 'batchSize', zzzzzz: null, 'optimizer.beta_1': 'optimizer.beta1' });
    expect(e.message).toContain('did you mean "learningRate"');
  });

  it('gathers every invalid value into one error naming each', () => {
    const e = thrown(() => resolve(table, { learningRate: 1e9, batchSize: 0, earlyStopping: { patience: -1 } }));
    expect(e.data.fields).toEqual(['seed', 'learningRate', 'batchSize', 'earlyStopping.patience']);
    expect(e.metaMessages.join('\n')).toMatch(/learningRate: must be a finite number in \(0, 1\], got 1000000000/);
    for (const bad of [Number.NaN, Infinity, -1, 0, '0.1']) expect(() => resolve(table, { seed: 1, learningRate: bad })).toThrow(/learningRate/);
  });

  it('does not share default objects between runs', () => {
    const t: ParamTable = { name: 't', fields: [{ name: 'xs', default: [1, 2], meaning: 'x' }] };
    const a = resolve<{ xs: number[] }>(t, {});
    a.xs.push(3);
    expect(resolve<{ xs: number[] }>(t, {}).xs).toEqual([1, 2]);
  });
});

suite('describe', () => {
  it('rows are the used values beside the defaults; an absent optional group is one absent row', () => {
    const used = resolve(table, { seed: 5, batchSize: 8 });
    expect(describe(table, used)).toEqual([
      { name: 'training.seed', value: 5, default: null, meaning: 'Seed.' },
      { name: 'training.learningRate', value: 1e-3, default: 1e-3, meaning: 'Peak learning rate.' },
      { name: 'training.batchSize', value: 8, default: 32, meaning: 'Examples per batch.' },
      { name: 'training.optimizer.beta1', value: 0.9, default: 0.9, meaning: 'First-moment decay.' },
      { name: 'training.earlyStopping', value: null, default: null, meaning: 'Stop when validation stops improving. Absent: not used in this run.' },
    ]);
    const rows = describe(table, resolve(table, { seed: 5, earlyStopping: { metric: 'accuracy', patience: 4 } }), 'train');
    expect(rows.filter((r) => r.name.startsWith('train.earlyStopping'))).toEqual([
      { name: 'train.earlyStopping.metric', value: 'accuracy', default: 'loss', meaning: 'Metric watched.' },
      { name: 'train.earlyStopping.mode', value: 'max', default: "'max' for accuracy, else 'min'", meaning: 'Direction.' },
      { name: 'train.earlyStopping.patience', value: 4, default: 2, meaning: 'Epochs.' },
    ]);
  });

  it('defaultOf and fieldPaths read the table', () => {
    expect(defaultOf(table, 'optimizer.beta1')).toBe(0.9);
    expect(() => defaultOf(table, 'earlyStopping.mode')).toThrow(ProvenantError);
    expect(fieldPaths(table)).toEqual(['seed', 'learningRate', 'batchSize', 'optimizer.beta1', 'earlyStopping.metric', 'earlyStopping.mode', 'earlyStopping.patience']);
  });

  it('nearestField', () => {
    expect(nearestField('lr', ['learningRate', 'batchSize'])).toBe('learningRate');
    // Two fields with the same initials: no guess.
    expect(nearestField('lr', ['learningRate', 'loraRank'])).toBeNull();
    expect(nearestField('epoch', ['epochs', 'seed'])).toBe('epochs');
    expect(nearestField('qqqq', ['epochs', 'seed'])).toBeNull();
  });
});
