/**
 * Reads registry records. `getRecord` throws CHAIN_RECORD_NOT_FOUND for an absent record; `readRecord` returns null
 * (the publish actions use it to detect a record already on chain before sending anything).
 */
import type { Address, Hex } from 'viem';
import { readContract } from 'viem/actions';
import { assertArgument, isHex, ProvenantError } from '../core/index.js';
import { toChainError } from './chain-error.js';
import { attributionRegistryAbi } from './contracts/attribution-registry.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { RegistryClient } from './send-transaction.js';

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

interface RecordMeta {
  publisher: Address;
  /** Block timestamp (seconds) of the publishing transaction. */
  publishedAt: number;
}

export interface SnapshotRecord extends RecordMeta {
  kind: 'snapshot';
  datanetId: Hex;
  version: bigint;
  root: Hex;
  rowCount: bigint;
  uri: string;
}

export interface ModelRecord extends RecordMeta {
  kind: 'model';
  modelId: Hex;
  baseHash: Hex;
  adapterHash: Hex;
  snapshotRoot: Hex;
  configHash: Hex;
}

export interface EvaluationRecord extends RecordMeta {
  kind: 'evaluation';
  evaluationId: Hex;
  modelId: Hex;
  summaryHash: Hex;
  uri: string;
}

export interface AttributionBatchRecord extends RecordMeta {
  kind: 'attributionBatch';
  batchId: Hex;
  root: Hex;
  modelRef: Hex;
  recordCount: bigint;
}

export type RegistryRecord = SnapshotRecord | ModelRecord | EvaluationRecord | AttributionBatchRecord;

export type RecordKey =
  | { kind: 'snapshot'; datanetId: Hex; version: bigint | number }
  | { kind: 'model'; modelId: Hex }
  | { kind: 'evaluation'; evaluationId: Hex }
  | { kind: 'attributionBatch'; batchId: Hex };

export type GetRecordParameters<K extends RecordKey = RecordKey> = K & {
  /** The registry's address. */
  address: Address;
  /** Read at this block (default latest). */
  blockNumber?: bigint;
  retry?: RetryOptions;
};

type RecordOf<K extends RecordKey> = Extract<RegistryRecord, { kind: K['kind'] }>;

/**
 * Reads one registry record (`getSnapshot`, `getModel`, `getEvaluation` or `getAttributionBatch`, by `kind`); null
 * when it was never published. The publish actions use it to detect a record already on chain before sending anything;
 * {@link getRecord} throws instead of returning null.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for a malformed address or key, `CHAIN_NOT_A_REGISTRY` when the address
 *   answers with no data, `CHAIN_RPC_FAILED` when the read fails after retries.
 * @example
 * ```ts
 * import { readRecord, type RegistryClient } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const client: RegistryClient;
 * declare const registry: Hex, datanetId: Hex;
 * const snapshot = await readRecord(client, { address: registry, kind: 'snapshot', datanetId, version: 3 });
 * snapshot?.root; // the published Merkle root, or undefined when version 3 was never published
 * ```
 */
export async function readRecord<K extends RecordKey>(client: RegistryClient, parameters: GetRecordParameters<K>): Promise<RecordOf<K> | null> {
  const { address, blockNumber, retry } = parameters;
  const key = parameters as RecordKey;
  assertArgument(isHex(address, 20), 'address', 'must be the registry address', address);
  const read = <T>(functionName: string, args: readonly unknown[]): Promise<T> =>
    withRetry(
      () =>
        readContract(client, {
          address,
          abi: attributionRegistryAbi,
          functionName,
          args,
          ...(blockNumber !== undefined ? { blockNumber } : {}),
        } as never) as Promise<T>,
      retry,
    ).catch((error: unknown) => {
      throw toChainError(error, { action: 'getRecord', address });
    });
  const meta = (r: { publisher: Address; publishedAt: number }): RecordMeta => ({ publisher: r.publisher, publishedAt: Number(r.publishedAt) });
  let record: RegistryRecord;
  switch (key.kind) {
    case 'snapshot': {
      assertArgument(isHex(key.datanetId, 32), 'datanetId', 'must be bytes32', key.datanetId);
      const version = BigInt(key.version);
      const r = await read<{ root: Hex; publisher: Address; rowCount: bigint; publishedAt: number; uri: string }>('getSnapshot', [key.datanetId, version]);
      record = { kind: 'snapshot', datanetId: key.datanetId, version, root: r.root, rowCount: r.rowCount, uri: r.uri, ...meta(r) };
      break;
    }
    case 'model': {
      assertArgument(isHex(key.modelId, 32), 'modelId', 'must be bytes32', key.modelId);
      const r = await read<{ baseHash: Hex; adapterHash: Hex; snapshotRoot: Hex; configHash: Hex; publisher: Address; publishedAt: number }>('getModel', [key.modelId]);
      record = { kind: 'model', modelId: key.modelId, baseHash: r.baseHash, adapterHash: r.adapterHash, snapshotRoot: r.snapshotRoot, configHash: r.configHash, ...meta(r) };
      break;
    }
    case 'evaluation': {
      assertArgument(isHex(key.evaluationId, 32), 'evaluationId', 'must be bytes32', key.evaluationId);
      const r = await read<{ modelId: Hex; summaryHash: Hex; publisher: Address; publishedAt: number; uri: string }>('getEvaluation', [key.evaluationId]);
      record = { kind: 'evaluation', evaluationId: key.evaluationId, modelId: r.modelId, summaryHash: r.summaryHash, uri: r.uri, ...meta(r) };
      break;
    }
    case 'attributionBatch': {
      assertArgument(isHex(key.batchId, 32), 'batchId', 'must be bytes32', key.batchId);
      const r = await read<{ root: Hex; modelRef: Hex; publisher: Address; recordCount: bigint; publishedAt: number }>('getAttributionBatch', [key.batchId]);
      record = { kind: 'attributionBatch', batchId: key.batchId, root: r.root, modelRef: r.modelRef, recordCount: r.recordCount, ...meta(r) };
      break;
    }
    default:
      throw new ProvenantError('INVALID_ARGUMENT', `Unknown record kind ${(key as { kind: unknown }).kind}.`);
  }
  return record.publisher === ZERO_ADDRESS ? null : (record as RecordOf<K>);
}

/**
 * Reads one record from the registry, or throws CHAIN_RECORD_NOT_FOUND.
 *
 * @example
 * ```ts
 * import { getRecord, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const batchId: Hex;
 * const batch = await getRecord(client, { address, kind: 'attributionBatch', batchId });
 * batch.root; // the Merkle root published for it
 * ```
 */
export async function getRecord<K extends RecordKey>(client: RegistryClient, parameters: GetRecordParameters<K>): Promise<RecordOf<K>> {
  const record = await readRecord(client, parameters);
  if (!record) {
    const { address: _a, blockNumber: _b, retry: _r, ...key } = parameters;
    throw new ProvenantError('CHAIN_RECORD_NOT_FOUND', `No ${parameters.kind} record with this key on the registry.`, {
      metaMessages: [`registry: ${parameters.address}`, ...Object.entries(key).map(([k, v]) => `${k}: ${String(v)}`)],
      data: { ...key },
    });
  }
  return record;
}
