import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attributeQueries,
  attributeQuery,
  createAttributionIndex,
  denseScores,
  featurize,
  fitDataInf,
  fitFisher,
  projectionMatrix,
  readFeatureStore,
  splitReward,
  writeFeatureStore,
} from '../../src/attribution/index.js';
import { tf } from '../../src/finetune/index.js';
import { autogradPerExample, randomData, tinyMlp } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('attributeQuery', () => {
  const n = 30, d = 6, C = 3, k = 10;
  const { x, labels } = randomData(n, d, C, 91);
  const rowIds = Array.from({ length: n }, (_, i) => `r${i}`);
  const contributors = Array.from({ length: n }, (_, i) => ['alice', 'bob', 'carol', 'dave'][i % 4]!);

  async function setup() {
    const model = tinyMlp(9, d, [5], C);
    const f = featurize(model, { inputs: x, exampleShape: [d], labels }, { projection: { kind: 'gaussian', dim: k, seed: 4 } });
    const dir = await mkdtemp(join(tmpdir(), 'provenant-query-'));
    dirs.push(dir);
    await writeFeatureStore(dir, f, { model, rowIds, contributors, labels });
    const store = await readFeatureStore(dir, { model });
    return { model, store };
  }

  it('prediction, top-k rows, contributor sums and the fee split equal an independent autograd + loop computation', async () => {
    const { model, store } = await setup();
    const index = createAttributionIndex(model, store, { tileRows: 7 });
    const query = randomData(1, d, C, 5).x;
    const fee = 10n ** 18n + 7n;
    const r = attributeQuery(model, query, { index, topK: 3, feeWei: fee });

    // Prediction: softmax of a plain forward pass.
    const z = tf.tidy(() => model.forward(tf.tensor2d(query, [1, d])).dataSync());
    const e = Array.from(z, (v) => Math.exp(v - Math.max(...z)));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const label = p.indexOf(Math.max(...p));
    expect(r.prediction.label).toBe(label);
    for (let c = 0; c < C; c++) expect(Math.abs(r.prediction.probabilities[c]! - p[c]!)).toBeLessThan(1e-5);

    // Query gradient at the predicted label by one autograd pass, projected with the regenerated matrix.
    const vars = [...model.weights.values()];
    const g = autogradPerExample(model, query, Int32Array.of(label), vars)[0]!;
    const P = projectionMatrix('gaussian', g.length, k, 4);
    const phi = new Float64Array(k);
    for (let a = 0; a < g.length; a++) for (let c = 0; c < k; c++) phi[c]! += g[a]! * P[a * k + c]!;
    const scores = Array.from({ length: n }, (_, i) => phi.reduce((s, v, c) => s + v * store.features.data[i * k + c]!, 0));

    const order = scores.map((score, i) => ({ i, score }));
    const pro = order.filter((o) => o.score > 0).sort((a, b) => b.score - a.score).slice(0, 3);
    const opp = order.filter((o) => o.score < 0).sort((a, b) => a.score - b.score).slice(0, 3);
    expect(r.proponents.map((row) => row.rowId)).toEqual(pro.map((o) => `r${o.i}`));
    expect(r.opponents.map((row) => row.rowId)).toEqual(opp.map((o) => `r${o.i}`));
    expect(r.proponents[0]!.contributor).toBe(contributors[pro[0]!.i]);
    for (const [j, row] of r.proponents.entries()) expect(Math.abs(row.score - pro[j]!.score)).toBeLessThan(1e-4 * Math.max(1, Math.abs(pro[j]!.score)));

    const sums: Record<string, number> = {};
    scores.forEach((s, i) => (sums[contributors[i]!] = (sums[contributors[i]!] ?? 0) + s));
    for (const key of Object.keys(sums)) expect(Math.abs(r.contributorScores[key]! - sums[key]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(sums[key]!)));
    const positive = Object.values(sums).filter((v) => v > 0).reduce((a, b) => a + b, 0);
    const flagged = Object.keys(sums).filter((key) => sums[key]! < 0).sort();
    expect(r.split!.flagged).toEqual(flagged);
    expect(Object.values(r.split!.amounts).reduce((a, b) => a + b, 0n)).toBe(fee);
    // The split equals splitting by the exact float64 sums, up to float32 scoring noise (≤ 1e-4 relative).
    const expected = splitReward(fee, Object.fromEntries(Object.entries(sums).map(([key, v]) => [key, v / positive])));
    for (const key of Object.keys(sums)) {
      const diff = Number(r.split!.amounts[key]! - expected[key]!);
      expect(Math.abs(diff)).toBeLessThan(1e-4 * Number(fee));
    }
    const total = scores.reduce((a, b) => a + b, 0);
    expect(Math.abs(r.versionScores.all! - total)).toBeLessThan(1e-4 * Math.max(1, Math.abs(total)));
    index.dispose();

    // With Datanet versions in the store: per-version and per-contributor means from the one composite pass.
    const versions = Array.from({ length: n }, (_, i) => (i < 12 ? 'v1' : 'v2'));
    const versioned = createAttributionIndex(model, { ...store, manifest: { ...store.manifest, versions } });
    const rm = attributeQuery(model, query, { index: versioned, topK: 3, reduction: 'mean' });
    for (const v of ['v1', 'v2']) {
      const rows = scores.filter((_, i) => versions[i] === v);
      const mean = rows.reduce((a, b) => a + b, 0) / rows.length;
      expect(Math.abs(rm.versionScores[v]! - mean)).toBeLessThan(1e-4 * Math.max(1, Math.abs(mean)));
    }
    for (const c of ['alice', 'bob']) {
      const rows = scores.filter((_, i) => contributors[i] === c);
      const mean = rows.reduce((a, b) => a + b, 0) / rows.length;
      expect(Math.abs(rm.contributorScores[c]! - mean)).toBeLessThan(1e-4 * Math.max(1, Math.abs(mean)));
    }
    versioned.dispose();
    model.dispose();
  });

  it('leaks no tensors: featurizing, indexing, querying and disposing leave the backend as it was', async () => {
    const { model, store } = await setup();
    const before = tf.memory().numTensors;
    const pre = fitDataInf(store.features);
    const index = createAttributionIndex(model, store, { preconditioner: pre, tileRows: 8 });
    attributeQueries(model, randomData(3, d, C, 8).x, { index, topK: 2, exampleShape: [d] });
    featurize(model, { inputs: x, exampleShape: [d], labels }, { factorizedProjection: { kind: 'sparse', inDim: 2, outDim: 2, seed: 1 } });
    index.dispose();
    pre.dispose!();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('the batch form equals single queries; a preconditioned index agrees with denseScores; a changed model is refused', async () => {
    const { model, store } = await setup();
    const pre = fitFisher(store.features);
    const index = createAttributionIndex(model, store, { preconditioner: pre });
    const queries = randomData(4, d, C, 6).x;
    const batch = attributeQueries(model, queries, { index, topK: 5, exampleShape: [d] });
    expect(batch.length).toBe(4);
    for (let t = 0; t < 4; t++) {
      const single = attributeQuery(model, queries.subarray(t * d, (t + 1) * d), { index, topK: 5 });
      expect(single.proponents.map((r) => r.index)).toEqual(batch[t]!.proponents.map((r) => r.index));
      expect(single.prediction.label).toBe(batch[t]!.prediction.label);
      expect(single.method).toBe('fisher');
    }
    // Same scores through denseScores on features of the queries at their predicted labels.
    const labelsPred = Int32Array.from(batch.map((b) => b.prediction.label));
    const qf = featurize(model, { inputs: queries, exampleShape: [d], labels: labelsPred }, { projection: { kind: 'gaussian', dim: k, seed: 4 } });
    const dense = denseScores(store.features, qf.features, pre);
    for (let t = 0; t < 4; t++) {
      const top = batch[t]!.proponents[0];
      if (top) expect(Math.abs(dense.values[top.index * 4 + t]! - top.score)).toBeLessThan(1e-4 * Math.max(1, Math.abs(top.score)));
    }
    // Given labels: the gradient is taken at them (here: the least likely class of each query).
    const given = Int32Array.from(batch.map((b) => b.prediction.probabilities.indexOf(Math.min(...b.prediction.probabilities))));
    const labelled = attributeQueries(model, queries, { index, topK: 5, exampleShape: [d], labels: given });
    const lf = featurize(model, { inputs: queries, exampleShape: [d], labels: given }, { projection: { kind: 'gaussian', dim: k, seed: 4 } });
    const ldense = denseScores(store.features, lf.features, pre);
    for (let t = 0; t < 4; t++) {
      expect(labelled[t]!.attributedLabel).toBe(given[t]);
      expect(labelled[t]!.prediction.label).toBe(batch[t]!.prediction.label);
      const top = labelled[t]!.proponents[0];
      if (top) expect(Math.abs(ldense.values[top.index * 4 + t]! - top.score)).toBeLessThan(1e-4 * Math.max(1, Math.abs(top.score)));
    }
    index.dispose();
    tf.tidy(() => model.weights.get('fc1.bias')!.assign(tf.onesLike(model.weights.get('fc1.bias')!)));
    expect(() => createAttributionIndex(model, store)).toThrow(/ATTRIBUTION_FEATURE_STORE_INVALID/);
    model.dispose();
  });
});
