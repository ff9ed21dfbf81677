/**
 * The bytes each attribution strategy puts on chain, as the unsigned EIP-1559 transactions `GasPriceOracle.getL1Fee`
 * takes — so the L1 data fee of a strategy is computed from its real calldata, compressibility included, never from a
 * guessed byte count.
 *
 * Strategies: `eas-per-event` (EAS `attest` with the record ABI-encoded as the attestation data — the per-event reference),
 * `per-event` (`recordAttribution`), `batched-events` (`recordAttributions`), and a root (`publishAttributionBatch`, for
 * both one root per block and a periodic root over off-chain records).
 */
import { encodeAbiParameters, encodeFunctionData, serializeTransaction, type Address, type Hex } from 'viem';
import { assertArgument } from '../../core/index.js';
import { ATTRIBUTION_LEAF_TYPES, attributionLeafValues, normalizeAttributionRecord, type AttributionRecordInput } from '../attribution-record.js';
import type { AttributionBatchCommitment } from '../publish-attribution-batch.js';
import { attributionRegistryAbi } from '../contracts/attribution-registry.js';

/** EAS `attest(AttestationRequest)` (ethereum-attestation-service/eas-contracts, EAS.sol), the per-event reference. */
export const easAttestAbi = [
  {
    type: 'function',
    name: 'attest',
    stateMutability: 'payable',
    inputs: [
      {
        name: 'request',
        type: 'tuple',
        components: [
          { name: 'schema', type: 'bytes32' },
          {
            name: 'data',
            type: 'tuple',
            components: [
              { name: 'recipient', type: 'address' },
              { name: 'expirationTime', type: 'uint64' },
              { name: 'revocable', type: 'bool' },
              { name: 'refUID', type: 'bytes32' },
              { name: 'data', type: 'bytes' },
              { name: 'value', type: 'uint256' },
            ],
          },
        ],
      },
    ],
    outputs: [{ name: '', type: 'bytes32' }],
  },
] as const;

/** OP Mainnet/Base address of the EAS predeploy (0x4200…0021). */
export const EAS_PREDEPLOY: Address = '0x4200000000000000000000000000000000000021';

const LEAF_ABI = ATTRIBUTION_LEAF_TYPES.map((type) => ({ type }));

/**
 * Calldata of one EAS `attest` carrying one attribution record (the per-event reference strategy): recipient = the
 * contributor, no expiry, not revocable, data = the record's leaf tuple ABI-encoded, value 0. `schema` is the EAS
 * schema UID (bytes32).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming a bad record field (see {@link normalizeAttributionRecord}).
 * @example
 * ```ts
 * import { EAS_PREDEPLOY, easAttestCalldata, estimateL1Fee, unsignedTransaction, type AttributionRecordInput } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const record: AttributionRecordInput;
 * declare const schemaUid: Hex;
 * const tx = unsignedTransaction({ to: EAS_PREDEPLOY, data: easAttestCalldata(record, schemaUid) });
 * const fee = estimateL1Fee(tx, { l1BaseFee: 5_000_000_000n, blobBaseFee: 1n, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'fjord' }); // wei
 * ```
 */
export function easAttestCalldata(record: AttributionRecordInput, schema: Hex): Hex {
  const r = normalizeAttributionRecord(record);
  return encodeFunctionData({
    abi: easAttestAbi,
    functionName: 'attest',
    args: [
      {
        schema,
        data: {
          recipient: r.contributor,
          expirationTime: 0n,
          revocable: false,
          refUID: `0x${'0'.repeat(64)}`,
          data: encodeAbiParameters(LEAF_ABI, attributionLeafValues(r) as unknown as readonly unknown[]),
          value: 0n,
        },
      },
    ],
  });
}

/**
 * Calldata of the registry's `recordAttribution` (one record) or `recordAttributions` (several): the bytes the
 * per-event and batched-events strategies put on chain.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an empty list or a bad record field (see
 *   {@link normalizeAttributionRecord}).
 * @example
 * ```ts
 * import { recordAttributionsCalldata, type AttributionRecordInput } from 'provenant/chain';
 *
 * declare const records: AttributionRecordInput[];
 * const data = recordAttributionsCalldata(records); // '0x…': selector of recordAttributions(...) when records.length > 1
 * ```
 */
export function recordAttributionsCalldata(records: readonly AttributionRecordInput[]): Hex {
  assertArgument(records.length > 0, 'records', 'needs at least one record', records.length);
  const normalized = records.map(normalizeAttributionRecord);
  return normalized.length === 1
    ? encodeFunctionData({ abi: attributionRegistryAbi, functionName: 'recordAttribution', args: [normalized[0]!] })
    : encodeFunctionData({ abi: attributionRegistryAbi, functionName: 'recordAttributions', args: [normalized] });
}

/**
 * Calldata of the registry's `publishAttributionBatch(batchId, root, recordCount, modelRef)`: one Merkle root, the
 * bytes of the per-block-root and periodic-root strategies.
 *
 * @example
 * ```ts
 * import { buildAttributionBatch, publishRootCalldata, unsignedTransaction, type AttributionRecordInput } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const records: AttributionRecordInput[];
 * declare const registry: Hex;
 * const tx = unsignedTransaction({ to: registry, data: publishRootCalldata(buildAttributionBatch(records)) }); // size constant in records.length
 * ```
 */
export function publishRootCalldata(batch: AttributionBatchCommitment): Hex {
  return encodeFunctionData({
    abi: attributionRegistryAbi,
    functionName: 'publishAttributionBatch',
    args: [batch.batchId, batch.root, BigInt(batch.recordCount), batch.modelRef],
  });
}

export interface UnsignedTransactionFields {
  to: Address;
  data: Hex;
  /** Default 10 (OP Mainnet). */
  chainId?: number;
  /** Default 1,000 — a nonce of a busy publisher (RLP length grows with it). */
  nonce?: number;
  /** Gas limit. Default 1,000,000. */
  gas?: bigint;
  /** Default 1 gwei. */
  maxFeePerGas?: bigint;
  /** Default 0.001 gwei. */
  maxPriorityFeePerGas?: bigint;
}

/**
 * The unsigned, fully RLP-encoded EIP-1559 transaction — exactly the input `GasPriceOracle.getL1Fee` expects.
 *
 * @example
 * ```ts
 * import { estimateL1Fee, publishRootCalldata, unsignedTransaction, type AttributionBatchCommitment, type L1FeeParameters } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const registry: Hex;
 * declare const batch: AttributionBatchCommitment;
 * declare const l1Prices: L1FeeParameters;
 * estimateL1Fee(unsignedTransaction({ to: registry, data: publishRootCalldata(batch) }), l1Prices);
 * ```
 */
export function unsignedTransaction(fields: UnsignedTransactionFields): Hex {
  return serializeTransaction({
    type: 'eip1559',
    chainId: fields.chainId ?? 10,
    nonce: fields.nonce ?? 1_000,
    gas: fields.gas ?? 1_000_000n,
    maxFeePerGas: fields.maxFeePerGas ?? 1_000_000_000n,
    maxPriorityFeePerGas: fields.maxPriorityFeePerGas ?? 1_000_000n,
    to: fields.to,
    data: fields.data,
  });
}
