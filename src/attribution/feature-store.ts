/**
 * The feature store: features computed once, stored, and reused for every query (dattri's `cache`, TRAK's saved
 * features). A directory holds
 *   manifest.json                 — format, model hash, snapshot root, how features were made (FeaturizeInfo), row ids,
 *                                   contributors, blocks, and each shard's file, row range and the SHA-256 of each of
 *                                   its three files;
 *   shard-00000.f32 …             — rows × dim float32, little-endian, row-major;
 *   shard-00000.loss.f32 / .prob.f32 — per-row loss and p_y (screening baselines, TRAK's Q).
 * Shards are written independently (by workers) and merged by writing the manifest over them. The shards listed in the
 * manifest tile [0, rows) in order, so every row comes from exactly one shard.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvenantError, canonicalJson, createSha256, describeValue, readFileChecked, resolve, sha256, utf8Bytes, writeFileAtomic, type Hex, type ParamField, type ParamTable } from '../core/index.js';
import { baseModelHash, classificationHeadModules, type Model } from '../finetune/index.js';
import { validateFeatureMatrix, type FeatureBlock, type FeatureMatrix } from './feature-matrix.js';
import type { Features, FeaturizeInfo } from './featurize.js';

export const FEATURE_STORE_FORMAT = 'provenant.feature-store.v1';

export interface ShardEntry {
  file: string;
  rowStart: number;
  rows: number;
  /** SHA-256 of the feature file's bytes. */
  sha256: Hex;
  /**
   * SHA-256 of the per-row loss file's bytes (`.loss.f32`). Manifests written before this field existed lack it; they
   * are read only with `verify: false` (a corrupted or swapped loss file would otherwise load silently).
   */
  lossSha256: Hex;
  /** SHA-256 of the per-row p_y file's bytes (`.prob.f32`); see `lossSha256`. */
  probabilitySha256: Hex;
}

/** The loss and p_y files beside feature file `file` (`shard-00000.f32` → `.loss.f32`, `.prob.f32`). */
const sideFiles = (file: string) => ({ loss: file.replace(/\.f32$/, '.loss.f32'), probability: file.replace(/\.f32$/, '.prob.f32') });

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
 * returns its manifest entry with the SHA-256 of each file. {@link mergeFeatureShards} then writes the manifest.
 *
 * @throws ProvenantError `FILE_WRITE_FAILED` naming the file when a write fails.
 * @example
 * ```ts
 * import { writeFeatureShard, type Features } from 'provenant/attribution';
 *
 * declare const shardFeatures: Features; // rows 4096 … 8191, from a worker
 * const entry = await writeFeatureShard('cache/features', 1, 4096, shardFeatures);
 * // { file: 'shard-00001.f32', rowStart: 4096, rows: 4096, sha256: '0x…', lossSha256: '0x…', probabilitySha256: '0x…' }
 * ```
 */
export async function writeFeatureShard(directory: string, shardIndex: number, rowStart: number, features: Features): Promise<ShardEntry> {
  await mkdir(directory, { recursive: true });
  const file = shardFileName(shardIndex);
  const side = sideFiles(file);
  const bytes = littleEndian(features.features.data);
  const lossBytes = littleEndian(features.loss);
  const probabilityBytes = littleEndian(features.labelProbability);
  const hasher = createSha256();
  hasher.update(bytes);
  // Each file atomically (issue 13): a crash never leaves a torn shard; the manifest, written last, names the SHA-256
  // of all three files, so a store caught between an old manifest and new shards fails verification instead of mixing
  // rows, and a loss or p_y file from another shard or run is caught like a feature file.
  await writeFileAtomic(join(directory, file), bytes);
  await writeFileAtomic(join(directory, side.loss), lossBytes);
  await writeFileAtomic(join(directory, side.probability), probabilityBytes);
  return { file, rowStart, rows: features.features.rows, sha256: hasher.digest(), lossSha256: sha256(lossBytes), probabilitySha256: sha256(probabilityBytes) };
}

/** The fields of {@link RowMetadata} (one entry per row), shared by the store writers' option tables. */
const ROW_METADATA_FIELDS: readonly ParamField[] = Object.freeze([
  { name: 'rowIds', default: null, meaning: 'Id of each row (required).', aliases: ['row_ids', 'ids'] },
  { name: 'contributors', default: null, meaning: 'Contributor of each row (required).' },
  { name: 'versions', default: null, meaning: 'Datanet version each row entered in (null: none recorded).', aliases: ['datanets'] },
  { name: 'labels', default: null, meaning: 'Label (or scored-token count) of each row (required).' },
  { name: 'snapshotRoot', default: null, meaning: 'Merkle root of the Datanet snapshot the rows came from (null: none).' },
]);

/** The options of {@link mergeFeatureShards}: a misspelt name is refused with the nearest field, never ignored. */
const MERGE_SHARDS_PARAMS: ParamTable = Object.freeze({
  name: 'mergeFeatureShards',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...ROW_METADATA_FIELDS,
    { name: 'modelHash', default: null, meaning: 'featureModelHash of the model the features came from (required).' },
    { name: 'info', default: null, meaning: 'How the features were made (FeaturizeInfo) (required).' },
    { name: 'dim', default: null, meaning: 'Feature columns (required).' },
    { name: 'blocks', default: null, meaning: 'Column blocks of the features (required).' },
  ],
  // A manifest's own fields: re-merging from a read manifest (`{ ...manifest, labels }`) passes them along; they are
  // recomputed from the shards, never read from the options.
  inputs: ['format', 'rows', 'dtype', 'byteOrder', 'shards'],
});

/** The options of {@link writeFeatureStore}: a misspelt name is refused with the nearest field, never ignored. */
export const WRITE_FEATURE_STORE_PARAMS: ParamTable = Object.freeze({
  name: 'writeFeatureStore',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...ROW_METADATA_FIELDS,
    { name: 'model', default: null, meaning: 'The model the features came from (its hash binds the store to its weights) (required).' },
    { name: 'shardRows', default: 65_536, meaning: 'Rows per shard file.', aliases: ['shard_rows'] },
  ],
});

/** The options of {@link readFeatureStore}: a misspelt name is refused with the nearest field, never ignored. */
export const READ_FEATURE_STORE_PARAMS: ParamTable = Object.freeze({
  name: 'readFeatureStore',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'verify', default: true, meaning: 'Re-hash every shard\'s files against the manifest.' },
    { name: 'model', default: null, meaning: 'When given, the store must have been computed with this model.' },
  ],
});

export interface MergeShardsOptions extends RowMetadata {
  modelHash: Hex;
  snapshotRoot?: string | null;
  info: FeaturizeInfo;
  dim: number;
  blocks: FeatureBlock[];
}

/**
 * Writes the manifest over shards already in `directory` (from workers or earlier runs), atomically and last, so a
 * store is never readable with a partial set. The shards may arrive in any order (workers finish when they finish);
 * they are listed by `rowStart` and must tile [0, rows) without gaps or overlaps, each with the SHA-256 of its three
 * files; the row metadata (`rowIds`, `contributors`, `labels`, optional `versions`) must have one entry per row.
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
  resolve(MERGE_SHARDS_PARAMS, options);
  for (const s of shards) {
    const missing = (['sha256', 'lossSha256', 'probabilitySha256'] as const).filter((k) => typeof s[k] !== 'string' || !/^0x[0-9a-f]{64}$/.test(s[k]));
    if (missing.length > 0) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${describeValue(s.file)} lacks ${missing.join(', ')}; pass the entries writeFeatureShard returns.`, {
        data: { shard: s.file, missing },
      });
    }
  }
  const sorted = [...shards].sort((a, b) => a.rowStart - b.rowStart);
  const rows = checkShardTiling(sorted, null, 'shards');
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

/**
 * Checks that `shards`, in the order given, tile [0, rows) exactly: the first starts at row 0, each next one where the
 * previous ended, and (when `rows` is given) the last ends at `rows`. Returns the rows covered.
 */
function checkShardTiling(shards: readonly Pick<ShardEntry, 'file' | 'rowStart' | 'rows'>[], rows: number | null, where: string): number {
  let next = 0;
  for (const s of shards) {
    if (s.rowStart !== next) {
      const kind = s.rowStart > next ? 'a gap' : 'an overlap or out of order';
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `${where}: shard ${s.file} starts at row ${s.rowStart}, expected ${next} (${kind}).`, {
        data: { shard: s.file, rowStart: s.rowStart, expected: next },
      });
    }
    next += s.rows;
  }
  if (rows !== null && next !== rows) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `${where}: the shards cover rows [0, ${next}), the manifest gives ${rows} rows.`, {
      data: { covered: next, rows },
    });
  }
  return next;
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
  resolve(WRITE_FEATURE_STORE_PARAMS, options);
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
  const { model, shardRows: _shardRows, ...rowMetadata } = options;
  return mergeFeatureShards(directory, shards, {
    ...rowMetadata,
    modelHash: featureModelHash(model),
    info: features.info,
    dim,
    blocks: features.features.blocks,
  });
}

export interface ReadFeatureStoreOptions {
  /**
   * Re-hash every shard's three files against the manifest (default true). `false` skips the hashes — and is the only
   * way to read a manifest written before loss and p_y files had digests.
   */
  verify?: boolean;
  /** When given, the store must have been computed with this model (`featureModelHash`). */
  model?: Model;
}

/**
 * Reads a store written by {@link writeFeatureStore} or {@link mergeFeatureShards}: the manifest, every shard's
 * features (rows × dim float32), loss and p_y, each file re-hashed against its SHA-256 in the manifest unless
 * `verify: false`. The shards must tile [0, rows) in order and the row metadata must have one entry per row. With
 * `model`, the store must have been computed with that model ({@link featureModelHash}).
 *
 * @throws ProvenantError `FILE_NOT_FOUND` when the manifest or a shard is missing; `ATTRIBUTION_FEATURE_STORE_INVALID`
 *   for a manifest that is not valid JSON or of an unknown format, a different model, a malformed shard entry, shards
 *   that leave a gap, overlap or are out of order, row metadata of the wrong length, blocks that do not tile the
 *   columns, a file of the wrong size or whose SHA-256 does not match (naming the file), or — with `verify` on — a
 *   manifest from before loss and p_y digests (re-featurize, or read it with `verify: false`).
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
  resolve(READ_FEATURE_STORE_PARAMS, options);
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
  const verify = options.verify ?? true;
  for (const shard of manifest.shards) {
    if (typeof shard?.file !== 'string' || !/^[\w.-]+\.f32$/.test(shard.file) || !Number.isSafeInteger(shard.rowStart) || !Number.isSafeInteger(shard.rows) || shard.rowStart < 0 || shard.rows < 0 || shard.rowStart + shard.rows > rows) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json lists a malformed shard ${describeValue(shard)}.`);
    }
    if (verify && (typeof shard.lossSha256 !== 'string' || typeof shard.probabilitySha256 !== 'string')) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `Shard ${shard.file} has no SHA-256 for its loss and probability files (a manifest from before they had digests).`, {
        details: 'A corrupted or swapped loss or p_y file could not be detected. Re-featurize the rows, or pass verify: false to read the store unverified.',
        data: { shard: shard.file },
      });
    }
  }
  checkShardTiling(manifest.shards, rows, `manifest.json in ${directory}`);
  for (const name of ['rowIds', 'contributors', 'labels', 'versions'] as const) {
    const list: unknown = manifest[name];
    if (name === 'versions' && list === undefined) continue;
    if (!Array.isArray(list) || list.length !== rows) {
      const found = Array.isArray(list) ? `has ${list.length} entries` : `is ${describeValue(list)}, not a list`;
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json: ${name} ${found}, for ${rows} rows.`, {
        data: { field: name, rows },
      });
    }
  }
  if (!Array.isArray(manifest.blocks)) throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `manifest.json: blocks is ${describeValue(manifest.blocks)}, not a list.`);
  const data = new Float32Array(rows * dim);
  try {
    validateFeatureMatrix({ rows, dim, data, blocks: manifest.blocks }, 'manifest.json');
  } catch (cause) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', (cause as Error).message, { cause });
  }
  const loss = new Float32Array(rows);
  const labelProbability = new Float32Array(rows);
  /** Reads one file of a shard, checks its size and (when verifying) its SHA-256, naming the file on failure. */
  const readChecked = async (file: string, values: number, digest: string | undefined): Promise<Float32Array> => {
    const bytes = await readFile(file);
    if (bytes.length !== values * 4) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `${file} has ${bytes.length} bytes, expected ${values * 4} (${values} float32 values).`, { data: { file } });
    }
    if (verify && sha256(bytes) !== digest) {
      throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `${file} does not match its SHA-256 in the manifest (corrupted, or from another shard or run).`, { data: { file } });
    }
    return fromLittleEndian(bytes);
  };
  for (const shard of manifest.shards) {
    const side = sideFiles(shard.file);
    data.set(await readChecked(shard.file, shard.rows * dim, shard.sha256), shard.rowStart * dim);
    loss.set(await readChecked(side.loss, shard.rows, shard.lossSha256), shard.rowStart);
    labelProbability.set(await readChecked(side.probability, shard.rows, shard.probabilitySha256), shard.rowStart);
  }
  return { manifest, features: { rows, dim, data, blocks: manifest.blocks }, loss, labelProbability };
}
