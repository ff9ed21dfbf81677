import type { Address, Hex } from 'viem';
import { readContract } from 'viem/actions';
import { assertArgument, isHex } from '../core/index.js';
import { normalizeAttributionRecord, type AttributionRecordInput } from './attribution-record.js';
import { toChainError } from './chain-error.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { RegistryClient } from './send-transaction.js';

export interface VerifyAttributionOnChainParameters {
  address: Address;
  batchId: Hex;
  record: AttributionRecordInput;
  /** From `batch.getProof(index)` (or OpenZeppelin's `StandardMerkleTree#getProof`). */
  proof: readonly Hex[];
  retry?: RetryOptions;
}

/**
 * Asks the registry whether `record` is in the published batch (`verifyAttribution`, OpenZeppelin's `MerkleProof`
 * over the leaf the contract hashes itself). False for a wrong proof, a changed field, or an unknown batch.
 *
 * @example
 * ```ts
 * import { type Hex } from 'provenant';
 * import { verifyAttributionOnChain, type AttributionBatch, type RegistryClient } from 'provenant/chain';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const batch: AttributionBatch; // from buildAttributionBatch, published with publishAttributionBatch
 * const ok = await verifyAttributionOnChain(client, { address, batchId: batch.batchId, record: batch.records[7], proof: batch.getProof(7) });
 * ```
 */
export async function verifyAttributionOnChain(client: RegistryClient, parameters: VerifyAttributionOnChainParameters): Promise<boolean> {
  const { address, batchId, proof } = parameters;
  assertArgument(isHex(address, 20), 'address', 'must be the registry address', address);
  const r = normalizeAttributionRecord(parameters.record);
  return withRetry(
    () =>
      readContract(client, {
        address,
        abi: attributionRegistryAbi,
        functionName: 'verifyAttribution',
        args: [batchId, { queryHash: r.queryHash, contributor: r.contributor, score: r.score, rewardWei: r.rewardWei, modelRef: r.modelRef }, proof],
      }),
    parameters.retry,
  ).catch((error: unknown) => {
    throw toChainError(error, { action: 'verifyAttributionOnChain', address });
  });
}
