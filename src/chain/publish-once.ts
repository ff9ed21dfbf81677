/**
 * Write-once publishing shared by the publish actions: look the record up first and send nothing when it is already
 * there (idempotent retries), fail with CHAIN_RECORD_CONFLICT when the same key holds different content, and treat a
 * lost race (the registry's `…Exists` revert) like an earlier success.
 *
 * Success is a registry read, never a receipt: `published` only when our own transaction was mined *and* the registry
 * returns the record at the receipt's block. A same-nonce replacement is CHAIN_TX_REPLACED (or `exists` when the
 * replacement wrote the same record); a successful call that wrote nothing is CHAIN_NOT_A_REGISTRY.
 */
import type { Hex, TransactionReceipt } from 'viem';
import { ProvenantError, isProvenantError } from '../core/index.js';
import { readRecord, type GetRecordParameters, type RecordKey, type RegistryRecord } from './get-record.js';
import { assertRegistry } from './record-at-depth.js';
import type { RegistryClient, SentTransaction } from './send-transaction.js';

export interface PublishReturnType<R extends RegistryRecord> {
  /** `published`: this call's transaction wrote it; `exists`: it was already on chain, nothing was sent. */
  status: 'published' | 'exists';
  record: R;
  txHash?: Hex;
  receipt?: TransactionReceipt;
  gasUsed?: bigint;
}

/** Internal: check, send, or report the record already there (see the module comment). */
export async function publishOnce<R extends RegistryRecord>(
  client: RegistryClient,
  key: GetRecordParameters<RecordKey & { kind: R['kind'] }>,
  options: {
    action: string;
    existsError: string;
    /** True when the on-chain record carries the content we meant to publish. */
    matches: (record: R) => boolean;
    describe: (record: R) => string[];
    send: () => Promise<SentTransaction>;
  },
): Promise<PublishReturnType<R>> {
  const check = async (): Promise<PublishReturnType<R> | null> => {
    const existing = (await readRecord(client, key)) as R | null;
    if (!existing) return null;
    if (!options.matches(existing)) {
      throw new ProvenantError('CHAIN_RECORD_CONFLICT', `${options.action}: this ${existing.kind} key is already on chain with different content.`, {
        metaMessages: options.describe(existing),
        details: 'Records are write-once; publish under a new key (e.g. a new snapshot version or batch id).',
        data: { record: existing },
      });
    }
    return { status: 'exists', record: existing };
  };
  const before = await check();
  if (before) return before;
  try {
    const { txHash, receipt } = await options.send();
    const record = (await readRecord(client, { ...key, blockNumber: receipt.blockNumber })) as R | null;
    if (!record) {
      // Our call was mined and succeeded, yet the block holds no record: not the registry (or not this key's).
      await assertRegistry(client, key.address, { retry: key.retry });
      throw new ProvenantError('CHAIN_RECORD_NOT_FOUND', `${options.action}: the transaction was mined but the registry does not return the record at its block.`, {
        metaMessages: [`transaction: ${txHash}`, `block: ${receipt.blockNumber}`],
        details: 'The block was probably replaced by a reorganisation; publish again (it is idempotent).',
        data: { txHash, blockNumber: receipt.blockNumber },
      });
    }
    if (!options.matches(record)) {
      throw new ProvenantError('CHAIN_RECORD_CONFLICT', `${options.action}: the registry holds different content under this key.`, { metaMessages: options.describe(record), data: { record } });
    }
    return { status: 'published', record, txHash, receipt, gasUsed: receipt.gasUsed };
  } catch (error) {
    // Someone (or our own earlier, lost attempt) published between the check and the send; or a replacement of our
    // transaction (a sped-up copy) wrote it. Either way the registry decides — never the receipt.
    const raced = isProvenantError(error, 'CHAIN_REVERTED') && error.data.errorName === options.existsError;
    if (raced || isProvenantError(error, 'CHAIN_TX_REPLACED')) {
      const after = await check();
      if (after) return after;
    }
    throw error;
  }
}
