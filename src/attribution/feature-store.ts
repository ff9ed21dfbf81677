/**
 * The feature store: features computed once, stored, and reused for every query (dattri's `cache`, TRAK's saved
 * features). A directory holds
 *   manifest.json                 — format, model hash, snapshot root, how features were made (FeaturizeInfo), row ids,
 *                                   contributors, blocks, and each shard's file, row range and SHA-256;
 *   shard-00000.f32 …             — rows × dim float32, little-endian, row-major;
 *   shard-00000.loss.f32 / .prob.f32 — per-row loss and p_y (screening baselines, TRAK's Q).
 * Shards are written independently (by workers) and merged by writing the manifest over them.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvenantError, canonicalJson, createSha256, describeValue, readFileChecked, sha256, utf8Bytes, writeFileAtomic, type Hex } from '../core/index.js';
import { baseModelHash, classificationHeadModules, type Model } from '../finetune/index.js';
import type { FeatureBlock, FeatureMatrix } from './feature-matrix.js';
import type { Features, FeaturizeInfo } from './featurize.js';

export const FEATURE_STORE_FORMAT = 'provenant.feature-store.v1';

export interface ShardEntry {
  file: string;
  rowStart: number;
  rows: number;
  /** SHA-256 of the feature file's bytes. */
  sha256: Hex;
}

export interface FeatureStoreManifest {
  format: typeof FEATURE_STORE_FORMAT;
  /** {@link featureModelHash} of the model the features were computed with. */
  modelHash: Hex;
  /** Merkle root of the Datanet snapshot the rows come from (null when not from a snapshot). */
  snapshotRoot: string | null;
  info: FeaturizeInfo;
  rows: number;
  dim: number;
  blocks: FeatureBlock[];
  dtype: 'float32';
  byteOrder: 'little-endian';
  shards: ShardEntry[];
  rowIds: string[];
  contributors: string[];
  /** Datanet version each row entered in (optional; for aggregation by version). */
  versions?: string[];
  /** The label each row's gradient was taken at. */
  labels: number[];
}

export interface FeatureStore {
  manifest: FeatureStoreManifest;
  features: FeatureMatrix;
  loss: Float32Array;
  labelProbability: Float32Array;
}

/** Row metadata that travels with features. */
export interface RowMetadata {
  rowIds: readonly string[];
  contributors: readonly string[];
  versions?: readonly string[];
  labels: ArrayLike<number>;
}

/**
 * SHA-256 binding the features to the exact weights they came from: the base model's hash (`baseModelHash`, which
 * fine-tuning also records; with adapters merged it is the pre-merge base), the classification head in use (its
 * effective kernel and bias: the base hash leaves the head out), and every active or merged adapter's scale, merged flag
 * and weight bytes — together they determine the effective weights. A store whose hash differs from the model's is
 * refused by {@link readFeatureStore} (`model` option) and {@link createAttributionIndex}.
 *
 * @example
 * ```ts
 * import { featureModelHash, readFeatureStore } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * const store = await readFeatureStore('cache/features');
 * store.manifest.modelHash === featureModelHash(model); // false after any change to the weights or adapters
 * ```
 */
export function featureModelHash(model: Model): Hex {
  const adapters: [string, number, boolean, string, string][] = [];
  for (const layer of model.linears.values()) {
    for (const name of new Set([...layer.active, ...layer.merged])) {
      const a = layer.adapters.get(name);
      if (!a) continue;
      adapters.push([`${layer.name}/${name}`, a.scale, layer.merged.includes(name), bytesHash(a.A.dataSync() as Float32Array), bytesHash(a.B.dataSync() as Float32Array)]);
    }
  }
  adapters.sort((x, y) => (x[0] < y[0] ? -1 : 1));
  // The base hash leaves a classification head out (it travels in adapters); the features depend on the head in use.
  const head = classificationHeadModules(model).map((m) => {
    const linear = model.linears.get(m)!;
    return [m, bytesHash(linear.kernel.dataSync() as Float32Array), linear.bias ? bytesHash(linear.bias.dataSync() as Float32Array) : null];
  });
  return sha256(utf8Bytes(canonicalJson({ format: 'provenant.feature-model.v2', base: baseModelHash(model), head, adapters })));
}

/**
 * `featureModelHash(model)`, refused when it differs from the hash the store was featurized under (unless `skipCheck`):
 * scores from features of other weights or adapters would be silently wrong. Both indexes (classification and
 * generation) build on it.
 *
 * @throws ProvenantError `ATTRIBUTION_FEATURE_STORE_INVALID` naming both hashes.
 */
export function storeModelHash(model: Model, store: FeatureStore, skipCheck = false): Hex {
  const modelHash = featureModelHash(model);
  if (!skipCheck && modelHash !== store.manifest.modelHash) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', 'The feature store was computed with a different model.', {
      metaMessages: [`store: ${store.manifest.modelHash}`, `model: ${modelHash}`],
      details: 'Re-featurize the training rows after any change to the weights or adapters.',
    });
  }
  return modelHash;
}

/**
 * SHA-256 of a store's manifest (canonical JSON): one digest for the audit record that pins every shard's feature
 * hash, the model hash, the row ids and contributors.
 *
 * @example
 * ```ts
 * import { featureStoreDigest, readFeatureStore } from 'provenant/attribution';
 *
 * const { manifest } = await readFeatureStore('cache/features');
 * const digest = featureStoreDigest(manifest); // '0x…' (32 bytes)
 * ```
 */
export function featureStoreDigest(manifest: FeatureStoreManifest): Hex {
  return sha256(utf8Bytes(canonicalJson(manifest)));
}

function bytesHash(data: Float32Array): string {
  return sha256(littleEndian(data));
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function littleEndian(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) for (let k = 0; k < 4; k++) out[i + k] = bytes[i + 3 - k]!;
  return out;
}
function fromLittleEndian(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes); // aligned copy
  if (!LITTLE_ENDIAN_HOST) for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}

/**
 * The file name of shard `shardIndex` in a feature store: `shard-` and the index zero-padded to 5 digits, `.f32`
 * (its loss and p_y files replace `.f32` with `.loss.f32` and `.prob.f32`).
 *
 * @example
 * ```ts
 * import { shardFileName } from 'provenant/attribution';
 *
 * shardFileName(3); // 'shard-00003.f32'
 * ```
 */
export const shardFileName = (shardIndex: number): string => `shard-${String(shardIndex).padStart(5, '0')}.f32`;

/**
 * Writes one shard for rows [rowStart, rowStart + rows) into `directory` — the features (`shard-NNNNN.f32`, float32
 * little-endian, rows × dim row-major), each row's loss (`.loss.f32`) and p_y (`.prob.f32`), each file atomically — and
 * returns its manifest entry with the features' SHA-256. {@link mergeFeatureShards} then writes the manifest.
 *
 * @throws ProvenantError `FILE_WRITE_FAILED` naming the file when a write fails.
 * @example
 * ```ts
 * import { writeFeatureShard, type Features } from 'provenant/attribution';
 *
 * declare const shardFeatures: Features; // rows 4096 … 8191, from a worker
 * const entry = await writeFeatureShard('cache/features', 1, 4096, shardFeatures);
 * // { file: 'shard-00001.f32', rowStart: 4096, rows: 4096, sha256: '0x…' }
 * ```
 */
export async function writeFeatureShard(directory: string, shardIndex: number, rowStart: number, features: Features): Promise<ShardEntry> {
  await mkdir(directory, { recursive: true });
  const file = shardFileName(shardIndex);
  const bytes = littleEndian(features.features.data);
  const hasher = createSha256();
  hasher.update(bytes);
  // Each file atomically (issue 13): a crash never leaves a torn shard; the manifest, written last, names the shards'
  // SHA-256, so a store caught between an old manifest and new shards fails verification instead of mixing rows.
  await writeFileAtomic(join(directory, file), bytes);
  await writeFileAtomic(join(directory, file.replace(/\.f32$/, '.loss.f32')), littleEndian(features.loss));
  await writeFileAtomic(join(directory, file.replace(/\.f32$/, '.prob.f32')), littleEndian(features.labelProbability));
  return { file, rowStart, rows: features.features.rows, sha256: hasher.digest() };
}

export interface MergeShardsOptions extends RowMetadata {
  modelHash: Hex;
  snapshotRoot?: string | null;
  info: FeaturizeInfo;
  dim: number;
  blocks: FeatureBlock[];
}

/**
 * Writes the manifest over shards already in `directory` (from workers or earlier runs), atomically and last, so a
 * store is never readable with a partial set. Checks that the shards tile [0, rows) without gaps or overlaps and that
 * the row metadata (`rowIds`, `contributors`, `labels`, optional `versions`) has one entry per row.
 *
 * @throws ProvenantError `ATTRIBUTION_FEATURE_STORE_INVALID` naming the shard or list that does not fit;
 *   `FILE_WRITE_FAILED` when the manifest cannot be written.
 * @example
 * ```ts
 * import { featureModelHash, mergeFeatureShards, type FeatureBlock, type FeaturizeInfo, type ShardEntry } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const shards: ShardEntry[]; // from writeFeatureShard in each worker
 * declare const info: FeaturizeInfo, blocks: FeatureBlock[];
 * declare const rowIds: string[], contributors: string[], labels: number[];
 * const manifest = await mergeFeatureShards('cache/features', shards, { modelHash: featureModelHash(model), info, dim: 512, blocks, rowIds, contributors, labels });
 * ```
 */
export async function mergeFeatureShards(directory: string, shards: readonly ShardEntry[], options: MergeShardsOptions): Promise<FeatureStoreManifest> {
  const sorted = [...shards].sort((a, b) => a.rowStart - b.rowStart);
  let next = 0;
  for (const s of sorted) {
    if (s.rowStart !== next) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${s.file} starts at row ${s.rowStart}, expected ${next} (gap or overlap).`);
    }
    next += s.rows;
  }
  const rows = next;
  for (const [name, list] of [['rowIds', options.rowIds], ['contributors', options.contributors], ['labels', options.labels]] as const) {
    if (list.length !== rows) throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `${name} has ${list.length} entries for ${rows} rows.`);
  }
  if (options.versions && options.versions.length !== rows) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `versions has ${options.versions.length} entries for ${rows} rows.`);
  }
  const manifest: FeatureStoreManifest = {
    format: FEATURE_STORE_FORMAT,
    modelHash: options.modelHash,
    snapshotRoot: options.snapshotRoot ?? null,
    info: options.info,
    rows,
    dim: options.dim,
    blocks: options.blocks,
    dtype: 'float32',
    byteOrder: 'little-endian',
    shards: sorted,
    rowIds: [...options.rowIds],
    contributors: [...options.contributors],
    ...(options.versions ? { versions: [...options.versions] } : {}),
    labels: Array.from(options.labels),
  };
  await writeFileAtomic(join(directory, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

export interface WriteFeatureStoreOptions extends RowMetadata {
  model: Model;
  snapshotRoot?: string | null;
  /** Rows per shard file; default 65,536. */
  shardRows?: number;
}

/**
 * Writes features computed in this process as a store (shards + manifest).
 *
 * @example
 * ```ts
 * import { featurize, writeFeatureStore, type FeaturizeData } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const data: FeaturizeData;
 * declare const rowIds: readonly string[];
 * declare const contributors: readonly string[];
 * const f = featurize(model, data, { projection: { kind: 'rademacher', dim: 512, seed: 1 } });
 * await writeFeatureStore('cache/features', f, { model, rowIds, contributors, labels: data.labels });
 * ```
 */
export async function writeFeatureStore(directory: string, features: Features, options: WriteFeatureStoreOptions): Promise<FeatureStoreManifest> {
  const shardRows = options.shardRows ?? 65_536;
  const { rows, dim } = features.features;
  const shards: ShardEntry[] = [];
  for (let start = 0, k = 0; start < rows || (rows === 0 && k === 0); start += shardRows, k++) {
    const end = Math.min(rows, start + shardRows);
    shards.push(
      await writeFeatureShard(directory, k, start, {
        ...features,
        features: { ...features.features, rows: end - start, data: features.features.data.subarray(start * dim, end * dim) },
        loss: features.loss.subarray(start, end),
        labelProbability: features.labelProbability.subarray(start, end),
      }),
    );
    if (rows === 0) break;
  }
  return mergeFeatureShards(directory, shards, {
    ...options,
    modelHash: featureModelHash(options.model),
    info: features.info,
    dim,
    blocks: features.features.blocks,
  });
}

export interface ReadFeatureStoreOptions {
  /** Re-hash every shard against the manifest (default true). */
  verify?: boolean;
  /** When given, the store must have been computed with this model (`featureModelHash`). */
  model?: Model;
}

/**
 * Reads a store written by {@link writeFeatureStore} or {@link mergeFeatureShards}: the manifest, every shard's
 * features (rows × dim float32, re-hashed against the manifest's SHA-256 unless `verify: false`), loss and p_y. With
 * `model`, the store must have been computed with that model ({@link featureModelHash}).
 *
 * @throws ProvenantError `FILE_NOT_FOUND` when the manifest or a shard is missing; `ATTRIBUTION_FEATURE_STORE_INVALID`
 *   for a manifest that is not valid JSON or of an unknown format, a different model, a malformed shard entry, a shard
 *   of the wrong size or whose SHA-256 does not match.
 * @example
 * ```ts
 * import { readFeatureStore } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * const store = await readFeatureStore('cache/features', { model });
 * store.features.rows; // e.g. 5000; store.manifest.contributors[i] owns row i
 * ```
 */
export async function readFeatureStore(directory: string, options: ReadFeatureStoreOptions = {}): Promise<FeatureStore> {
  let manifest: FeatureStoreManifest;
  const manifestText = Buffer.from(await readFileChecked(join(directory, 'manifest.json'), { what: 'feature-store manifest' })).toString('utf8');
  try {
    manifest = JSON.parse(manifestText) as FeatureStoreManifest;
  } catch (cause) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json in ${directory} is not valid JSON.`, { cause });
  }
  if (manifest === null || typeof manifest !== 'object' || !Array.isArray(manifest.shards)) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json in ${directory} is not a feature-store manifest.`);
  }
  const readFile = (file: string) => readFileChecked(join(directory, file), { what: 'feature-store shard' });
  if (manifest.format !== FEATURE_STORE_FORMAT) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Unknown feature-store format "${String(manifest.format)}".`);
  }
  if (options.model) {
    const hash = featureModelHash(options.model);
    if (hash !== manifest.modelHash) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', 'The feature store was computed with a different model.', {
        metaMessages: [`store: ${manifest.modelHash}`, `model: ${hash}`],
        details: 'Re-featurize the training rows after any change to the weights or adapters.',
      });
    }
  }
  const { rows, dim } = manifest;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(dim) || rows < 0 || dim < 1 || rows * dim > 2 ** 31) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json gives ${describeValue(rows)} rows × ${describeValue(dim)} columns.`);
  }
  const data = new Float32Array(rows * dim);
  const loss = new Float32Array(rows);
  const labelProbability = new Float32Array(rows);
  for (const shard of manifest.shards) {
    if (typeof shard?.file !== 'string' || !/^[\w.-]+\.f32$/.test(shard.file) || !Number.isSafeInteger(shard.rowStart) || !Number.isSafeInteger(shard.rows) || shard.rowStart < 0 || shard.rows < 0 || shard.rowStart + shard.rows > rows) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json lists a malformed shard ${describeValue(shard)}.`);
    }
    const bytes = await readFile(shard.file);
    if (bytes.length !== shard.rows * dim * 4) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${shard.file} has ${bytes.length} bytes, expected ${shard.rows * dim * 4}.`);
    }
    if ((options.verify ?? true) && sha256(bytes) !== shard.sha256) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${shard.file} does not match its SHA-256 in the manifest.`);
    }
    data.set(fromLittleEndian(bytes), shard.rowStart * dim);
    const lossBytes = await readFile(shard.file.replace(/\.f32$/, '.loss.f32'));
    const probBytes = await readFile(shard.file.replace(/\.f32$/, '.prob.f32'));
    if (lossBytes.length !== shard.rows * 4 || probBytes.length !== shard.rows * 4) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${shard.file}: loss or probability file does not hold ${shard.rows} float32 values.`);
    }
    loss.set(fromLittleEndian(lossBytes), shard.rowStart);
    labelProbability.set(fromLittleEndian(probBytes), shard.rowStart);
  }
  return { manifest, features: { rows, dim, data, blocks: manifest.blocks }, loss, labelProbability };
}
