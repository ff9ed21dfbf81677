import type { Address, Hex } from 'viem';
import { assertArgument, isHex } from '../core/index.js';
import type { SnapshotRecord } from './get-record.js';
import { publishOnce, type PublishReturnType } from './publish-once.js';
import { writeRegistry, type RegistryClient, type WriteOptions } from './send-transaction.js';

export interface PublishSnapshotParameters extends WriteOptions {
  address: Address;
  /** 32-byte Datanet id (e.g. keccak256 of the Datanet's name). */
  datanetId: Hex;
  version: bigint | number;
  /** The snapshot's Merkle root over its rows. */
  root: Hex;
  rowCount: bigint | number;
  /** Where the snapshot's rows can be fetched (ipfs://, https://); may be empty. */
  uri?: string;
}

/**
 * Publishes a Datanet snapshot (id, version, root, row count, URI). Idempotent: an identical snapshot already on chain
 * returns `status: 'exists'` without a transaction; a different one under the same id and version is CHAIN_RECORD_CONFLICT.
 *
 * @example
 * ```ts
 * import { keccak256, type Hex } from 'provenant';
 * import { publishSnapshot, type RegistryClient } from 'provenant/chain';
 * import { toHex } from 'viem';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const root: Hex;
 * await publishSnapshot(client, { address, datanetId: keccak256(toHex('security')), version: 3n, root, rowCount: 6046n, uri: 'ipfs://…' });
 * ```
 */
export async function publishSnapshot(client: RegistryClient, parameters: PublishSnapshotParameters): Promise<PublishReturnType<SnapshotRecord>> {
  const { address, datanetId, root } = parameters;
  const version = BigInt(parameters.version);
  const rowCount = BigInt(parameters.rowCount);
  const uri = parameters.uri ?? '';
  assertArgument(isHex(datanetId, 32), 'datanetId', 'must be bytes32', datanetId);
  assertArgument(isHex(root, 32), 'root', 'must be bytes32', root);
  assertArgument(version >= 0n && version < 1n << 64n, 'version', 'must fit uint64', version);
  assertArgument(rowCount >= 0n && rowCount < 1n << 64n, 'rowCount', 'must fit uint64', rowCount);
  return publishOnce<SnapshotRecord>(client, { address, kind: 'snapshot', datanetId, version, retry: parameters.retry }, {
    action: 'publishSnapshot',
    existsError: 'SnapshotExists',
    matches: (r) => r.root.toLowerCase() === root.toLowerCase() && r.rowCount === rowCount && r.uri === uri,
    describe: (r) => [`on chain: root ${r.root}, ${r.rowCount} rows, uri ${JSON.stringify(r.uri)}`, `given:    root ${root}, ${rowCount} rows, uri ${JSON.stringify(uri)}`],
    send: () =>
      writeRegistry(client, { ...parameters, action: 'publishSnapshot', functionName: 'publishSnapshot', args: [datanetId, version, root, rowCount, uri] }),
  });
}
