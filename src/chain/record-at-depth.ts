/**
 * "Published" means one thing: the registry returns the record, and still returns it `confirmations − 1` blocks below
 * the head. A receipt is not that — it may belong to a same-nonce replacement, to a contract that is not the registry,
 * or to a block a reorg is about to remove — so every confirmation in `provenant/chain` is a registry read.
 */
import type { Address } from 'viem';
import { getBlockNumber, getCode, readContract } from 'viem/actions';
import { assertArgument, isHex, ProvenantError } from '../core/index.js';
import { toChainError } from './chain-error.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { readRecord, type GetRecordParameters, type RecordKey, type RegistryRecord } from './get-record.js';
import { withRetry } from './retry.js';
import type { RegistryClient } from './send-transaction.js';

export type RecordDepth<R extends RegistryRecord = RegistryRecord> =
  /** The record is returned at the head and at `head − (confirmations − 1)`. */
  | { status: 'confirmed'; record: R; head: bigint; depthBlock: bigint }
  /** At the head, but not yet `confirmations` deep (or not at the depth block any more: a reorg in progress). */
  | { status: 'shallow'; record: R; head: bigint }
  /** Not returned at the head. */
  | { status: 'absent'; head: bigint };

/**
 * Reads a record at the head and at the confirmation depth. `confirmations` counts the record's own block, as receipts
 * do: 1 means "in the head block", 3 means "two blocks on top of it".
 *
 * @example
 * ```ts
 * import { readRecordAtDepth, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const batchId: Hex;
 * const depth = await readRecordAtDepth(client, { address, kind: 'attributionBatch', batchId, confirmations: 3 });
 * if (depth.status === 'confirmed') console.log('safe at block', depth.depthBlock);
 * ```
 */
export async function readRecordAtDepth<K extends RecordKey>(
  client: RegistryClient,
  // K stays a naked member of the intersection so it is inferred from the key (an Omit of it would collapse the union).
  parameters: K & { address: Address; retry?: GetRecordParameters['retry']; confirmations?: number },
): Promise<RecordDepth<Extract<RegistryRecord, { kind: K['kind'] }>>> {
  const confirmations = parameters.confirmations ?? 1;
  assertArgument(Number.isSafeInteger(confirmations) && confirmations >= 1, 'confirmations', 'must be an integer ≥ 1', confirmations);
  const head = await withRetry(() => getBlockNumber(client, { cacheTime: 0 }), parameters.retry).catch((error: unknown) => {
    throw toChainError(error, { action: 'readRecordAtDepth', address: parameters.address });
  });
  const { confirmations: _c, ...key } = parameters;
  const atHead = await readRecord(client, { ...key, blockNumber: head } as GetRecordParameters<K>);
  if (!atHead) return { status: 'absent', head };
  const depthBlock = head - BigInt(confirmations - 1);
  if (depthBlock < 0n) return { status: 'shallow', record: atHead, head };
  if (depthBlock === head) return { status: 'confirmed', record: atHead, head, depthBlock };
  const atDepth = await readRecord(client, { ...key, blockNumber: depthBlock } as GetRecordParameters<K>);
  return atDepth ? { status: 'confirmed', record: atHead, head, depthBlock } : { status: 'shallow', record: atHead, head };
}

/**
 * Throws CHAIN_NOT_A_REGISTRY unless `address` holds code that answers the registry's `owner()` with a non-zero owner
 * (the constructor sets one and `transferOwnership` refuses zero). An account without code, or a contract whose
 * fallback accepts any call, fails here before anything is sent to it.
 *
 * @example
 * ```ts
 * import { assertRegistry, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * await assertRegistry(client, address); // before queueing work for it
 * ```
 */
export async function assertRegistry(client: RegistryClient, address: Address, options: { retry?: GetRecordParameters['retry'] } = {}): Promise<void> {
  assertArgument(isHex(address, 20), 'address', 'must be the registry address', address);
  const notRegistry = (why: string, cause?: unknown): ProvenantError =>
    new ProvenantError('CHAIN_NOT_A_REGISTRY', `No AttributionRegistry at ${address}: ${why}.`, {
      details: 'Check the registry address and the chain the client points at; nothing was sent.',
      data: { address },
      cause,
    });
  const code = await withRetry(() => getCode(client, { address }), options.retry).catch((error: unknown) => {
    throw toChainError(error, { action: 'assertRegistry', address });
  });
  if (!code || code === '0x') throw notRegistry('the address has no code');
  let owner: Address;
  try {
    owner = await withRetry(() => readContract(client, { address, abi: attributionRegistryAbi, functionName: 'owner' }), options.retry);
  } catch (error) {
    const typed = toChainError(error, { action: 'assertRegistry', address });
    if (typed.code === 'CHAIN_RPC_FAILED' && typed.data.retryable) throw typed;
    throw notRegistry('its code does not answer owner()', error);
  }
  if (/^0x0{40}$/.test(owner)) throw notRegistry('owner() is the zero address (a contract that accepts any call?)');
}
