/**
 * The BUILT package (tsup, ESM and CommonJS, as published) holds one copy of the library's state across its entry
 * points: a model loaded through `provenant/finetune` carries its adapters into `provenant/eval`, the root and
 * `provenant/attribution` (one adapter registry, one variable-name counter), as one entry alone does. Also from the built
 * files: `provenant/datanet` and `provenant/audit` load neither tfjs nor viem, and featurizeInWorkers finds its worker
 * entry. Each script runs in a fresh Node process against test/fixtures/hf-shared/bert, whose logits.json files hold
 * PyTorch's logits (scripts/hf-fixtures) for the base model and the LoRA-tuned one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackageJs, resultOf, root, type BuiltPackage } from './built-package.js';

const F = join(root, 'test/fixtures/hf-shared/bert');
const torch = (file: string) => (JSON.parse(readFileSync(join(F, file), 'utf8')) as { logits: number[] }).logits.slice(0, 3);
const TORCH_BASE = torch('logits.json');
const TORCH_TUNED = torch('lora/logits.json');

/**
 * One workflow on one model, each step through the entry named in `entries` (ESM namespaces `ft`, `ev`, `rt`, `at`):
 * (a) eval sees the adapter loaded through finetune; (b) after an eval view with no adapters the model computes the
 * tuned logits again; (c) loading the same folder a second time gives a second model, no variable-name clash.
 */
function workflow(entries: { ft: string; ev: string; rt: string; at: string }, format: 'esm' | 'cjs'): string {
  const load = (ns: string, spec: string) => (format === 'esm' ? `import * as ${ns} from '${spec}';` : `const ${ns} = require('${spec}');`);
  const body = `
    const F = ${JSON.stringify(F)};
    const ids = [[1, 5, 9, 23, 42, 77, 100, 3]];
    const logits = (api, model) => Array.from(api.computeLogits(model, { inputIds: ids }).data);
    const m = await ft.loadPretrained(F);
    await ft.loadAdapterFromDir(m, 'fx', F + '/lora');
    const evalTuned = Array.from((await ev.toEvalModel(m, { adapters: ['fx'] }).predictProba(ids))[0]);
    const tuned = logits(ft, m);
    const evalBase = Array.from((await ev.toEvalModel(m, { adapters: [] }).predictProba(ids))[0]);
    const tunedAfter = logits(rt, m);
    const active = rt.activeAdapters(m);
    const hash = at.featureModelHash(m);
    const m2 = await rt.loadPretrained(F);
    const base = logits(ft, m2);
    const oneErrorClass = ft.ProvenantError === ev.ProvenantError && ev.ProvenantError === rt.ProvenantError && rt.ProvenantError === at.ProvenantError;
    console.log('RESULT ' + JSON.stringify({ evalTuned, tuned, evalBase, tunedAfter, active, hash, base, oneErrorClass }));`;
  const imports = [load('ft', entries.ft), load('ev', entries.ev), load('rt', entries.rt), load('at', entries.at)].join('\n');
  return format === 'esm' ? `${imports}\n${body}` : `${imports}\n(async () => {${body}\n})().catch((e) => { console.error(e); process.exit(1); });`;
}

interface WorkflowResult {
  evalTuned: number[];
  tuned: number[];
  evalBase: number[];
  tunedAfter: number[];
  active: string[];
  hash: string;
  base: number[];
  oneErrorClass: boolean;
}

const softmax = (z: number[]) => {
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** The library's own record of what a fresh process loaded: resolved ESM URLs (a resolve hook) or require.cache (CJS). */
function heavyLoaded(pkg: BuiltPackage, entry: string, format: 'esm' | 'cjs'): string[] {
  const heavy = /[\\/](@tensorflow|viem)[\\/]/;
  if (format === 'cjs') {
    const out = pkg.run(`loaded-${entry}.cjs`, `require('provenant/${entry}'); console.log('RESULT ' + JSON.stringify(Object.keys(require.cache)));`);
    return (resultOf(out) as string[]).filter((k) => heavy.test(k));
  }
  const log = join(pkg.dir, `loaded-${entry}.log`);
  writeFileSync(log, '');
  writeFileSync(join(pkg.dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) { const r = await next(specifier, context); appendFileSync(process.env.LOADED_LOG, r.url + '\\n'); return r; }`);
  writeFileSync(join(pkg.dir, 'register-hooks.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
  pkg.run(`loaded-${entry}.mjs`, `await import('provenant/${entry}');`, { nodeArgs: ['--import', './register-hooks.mjs'], env: { LOADED_LOG: log } });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  if (!urls.some((u) => u.includes(`/dist/${entry}/index.js`))) throw new Error(`the resolve hook did not see provenant/${entry}:\n${urls.join('\n')}`);
  return urls.filter((u) => heavy.test(u));
}

/** featurizeInWorkers (2 worker threads, from the built worker entry) against featurize in the main thread. */
function workerRun(format: 'esm' | 'cjs'): string {
  const load = format === 'esm'
    ? `import * as ft from 'provenant/finetune'; import * as at from 'provenant/attribution'; import { mkdtempSync, rmSync } from 'node:fs'; import { join } from 'node:path';`
    : `const ft = require('provenant/finetune'); const at = require('provenant/attribution'); const { mkdtempSync, rmSync } = require('node:fs'); const { join } = require('node:path');`;
  const body = `
    const n = 10;
    const x = new Float32Array(n * 4).map((_, i) => Math.sin(i * 0.7));
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const model = ft.createMlp({ inputSize: 4, hiddenSizes: [5], numClasses: 3, seed: 3 });
    const options = { projection: { kind: 'sparse', dim: 8, seed: 3 }, batchSize: 4 };
    const rowIds = labels.map((_, i) => 'row-' + i);
    const contributors = labels.map(() => 'alice');
    const single = at.featurize(model, { inputs: x, exampleShape: [4], labels }, options);
    const dir = mkdtempSync(join(process.cwd(), 'features-'));
    const backends = [];
    await at.featurizeInWorkers(model, { inputs: x, exampleShape: [4], labels }, { directory: dir, workers: 2, shardRows: 5, featurize: options, rowIds, contributors, onShard: (e) => backends.push(e.backend) });
    const store = await at.readFeatureStore(dir, { model });
    let maxDiff = 0;
    for (let i = 0; i < single.features.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(single.features.data[i] - store.features.data[i]));
    rmSync(dir, { recursive: true, force: true });
    console.log('RESULT ' + JSON.stringify({ rows: store.manifest.rows, length: [single.features.data.length, store.features.data.length], maxDiff, backends }));`;
  return format === 'esm' ? `${load}\n${body}` : `${load}\n(async () => {${body}\n})().catch((e) => { console.error(e); process.exit(1); });`;
}

describe('the built package', () => {
  let pkg: BuiltPackage;
  beforeAll(() => {
    pkg = buildPackageJs();
  }, 120_000);
  afterAll(() => pkg?.remove());

  it('shares adapter state across entries (ESM: finetune, eval, root, attribution; CJS: finetune, eval, attribution): results equal one entry alone and PyTorch', () => {
    const single = resultOf(pkg.run('single.mjs', workflow({ ft: 'provenant', ev: 'provenant', rt: 'provenant', at: 'provenant' }, 'esm'))) as WorkflowResult;
    const mixed = resultOf(pkg.run('mixed.mjs', workflow({ ft: 'provenant/finetune', ev: 'provenant/eval', rt: 'provenant', at: 'provenant/attribution' }, 'esm'))) as WorkflowResult;
    const mixedCjs = resultOf(pkg.run('mixed.cjs', workflow({ ft: 'provenant/finetune', ev: 'provenant/eval', rt: 'provenant/finetune', at: 'provenant/attribution' }, 'cjs'))) as WorkflowResult;
    for (const [name, r] of [['single', single], ['mixed ESM', mixed], ['mixed CJS', mixedCjs]] as const) {
      // Against PyTorch (independent of our code): tuned and base logits, and eval's probabilities are their softmax.
      for (let i = 0; i < 3; i++) {
        expect(Math.abs(r.tuned[i]! - TORCH_TUNED[i]!), `${name} tuned[${i}]`).toBeLessThan(1e-4);
        expect(Math.abs(r.tunedAfter[i]! - TORCH_TUNED[i]!), `${name} tunedAfter[${i}]`).toBeLessThan(1e-4);
        expect(Math.abs(r.base[i]! - TORCH_BASE[i]!), `${name} base[${i}]`).toBeLessThan(1e-4);
        expect(Math.abs(r.evalTuned[i]! - softmax(TORCH_TUNED)[i]!), `${name} evalTuned[${i}]`).toBeLessThan(1e-4);
        expect(Math.abs(r.evalBase[i]! - softmax(TORCH_BASE)[i]!), `${name} evalBase[${i}]`).toBeLessThan(1e-4);
      }
      expect(r.active, name).toEqual(['fx']);
      expect(r.oneErrorClass, name).toBe(true);
    }
    // The fixture's adapter changes the logits (so the checks above tell tuned from base).
    expect(Math.max(...TORCH_TUNED.map((v, i) => Math.abs(v - TORCH_BASE[i]!)))).toBeGreaterThan(1e-2);
    // Mixing entries computes exactly what one entry computes.
    expect(mixed).toEqual(single);
    expect(mixedCjs).toEqual(single);
  }, 120_000);

  it('provenant/datanet and provenant/audit load neither tfjs nor viem (ESM and CJS builds); provenant/finetune loads tfjs', () => {
    for (const format of ['esm', 'cjs'] as const) {
      expect(heavyLoaded(pkg, 'datanet', format), format).toEqual([]);
      expect(heavyLoaded(pkg, 'audit', format), format).toEqual([]);
      // The check sees tfjs when it is loaded (so the empty lists above mean something).
      expect(heavyLoaded(pkg, 'finetune', format).some((u) => u.includes('@tensorflow/tfjs')), format).toBe(true);
    }
  }, 120_000);

  it('featurizeInWorkers starts the built worker entry (ESM and CJS) and writes the features featurize computes', () => {
    for (const format of ['esm', 'cjs'] as const) {
      const r = resultOf(pkg.run(`workers.${format === 'esm' ? 'mjs' : 'cjs'}`, workerRun(format))) as { rows: number; length: number[]; maxDiff: number; backends: string[] };
      expect(r.rows, format).toBe(10);
      expect(r.length[0], format).toBeGreaterThan(0);
      expect(r.length[1], format).toBe(r.length[0]);
      expect(r.maxDiff, format).toBeLessThan(1e-6);
      expect(r.backends.length, format).toBe(2);
    }
  }, 120_000);
});
