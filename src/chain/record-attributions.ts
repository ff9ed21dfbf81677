import type { Address } from 'viem';
import { assertArgument } from '../core/index.js';
import { normalizeAttributionRecord, type AttributionRecordInput } from './attribution-record.js';
import { writeRegistry, type RegistryClient, type SentTransaction, type WriteOptions } from './send-transaction.js';

export interface RecordAttributionsParameters extends WriteOptions {
  address: Address;
  records: readonly AttributionRecordInput[];
}

/**
 * Emits one `AttributionRecorded` log per record, with no Merkle root — the "per-event" (one record) and
 * "batched events" (many) strategies the throughput planner compares against per-block roots. Not idempotent: logs
 * are not write-once records, so use `publishAttributionBatch` when retries must never duplicate.
 *
 * @example
 * ```ts
 * import { recordAttributions, type RegistryClient, type AttributionRecordInput } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * declare const record: AttributionRecordInput;
 * await recordAttributions(client, { address, records: [record] }); // ≈ 28k gas for one; batched ≈ 20k + 4.8k per record
 * ```
 */
export async function recordAttributions(client: RegistryClient, parameters: RecordAttributionsParameters): Promise<SentTransaction> {
  assertArgument(parameters.records.length > 0, 'records', 'needs at least one record', parameters.records.length);
  const records = parameters.records.map(normalizeAttributionRecord);
  if (records.length === 1) {
    return writeRegistry(client, { ...parameters, action: 'recordAttributions', functionName: 'recordAttribution', args: [records[0]!] });
  }
  return writeRegistry(client, { ...parameters, action: 'recordAttributions', functionName: 'recordAttributions', args: [records] });
}
