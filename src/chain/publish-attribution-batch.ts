import type { Address, Hex } from 'viem';
import { assertArgument, isHex } from '../core/index.js';
import type { AttributionBatch } from './attribution-record.js';
import type { AttributionBatchRecord } from './get-record.js';
import { publishOnce, type PublishReturnType } from './publish-once.js';
import { writeRegistry, type RegistryClient, type WriteOptions } from './send-transaction.js';

/** What goes on chain for a batch; `buildAttributionBatch` produces it. */
export type AttributionBatchCommitment = Pick<AttributionBatch, 'batchId' | 'root' | 'recordCount' | 'modelRef'>;

export interface PublishAttributionBatchParameters extends WriteOptions {
  address: Address;
  /** A batch from `buildAttributionBatch`, or just its commitment. */
  batch: AttributionBatchCommitment;
}

/**
 * Publishes one Merkle root over a batch of attribution records — the "one root per block" strategy: one transaction
 * (≈ 97k gas, see `npm run bench:chain`) commits to any number of records. Idempotent on `batchId`: a batch already on
 * chain returns `status: 'exists'` and nothing is sent; the same id with another root is CHAIN_RECORD_CONFLICT.
 *
 * @example
 * ```ts
 * import { buildAttributionBatch, publishAttributionBatch, type AttributionRecordInput, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const records: readonly AttributionRecordInput[];
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * const batch = buildAttributionBatch(records);
 * const { status, txHash } = await publishAttributionBatch(client, { address, batch });
 * ```
 */
export async function publishAttributionBatch(
  client: RegistryClient,
  parameters: PublishAttributionBatchParameters,
): Promise<PublishReturnType<AttributionBatchRecord>> {
  const { address } = parameters;
  const { batchId, root, modelRef } = parameters.batch;
  const recordCount = BigInt(parameters.batch.recordCount);
  assertArgument(isHex(batchId, 32), 'batch.batchId', 'must be bytes32', batchId);
  assertArgument(isHex(root, 32), 'batch.root', 'must be bytes32', root);
  assertArgument(isHex(modelRef, 32), 'batch.modelRef', 'must be bytes32', modelRef);
  assertArgument(recordCount > 0n && recordCount < 1n << 64n, 'batch.recordCount', 'must be in [1, 2^64)', recordCount);
  return publishOnce<AttributionBatchRecord>(client, { address, kind: 'attributionBatch', batchId, retry: parameters.retry }, {
    action: 'publishAttributionBatch',
    existsError: 'BatchExists',
    matches: (r) => r.root.toLowerCase() === root.toLowerCase() && r.recordCount === recordCount && r.modelRef.toLowerCase() === modelRef.toLowerCase(),
    describe: (r) => [`batchId: ${batchId}`, `on chain: root ${r.root}, ${r.recordCount} records`, `given:    root ${root}, ${recordCount} records`],
    send: () =>
      writeRegistry(client, {
        ...parameters,
        action: 'publishAttributionBatch',
        functionName: 'publishAttributionBatch',
        args: [batchId, root, recordCount, modelRef],
      }),
  });
}
