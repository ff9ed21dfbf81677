/**
 * The adapter loaders and savers, and the LoRA option objects, refuse an unknown key with the nearest name and the
 * function (their parameter tables, core/params.ts), before anything is read, written or attached. Before, a typo ran
 * the default silently: `{ verify_base_model: false }` still verified, `{ activated: false }` activated the adapter,
 * `{ dtyp: 'F16' }` wrote float32, `{ weight_decay: 0.1 }` set no decay.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  activeAdapters,
  attachAdapter,
  attachAdapterWeights,
  checkMerge,
  createMlp,
  listAdapters,
  loadAdapter,
  loadAdapterFromDir,
  parameterGroups,
  saveAdapter,
  saveAdapterToDir,
  tf,
} from '../../../src/finetune/index.js';
import { caught } from '../hf/fixtures.js';

async function refused(run: () => unknown, fn: string, typo: string, nearest: string): Promise<void> {
  const { error, text } = await caught(run, 'INVALID_ARGUMENT');
  expect(error.message).toContain(`Invalid ${fn} options: ${typo}.`);
  expect(text).toContain(`${typo}: unknown option (did you mean "${nearest}"?)`);
  expect(error.data.unknown).toEqual([typo]);
  expect((error.data.suggestions as Record<string, string>)[typo]).toBe(nearest);
}

const base = () => createMlp({ inputSize: 4, hiddenSizes: [5], numClasses: 2, seed: 3 });
function tuned() {
  const model = base();
  attachAdapter(model, 'default', { r: 2, alpha: 4, targetModules: ['fc1'], initLoraWeights: false }, { seed: 1 });
  return model;
}
const tmp = await mkdtemp(join(tmpdir(), 'provenant-adapter-opts-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('saveAdapter / saveAdapterToDir', () => {
  it('refuse a typo or a PEFT spelling before writing anything', async () => {
    const model = tuned();
    await refused(() => saveAdapter(model, 'default', { dtyp: 'F16' } as never), 'saveAdapter', 'dtyp', 'dtype');
    await refused(() => saveAdapter(model, 'default', { task_type: 'SEQ_CLS' } as never), 'saveAdapter', 'task_type', 'taskType');
    const dir = join(tmp, 'typo');
    await refused(() => saveAdapterToDir(model, 'default', dir, { fan_in_fan_out: true } as never), 'saveAdapterToDir', 'fan_in_fan_out', 'fanInFanOut');
    await refused(() => saveAdapterToDir(model, 'default', dir, { id2label: ['a', 'b'] } as never), 'saveAdapterToDir', 'id2label', 'labels');
    expect(existsSync(dir)).toBe(false);
    expect(saveAdapter(model, 'default', { dtype: 'F16', taskType: 'SEQ_CLS' }).config.task_type).toBe('SEQ_CLS');
  });
});

describe('loadAdapter / loadAdapterFromDir', () => {
  it('refuse a typo before attaching anything', async () => {
    const files = saveAdapter(tuned(), 'default');
    const dir = join(tmp, 'adapter');
    await saveAdapterToDir(tuned(), 'default', dir);
    const fresh = base();
    await refused(() => loadAdapter(fresh, 'a', files, { verify_base_model: false } as never), 'loadAdapter', 'verify_base_model', 'verifyBaseModel');
    await refused(() => loadAdapterFromDir(fresh, 'a', dir, { activated: false } as never), 'loadAdapterFromDir', 'activated', 'activate');
    // A missing folder is not even looked at: the options are refused first.
    await refused(() => loadAdapterFromDir(fresh, 'a', join(tmp, 'absent'), { verifyBase: true } as never), 'loadAdapterFromDir', 'verifyBase', 'verifyBaseModel');
    expect(listAdapters(fresh)).toEqual([]);
    await loadAdapterFromDir(fresh, 'a', dir, { activate: false, verifyBaseModel: true });
    expect(listAdapters(fresh)).toEqual(['a']);
    expect(activeAdapters(fresh)).toEqual([]);
  });
});

describe('attachAdapter, attachAdapterWeights, parameterGroups, checkMerge', () => {
  it('refuse a typo with the nearest name', async () => {
    const model = base();
    await refused(() => attachAdapter(model, 'x', { r: 2, targetModules: ['fc1'] }, { seed: 1, activte: false } as never), 'attachAdapter', 'activte', 'activate');
    const weights = new Map([['fc1', { A: new Float32Array(4 * 2), B: new Float32Array(2 * 5) }]]);
    await refused(() => attachAdapterWeights(model, 'y', { r: 2, alpha: 2, targetModules: ['fc1'] }, weights, { set_active: false } as never), 'attachAdapterWeights', 'set_active', 'activate');
    expect(listAdapters(model)).toEqual([]);
    attachAdapter(model, 'x', { r: 2, targetModules: ['fc1'] }, { seed: 1 });
    await refused(() => parameterGroups(model, { weight_decay: 0.1 } as never), 'parameterGroups', 'weight_decay', 'weightDecay');
    const xs = tf.ones([2, 4]);
    await refused(() => checkMerge(model, xs, { adapter: ['x'] } as never), 'checkMerge', 'adapter', 'adapters');
    expect(checkMerge(model, xs, { adapters: ['x'] })).toBeLessThan(1e-5);
    xs.dispose();
  });
});
