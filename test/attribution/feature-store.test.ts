import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  featureModelHash,
  featureStoreDigest,
  featurize,
  featurizeInWorkers,
  mergeFeatureShards,
  readFeatureStore,
  restoreModel,
  serializeModel,
  writeFeatureStore,
} from '../../src/attribution/index.js';
import { isProvenantError } from '../../src/core/index.js';
import { setBaseTrainable, tf } from '../../src/finetune/index.js';
import { attachAdapter, maxAbs, randomData, tinyMlp } from './helpers.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'provenant-features-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function loraMlp() {
  const model = tinyMlp(7, 6, [5], 3);
  for (const layer of model.linears.values()) attachAdapter(layer, 2, 70 + layer.inFeatures, 1.5);
  setBaseTrainable(model, false);
  return model;
}

async function expectCode(p: Promise<unknown>, code: string) {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(isProvenantError(error, code as never)).toBe(true);
}

describe('feature store', () => {
  const n = 13;
  const { x, labels } = randomData(n, 6, 3, 81);
  const rowIds = Array.from({ length: n }, (_, i) => `row-${i}`);
  const contributors = Array.from({ length: n }, (_, i) => ['alice', 'bob', 'carol'][i % 3]!);

  it('round-trips features, losses, probabilities and row metadata through shards; checks hashes and the model', async () => {
    const model = loraMlp();
    const f = featurize(model, { inputs: x, exampleShape: [6], labels }, { projection: { kind: 'sparse', dim: 8, seed: 3 } });
    const dir = await tempDir();
    const manifest = await writeFeatureStore(dir, f, { model, rowIds, contributors, labels, snapshotRoot: '0xabc', shardRows: 5 });
    expect(manifest.shards.map((s) => [s.rowStart, s.rows])).toEqual([[0, 5], [5, 5], [10, 3]]);
    const store = await readFeatureStore(dir, { model });
    expect(store.features.data).toEqual(f.features.data);
    expect(store.loss).toEqual(f.loss);
    expect(store.labelProbability).toEqual(f.labelProbability);
    expect(store.manifest.rowIds).toEqual(rowIds);
    expect(store.manifest.contributors).toEqual(contributors);
    expect(store.manifest.snapshotRoot).toBe('0xabc');
    expect(store.manifest.info.projection).toEqual({ type: 'dense', kind: 'sparse', dim: 8, seed: 3 });
    // The manifest digest survives the round trip and pins the row metadata.
    expect(featureStoreDigest(store.manifest)).toBe(featureStoreDigest(manifest));
    expect(featureStoreDigest({ ...manifest, rowIds: [...rowIds.slice(0, -1), 'other'] })).not.toBe(featureStoreDigest(manifest));

    // A different adapter → a different model hash → refused.
    const other = loraMlp();
    tf.tidy(() => other.linears.get('fc1')!.adapters.get('default')!.B.assign(tf.onesLike(other.linears.get('fc1')!.adapters.get('default')!.B)));
    expect(featureModelHash(other)).not.toBe(featureModelHash(model));
    // Merging an adapter into the kernel changes the effective weights' description (merged flag), so the hash too.
    const merged = restoreModel(serializeModel(model));
    merged.linears.get('fc2')!.merged = ['default'];
    expect(featureModelHash(merged)).not.toBe(featureModelHash(model));
    merged.dispose();
    await expectCode(readFeatureStore(dir, { model: other }), 'ATTRIBUTION_FEATURE_STORE_INVALID');

    // A flipped byte in a shard is caught by its SHA-256.
    const shard = join(dir, manifest.shards[1]!.file);
    const bytes = await readFile(shard);
    bytes[7] = bytes[7]! ^ 1;
    await writeFile(shard, bytes);
    await expectCode(readFeatureStore(dir), 'ATTRIBUTION_FEATURE_STORE_INVALID');

    // Shards that leave a gap are refused when merged.
    await expectCode(
      mergeFeatureShards(dir, [manifest.shards[0]!, manifest.shards[2]!], { ...manifest, modelHash: manifest.modelHash, labels }),
      'ATTRIBUTION_FEATURE_STORE_INVALID',
    );
    model.dispose();
    other.dispose();
  });

  describe('side files and shard tiling', () => {
    /** A fresh store of 13 rows in shards of 5, 5 and 3 rows; returns the directory, its manifest and the features. */
    async function store() {
      const model = loraMlp();
      const f = featurize(model, { inputs: x, exampleShape: [6], labels }, { projection: { kind: 'sparse', dim: 8, seed: 3 } });
      const dir = await tempDir();
      const manifest = await writeFeatureStore(dir, f, { model, rowIds, contributors, labels, shardRows: 5 });
      model.dispose();
      return { dir, manifest, f };
    }
    async function expectRefused(p: Promise<unknown>, message: RegExp) {
      const error = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isProvenantError(error, 'ATTRIBUTION_FEATURE_STORE_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    const rewriteManifest = (dir: string, edit: (m: Record<string, unknown>) => void) =>
      readFile(join(dir, 'manifest.json'), 'utf8').then((text) => {
        const m = JSON.parse(text) as Record<string, unknown>;
        edit(m);
        return writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
      });

    it('the manifest names the SHA-256 of each loss and p_y file (bytes hashed here, independently)', async () => {
      const { dir, manifest } = await store();
      for (const shard of manifest.shards) {
        const hash = async (file: string) => `0x${createHash('sha256').update(await readFile(join(dir, file))).digest('hex')}`;
        expect(shard.lossSha256).toBe(await hash(shard.file.replace('.f32', '.loss.f32')));
        expect(shard.probabilitySha256).toBe(await hash(shard.file.replace('.f32', '.prob.f32')));
      }
    });

    it('a corrupted loss file is refused, naming it', async () => {
      const { dir } = await store();
      const file = join(dir, 'shard-00001.loss.f32');
      const bytes = await readFile(file);
      bytes[2] = bytes[2]! ^ 0x40; // same length, one value changed
      await writeFile(file, bytes);
      await expectRefused(readFeatureStore(dir), /shard-00001\.loss\.f32 does not match its SHA-256/);
    });

    it('p_y files swapped between two shards of equal size are refused, naming the first', async () => {
      const { dir, f } = await store();
      const [a, b] = [join(dir, 'shard-00000.prob.f32'), join(dir, 'shard-00001.prob.f32')];
      const [bytesA, bytesB] = [await readFile(a), await readFile(b)];
      await writeFile(a, bytesB);
      await writeFile(b, bytesA);
      await expectRefused(readFeatureStore(dir), /shard-00000\.prob\.f32 does not match/);
      // Unverified, the swap loads — which is what verification exists to prevent.
      const unverified = await readFeatureStore(dir, { verify: false });
      expect(Array.from(unverified.labelProbability.subarray(0, 5))).toEqual(Array.from(f.labelProbability.subarray(5, 10)));
    });

    it('shards that leave a gap, overlap or are listed out of order are refused on read', async () => {
      const { dir, manifest } = await store();
      const [s0, s1, s2] = manifest.shards;
      // A gap: shard 1 dropped from the list (rows 5–9 would silently be zeros).
      await rewriteManifest(dir, (m) => (m.shards = [s0, s2]));
      await expectRefused(readFeatureStore(dir), /shard shard-00002\.f32 starts at row 10, expected 5 \(a gap\)/);
      // An overlap: shard 1 claims to start one row early (its bytes and hash are untouched, so only tiling catches it).
      await rewriteManifest(dir, (m) => (m.shards = [s0, { ...s1!, rowStart: 4 }, s2]));
      await expectRefused(readFeatureStore(dir), /shard-00001\.f32 starts at row 4, expected 5 \(an overlap or out of order\)/);
      // Out of order.
      await rewriteManifest(dir, (m) => (m.shards = [s1, s0, s2]));
      await expectRefused(readFeatureStore(dir), /shard-00001\.f32 starts at row 5, expected 0/);
      // Short of the rows the manifest states.
      await rewriteManifest(dir, (m) => (m.shards = [s0, s1]));
      await expectRefused(readFeatureStore(dir), /cover rows \[0, 10\), the manifest gives 13 rows/);
      // Put back, it reads.
      await rewriteManifest(dir, (m) => (m.shards = [s0, s1, s2]));
      expect((await readFeatureStore(dir)).features.rows).toBe(13);
    });

    it('row metadata of the wrong length and blocks that do not tile the columns are refused on read', async () => {
      const { dir, manifest } = await store();
      await rewriteManifest(dir, (m) => (m.contributors = contributors.slice(1)));
      await expectRefused(readFeatureStore(dir), /contributors has 12 entries, for 13 rows/);
      await rewriteManifest(dir, (m) => ((m.contributors = contributors), (m.labels = undefined)));
      await expectRefused(readFeatureStore(dir), /labels is undefined, not a list, for 13 rows/);
      await rewriteManifest(dir, (m) => ((m.labels = Array.from(labels)), (m.blocks = [{ ...manifest.blocks[0]!, size: 7 }])));
      await expectRefused(readFeatureStore(dir), /blocks cover 7 columns of 8/);
    });

    it('a manifest from before side-file digests is refused by default, and read with verify: false', async () => {
      const { dir, f } = await store();
      await rewriteManifest(dir, (m) => {
        for (const shard of m.shards as Record<string, unknown>[]) {
          delete shard.lossSha256;
          delete shard.probabilitySha256;
        }
      });
      await expectRefused(readFeatureStore(dir), /shard-00000\.f32 has no SHA-256 for its loss and probability files/);
      const old = await readFeatureStore(dir, { verify: false });
      expect(old.loss).toEqual(f.loss);
    });

    it('merging shard entries without side-file digests is refused, naming the shard and the fields', async () => {
      const { dir, manifest } = await store();
      const bare = manifest.shards.map(({ file, rowStart, rows, sha256 }) => ({ file, rowStart, rows, sha256 }));
      await expectRefused(
        mergeFeatureShards(dir, bare as never, { ...manifest, labels }),
        /Shard "shard-00000\.f32" lacks lossSha256, probabilitySha256/,
      );
    });
  });

  it('serializeModel → restoreModel gives the same forward pass and the same model hash', () => {
    const model = loraMlp();
    const copy = restoreModel(serializeModel(model));
    const xt = tf.tensor2d(x, [n, 6]);
    const a = tf.tidy(() => model.forward(xt).dataSync());
    const b = tf.tidy(() => copy.forward(xt).dataSync());
    expect(maxAbs(a, b)).toBe(0);
    expect(featureModelHash(copy)).toBe(featureModelHash(model));
    expect(copy.linears.get('fc1')!.kernel.trainable).toBe(false);
    xt.dispose();
    model.dispose();
    copy.dispose();
  });

  it('shards written by two worker threads merge into the same store as a single-process run', async () => {
    const model = loraMlp();
    const options = { factorizedProjection: { kind: 'gaussian' as const, inDim: 3, outDim: 2, seed: 5 }, batchSize: 4 };
    const single = await tempDir();
    await writeFeatureStore(single, featurize(model, { inputs: x, exampleShape: [6], labels }, options), { model, rowIds, contributors, labels });
    const parallel = await tempDir();
    const backends: string[] = [];
    const manifest = await featurizeInWorkers(model, { inputs: x, exampleShape: [6], labels }, {
      directory: parallel,
      workers: 2,
      shardRows: 4,
      featurize: options,
      rowIds,
      contributors,
      onShard: (e) => backends.push(e.backend),
    });
    expect(manifest.shards.length).toBe(4);
    // Issue 13 kind 10: workers start on the fastest backend (wasm here), not tfjs's cpu default.
    expect(backends).toEqual(['wasm', 'wasm', 'wasm', 'wasm']);
    const a = await readFeatureStore(single, { model });
    const b = await readFeatureStore(parallel, { model });
    expect(b.manifest.rows).toBe(n);
    expect(maxAbs(a.features.data, b.features.data)).toBeLessThan(1e-6);
    expect(maxAbs(a.loss, b.loss)).toBeLessThan(1e-6);
    expect(b.manifest.rowIds).toEqual(rowIds);
    expect(b.manifest.info).toEqual(a.manifest.info);
    expect(b.manifest.blocks).toEqual(a.manifest.blocks);
    model.dispose();
  }, 60_000);
});
