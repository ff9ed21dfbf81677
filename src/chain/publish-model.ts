import type { Address, Hex } from 'viem';
import { modelId as computeModelId } from './attribution-record.js';
import type { ModelRecord } from './get-record.js';
import { publishOnce, type PublishReturnType } from './publish-once.js';
import { writeRegistry, type RegistryClient, type WriteOptions } from './send-transaction.js';

export interface PublishModelParameters extends WriteOptions {
  address: Address;
  /** Hash of the base model's weights. */
  baseHash: Hex;
  /** Hash of the LoRA adapter (weights + config). */
  adapterHash: Hex;
  /** Root of the Datanet snapshot the adapter was trained on. */
  snapshotRoot: Hex;
  /** Hash of the training configuration (canonical JSON). */
  configHash: Hex;
}

/**
 * Publishes a fine-tuned model. Its id is content-derived — `modelId({ baseHash, adapterHash, snapshotRoot, configHash })`,
 * equal to the contract's `modelIdOf` — so republishing the same model is a no-op (`status: 'exists'`).
 *
 * @example
 * ```ts
 * import { type Hex } from 'provenant';
 * import { publishModel, type RegistryClient } from 'provenant/chain';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const baseHash: Hex, adapterHash: Hex, snapshotRoot: Hex, configHash: Hex;
 * const { record } = await publishModel(client, { address, baseHash, adapterHash, snapshotRoot, configHash });
 * record.modelId; // use as `modelRef` of attribution records
 * ```
 */
export async function publishModel(client: RegistryClient, parameters: PublishModelParameters): Promise<PublishReturnType<ModelRecord>> {
  const { address, baseHash, adapterHash, snapshotRoot, configHash } = parameters;
  const id = computeModelId({ baseHash, adapterHash, snapshotRoot, configHash });
  return publishOnce<ModelRecord>(client, { address, kind: 'model', modelId: id, retry: parameters.retry }, {
    action: 'publishModel',
    existsError: 'ModelExists',
    // The id is a hash of the content, so an existing record always matches.
    matches: () => true,
    describe: (r) => [`modelId: ${r.modelId}`],
    send: () =>
      writeRegistry(client, { ...parameters, action: 'publishModel', functionName: 'publishModel', args: [baseHash, adapterHash, snapshotRoot, configHash] }),
  });
}
