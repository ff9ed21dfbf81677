/**
 * Worker-thread entry for {@link featurizeInWorkers} (./featurize-workers.ts): rebuilds the model from its spec,
 * featurizes its shards and writes them to the store directory, reporting each shard's manifest entry.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '../finetune/index.js';
import { createFeaturizer } from './featurize.js';
import { writeFeatureShard } from './feature-store.js';
import type { FeaturizeWorkerData } from './featurize-workers.js';
import { restoreModel } from './model-spec.js';

async function main(): Promise<void> {
  const job = workerData as FeaturizeWorkerData;
  // A fresh thread starts on tfjs's default (the pure-JS cpu backend, ~10× slower): pick the fastest, as the main
  // thread does, unless the caller named one (issue 13).
  await initBackend({ backend: job.backend ?? 'auto' });
  const model = restoreModel(job.model);
  const featurizer = createFeaturizer(model, job.options);
  try {
    for (const shard of job.shards) {
      const features = featurizer.run({ inputs: shard.inputs, exampleShape: job.exampleShape, labels: shard.labels });
      const entry = await writeFeatureShard(job.directory, shard.shardIndex, shard.rowStart, features);
      parentPort!.postMessage({ type: 'shard', entry, info: features.info, dim: featurizer.dim, blocks: featurizer.blocks, backend: tf.getBackend() });
    }
  } finally {
    featurizer.dispose();
    model.dispose();
  }
}

main().then(
  () => parentPort!.postMessage({ type: 'done' }),
  (error: unknown) => parentPort!.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error), code: (error as { code?: string }).code }),
);
