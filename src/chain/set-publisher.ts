import type { Address } from 'viem';
import { assertArgument, isHex } from '../core/index.js';
import { writeRegistry, type RegistryClient, type SentTransaction, type WriteOptions } from './send-transaction.js';

export interface SetPublisherParameters extends WriteOptions {
  address: Address;
  publisher: Address;
  allowed: boolean;
}

/**
 * Grants or revokes publishing rights (owner only; anyone else gets CHAIN_UNAUTHORIZED with `NotOwner`).
 *
 * @example
 * ```ts
 * import { setPublisher, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const ownerClient: RegistryClient;
 * declare const address: Hex;
 * await setPublisher(ownerClient, { address, publisher: '0x…', allowed: true });
 * ```
 */
export async function setPublisher(client: RegistryClient, parameters: SetPublisherParameters): Promise<SentTransaction> {
  assertArgument(isHex(parameters.publisher, 20), 'publisher', 'must be a 20-byte address', parameters.publisher);
  return writeRegistry(client, {
    ...parameters,
    action: 'setPublisher',
    functionName: 'setPublisher',
    args: [parameters.publisher, parameters.allowed],
  });
}
