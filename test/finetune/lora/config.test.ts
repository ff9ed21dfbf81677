import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import {
  LORA_CONFIG_FIELDS,
  createMlp,
  describeLoraConfig,
  createLogisticRegression,
  householderQr,
  loraScale,
  moduleRankAlpha,
  resolveLoraConfig,
  resolveTargetModules,
} from '../../../src/finetune/index.js';
import { matmul64 } from './helpers.js';

function invalidFields(partial: Record<string, unknown>): string[] {
  try {
    resolveLoraConfig(partial as never);
  } catch (error) {
    expect(isProvenantError(error, 'LORA_CONFIG_INVALID')).toBe(true);
    return (error as { data: { fields: string[] } }).data.fields;
  }
  throw new Error('expected LORA_CONFIG_INVALID');
}

describe('LoraConfig', () => {
  it('fills every field from the one table, with PEFT defaults', () => {
    const config = resolveLoraConfig({});
    expect(Object.keys(config).sort()).toEqual(LORA_CONFIG_FIELDS.map((f) => f.field).sort());
    expect(config).toEqual({
      r: 8, alpha: 8, dropout: 0, targetModules: null, useRslora: false, loraPlusLrRatio: 1,
      initLoraWeights: true, rankPattern: {}, alphaPattern: {}, modulesToSave: [],
    });
    for (const row of LORA_CONFIG_FIELDS) expect(row.meaning.length).toBeGreaterThan(20);
  });

  it('defaults are copies: mutating one resolved config does not change the next', () => {
    const a = resolveLoraConfig({});
    (a.modulesToSave as string[]).push('x');
    expect(resolveLoraConfig({}).modulesToSave).toEqual([]);
  });

  it("suggests the field for PEFT's snake_case names and near-misses, with the README section", () => {
    let error: { metaMessages?: string[]; docsPath?: string } = {};
    try {
      resolveLoraConfig({ lora_alpha: 16, target_modules: ['q_proj'], alph: 2 } as never);
    } catch (e) {
      error = e as typeof error;
    }
    const text = (error.metaMessages ?? []).join('\n');
    expect(text).toMatch(/lora_alpha: unknown field \(did you mean "alpha"\?\)/);
    expect(text).toMatch(/target_modules: unknown field \(did you mean "targetModules"\?\)/);
    expect(text).toMatch(/alph: unknown field \(did you mean "alpha"\?\)/);
    expect(error.docsPath).toBe('#lora-parameters');
  });

  it('names every bad field at once', () => {
    expect(invalidFields({ r: 0, alpha: -1, dropout: 1, useRslora: 'yes', loraPlusLrRatio: 0 }).sort()).toEqual(
      ['alpha', 'dropout', 'loraPlusLrRatio', 'r', 'useRslora'],
    );
    expect(invalidFields({ r: 2.5 })).toEqual(['r']);
    expect(invalidFields({ targetModules: [] })).toEqual(['targetModules']);
    expect(invalidFields({ targetModules: '(unclosed' })).toEqual(['targetModules']);
    expect(invalidFields({ initLoraWeights: 'loftq' })).toEqual(['initLoraWeights']);
    expect(invalidFields({ rankPattern: { fc1: 0 }, alphaPattern: { fc1: 'big' } }).sort()).toEqual(['alphaPattern', 'rankPattern']);
    expect(invalidFields({ modulesToSave: 'classifier' })).toEqual(['modulesToSave']);
    expect(invalidFields({ rank: 4 })).toEqual(['rank']);
  });

  it('describeLoraConfig: every field with value, default and meaning, flagging the changed ones', () => {
    const rows = describeLoraConfig({ r: 16, targetModules: ['fc1'] });
    expect(rows.map((row) => row.field)).toEqual(LORA_CONFIG_FIELDS.map((f) => f.field));
    expect(rows.filter((row) => !row.isDefault).map((row) => [row.field, row.value, row.default])).toEqual([
      ['r', 16, 8],
      ['targetModules', ['fc1'], null],
    ]);
    expect(rows.find((row) => row.field === 'alpha')!.peftName).toBe('lora_alpha');
  });

  it('scale is alpha/r, or alpha/√r with rsLoRA', () => {
    expect(loraScale(16, 4, false)).toBe(4);
    expect(loraScale(16, 4, true)).toBe(8);
  });
});

describe('target modules (PEFT matching)', () => {
  const mlp = createMlp({ inputSize: 4, hiddenSizes: [3, 3], numClasses: 2, seed: 1 });
  const config = (targetModules: unknown, modulesToSave: string[] = []) => ({ ...resolveLoraConfig({ targetModules: targetModules as never }), modulesToSave });
  it('lists, regexes, all-linear (no head) and the default', () => {
    expect(resolveTargetModules(mlp, config(['fc1', 'fc3']))).toEqual(['fc1', 'fc3']);
    expect(resolveTargetModules(mlp, config('fc[12]'))).toEqual(['fc1', 'fc2']);
    // A regex must match the whole path, as PEFT's re.fullmatch does.
    expect(() => resolveTargetModules(mlp, config('fc'))).toThrow(expect.objectContaining({ code: 'LORA_TARGET_NOT_FOUND' }));
    expect(resolveTargetModules(mlp, config('all-linear'))).toEqual(['fc1', 'fc2']);
    expect(resolveTargetModules(mlp, config(null))).toEqual(['fc1', 'fc2', 'fc3']);
  });
  it('a name that matches nothing, or a config that matches nothing, is LORA_TARGET_NOT_FOUND', () => {
    expect(() => resolveTargetModules(mlp, config(['fc1', 'fc9']))).toThrow(/fc9/);
    expect(() => resolveTargetModules(mlp, config('q_proj'))).toThrow(expect.objectContaining({ code: 'LORA_TARGET_NOT_FOUND' }));
    const lr = createLogisticRegression({ inputSize: 3, numClasses: 2, seed: 1 });
    expect(() => resolveTargetModules(lr, config('all-linear'))).toThrow(/output head/);
    lr.dispose();
  });
  it("rank and alpha patterns: the first key in order whose regex matches the path's tail (PEFT's get_pattern_key)", () => {
    const c = resolveLoraConfig({ r: 4, alpha: 8, rankPattern: { 'fc[23]': 2, fc3: 6, 'blocks\\.1\\.fc1': 3 }, alphaPattern: { 'fc.': 1 } });
    expect(moduleRankAlpha(c, 'fc1')).toEqual({ r: 4, alpha: 1 });
    expect(moduleRankAlpha(c, 'fc2')).toEqual({ r: 2, alpha: 1 });
    expect(moduleRankAlpha(c, 'fc3')).toEqual({ r: 2, alpha: 1 }); // 'fc[23]' comes first, as in PEFT
    expect(moduleRankAlpha(c, 'blocks.0.fc2')).toEqual({ r: 2, alpha: 1 });
    expect(moduleRankAlpha(c, 'blocks.1.fc1')).toEqual({ r: 3, alpha: 1 });
    expect(moduleRankAlpha(c, 'blocks.0.fc1')).toEqual({ r: 4, alpha: 1 });
    expect(moduleRankAlpha(c, 'xfc2')).toEqual({ r: 4, alpha: 8 }); // a tail match starts at a '.'
  });
});

describe('Householder QR', () => {
  it('Q has orthonormal columns, R is upper-trapezoidal and Q·R reproduces the matrix (tall and wide)', () => {
    for (const [rows, cols] of [[5, 3], [3, 5], [4, 4]] as const) {
      const m = Float64Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7 + rows) * 3);
      const { Q, R, k } = householderQr(m, rows, cols);
      const qr = matmul64(Q, R, rows, k, cols);
      for (let i = 0; i < m.length; i++) expect(qr[i]).toBeCloseTo(m[i]!, 10);
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += Q[i * k + a]! * Q[i * k + b]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
      for (let i = 0; i < k; i++) for (let j = 0; j < Math.min(i, cols); j++) expect(R[i * cols + j]).toBe(0);
    }
  });
});
