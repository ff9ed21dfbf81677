/**
 * Featurization across `worker_threads`: the rows are cut into shards, each worker rebuilds the model from a
 * {@link ModelSpec} and writes its shards into the store directory independently, and the main thread merges them by
 * writing the manifest. The result is byte-identical to a single-process `writeFeatureStore` on the same backend,
 * because each row's features depend only on that row (per-example gradients) and the seeded projection.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ProvenantError, resolve, type ParamTable, type ProgressCallback } from '../core/index.js';
import type { BackendName, Model } from '../finetune/index.js';
import type { FeatureBlock } from './feature-matrix.js';
import { featureModelHash, mergeFeatureShards, type FeatureStoreManifest, type ShardEntry } from './feature-store.js';
import { FEATURIZE_PARAMS, type FeaturizeData, type FeaturizeInfo, type FeaturizeOptions } from './featurize.js';
import { serializeModel, type ModelSpec } from './model-spec.js';

/** What one worker receives. */
export interface FeaturizeWorkerData {
  model: ModelSpec;
  options: Omit<FeaturizeOptions, 'onProgress'>;
  directory: string;
  exampleShape: number[];
  backend?: BackendName;
  shards: { shardIndex: number; rowStart: number; inputs: Float32Array | Int32Array; labels: number[] }[];
}

/**
 * The options of {@link featurizeInWorkers}: a misspelt name is refused with the nearest field, never ignored; the
 * nested `featurize` options are checked against FEATURIZE_PARAMS.
 */
export const FEATURIZE_IN_WORKERS_PARAMS: ParamTable = Object.freeze({
  name: 'featurizeInWorkers',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'directory', default: null, meaning: 'Store directory, created if missing (required).', aliases: ['dir', 'outDir'] },
    { name: 'workers', default: 2, meaning: 'Worker threads.', aliases: ['numWorkers', 'threads'] },
    { name: 'shardRows', default: null, meaning: 'Rows per shard (null: ⌈n / workers⌉).', aliases: ['shard_rows'] },
    { name: 'featurize', default: null, meaning: 'Options of featurize for every shard (FEATURIZE_PARAMS, without onProgress).' },
    { name: 'rowIds', default: null, meaning: 'Id of each row (required).', aliases: ['row_ids'] },
    { name: 'contributors', default: null, meaning: 'Contributor of each row (required).' },
    { name: 'versions', default: null, meaning: 'Datanet version of each row (null: none recorded).' },
    { name: 'snapshotRoot', default: null, meaning: 'Merkle root of the Datanet snapshot the rows came from (null: none).' },
    { name: 'backend', default: 'auto', meaning: 'Backend each worker initialises (auto: tfjs-node if installed, else wasm).' },
    { name: 'workerUrl', default: null, meaning: 'Override of the worker entry (null: ./featurize-worker.js beside this module).' },
  ],
  inputs: ['onShard', 'onProgress'],
});

export interface FeaturizeInWorkersOptions {
  /** Store directory (created if missing). */
  directory: string;
  /** Worker threads; default 2. */
  workers?: number;
  /** Rows per shard; default ⌈n / workers⌉. */
  shardRows?: number;
  featurize?: Omit<FeaturizeOptions, 'onProgress'>;
  rowIds: readonly string[];
  contributors: readonly string[];
  versions?: readonly string[];
  snapshotRoot?: string | null;
  /** Backend each worker initialises. Default 'auto': the fastest available (tfjs-node if installed, else wasm), never cpu by accident. */
  backend?: BackendName;
  /** Called as each shard is written, with the backend the worker that wrote it ran on. */
  onShard?: (event: { shardIndex: number; rows: number; backend: string }) => void;
  /** Override the worker entry (for bundlers that move files); default ./featurize-worker.js beside this module. */
  workerUrl?: URL;
  onProgress?: ProgressCallback;
}

/**
 * Featurizes `data` in worker threads and writes a merged feature store.
 *
 * @example
 * ```ts
 * import { featurizeInWorkers, type FeaturizeData } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const data: FeaturizeData;
 * declare const rowIds: readonly string[];
 * declare const contributors: readonly string[];
 * const manifest = await featurizeInWorkers(model, data, {
 *   directory: 'cache/features', workers: 2, rowIds, contributors,
 *   featurize: { projection: { kind: 'rademacher', dim: 512, seed: 1 } },
 * });
 * ```
 */
export async function featurizeInWorkers(model: Model, data: FeaturizeData, options: FeaturizeInWorkersOptions): Promise<FeatureStoreManifest> {
  resolve(FEATURIZE_IN_WORKERS_PARAMS, options);
  // The shards' featurize options are checked here, in the caller's thread, not first inside a worker.
  resolve(FEATURIZE_PARAMS, options.featurize ?? {});
  const n = data.labels.length;
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `workers must be a positive integer, got ${workers}.`);
  const shardRows = options.shardRows ?? Math.max(1, Math.ceil(n / workers));
  const exampleSize = data.exampleShape.reduce((a, b) => a * b, 1);
  if (data.inputs.length !== n * exampleSize) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `inputs hold ${data.inputs.length} values, expected ${n} × ${exampleSize}.`);
  }
  const spec = serializeModel(model);
  const jobs: FeaturizeWorkerData['shards'][] = Array.from({ length: workers }, () => []);
  for (let start = 0, k = 0; start < n; start += shardRows, k++) {
    const end = Math.min(n, start + shardRows);
    jobs[k % workers]!.push({
      shardIndex: k,
      rowStart: start,
      inputs: data.inputs.slice(start * exampleSize, end * exampleSize),
      labels: Array.prototype.slice.call(data.labels, start, end) as number[],
    });
  }
  const entries: ShardEntry[] = [];
  let meta: { info: FeaturizeInfo; dim: number; blocks: FeatureBlock[] } | undefined;
  let done = 0;
  await Promise.all(
    jobs
      .filter((shards) => shards.length > 0)
      .map(
        (shards) =>
          new Promise<void>((resolve, reject) => {
            const workerData: FeaturizeWorkerData = {
              model: spec,
              options: options.featurize ?? {},
              directory: options.directory,
              exampleShape: data.exampleShape,
              backend: options.backend,
              shards,
            };
            const worker = spawnWorker(options.workerUrl, workerData);
            let settled = false;
            worker.on('message', (msg: { type: string; entry?: ShardEntry; info?: FeaturizeInfo; dim?: number; blocks?: FeatureBlock[]; message?: string; code?: string; backend?: string }) => {
              if (msg.type === 'shard') {
                options.onShard?.({ shardIndex: msg.entry!.file ? Number(/(\d+)/.exec(msg.entry!.file)![1]) : -1, rows: msg.entry!.rows, backend: msg.backend ?? 'unknown' });
                entries.push(msg.entry!);
                meta ??= { info: msg.info!, dim: msg.dim!, blocks: msg.blocks! };
                done += msg.entry!.rows;
                options.onProgress?.({ stage: 'featurize', done, total: n, elapsedSeconds: 0 });
              } else if (msg.type === 'done') {
                settled = true;
                void worker.terminate();
                resolve();
              } else if (msg.type === 'error') {
                settled = true;
                void worker.terminate();
                reject(new ProvenantError('ATTRIBUTION_INPUT_INVALID', `A featurization worker failed: ${msg.message}`, { data: { code: msg.code } }));
              }
            });
            worker.on('error', (error) => {
              if (!settled) reject(error);
            });
            worker.on('exit', (code) => {
              if (!settled) reject(new ProvenantError('ATTRIBUTION_INPUT_INVALID', `A featurization worker exited with code ${code} before finishing.`));
            });
          }),
      ),
  );
  if (!meta) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'No rows to featurize.');
  return mergeFeatureShards(options.directory, entries, {
    modelHash: featureModelHash(model),
    snapshotRoot: options.snapshotRoot,
    info: meta.info,
    dim: meta.dim,
    blocks: meta.blocks,
    rowIds: options.rowIds,
    contributors: options.contributors,
    versions: options.versions,
    labels: data.labels,
  });
}

/**
 * Starts the worker entry. From the built package it is `featurize-worker.js`; when running from TypeScript sources
 * (tests, tsx) only `featurize-worker.ts` exists, so the worker first registers tsx's loader, then imports it.
 */
function spawnWorker(workerUrl: URL | undefined, workerData: FeaturizeWorkerData): Worker {
  let url = workerUrl ?? new URL('./featurize-worker.js', import.meta.url);
  let register = '';
  if (!workerUrl && !existsSync(fileURLToPath(url))) {
    url = new URL('./featurize-worker.ts', import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The featurization worker entry (featurize-worker.js) is not beside this module.', {
        details: 'A bundler moved it: build src/attribution/featurize-worker.ts as its own entry and pass its URL as options.workerUrl.',
      });
    }
    const require = createRequire(import.meta.url);
    const tsxApi = pathToFileURL(require.resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
    register = `const { register } = await import(${JSON.stringify(tsxApi)}); register();`;
  }
  const code = `(async () => { ${register} await import(${JSON.stringify(url.href)}); })().catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); });`;
  return new Worker(code, { eval: true, workerData });
}
