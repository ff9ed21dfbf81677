/**
 * Attribution records and their Merkle leaves. One record says: for the query with hash `queryHash`, answered by the
 * model `modelRef`, contributor `contributor` earned `score` (fixed point, 18 decimals) and `rewardWei`.
 *
 * Leaf encoding (ABI types, in this order — the contract's `AttributionRecord` struct has the same field order):
 *
 * | field       | ABI type  | meaning                                                                 |
 * |-------------|-----------|-------------------------------------------------------------------------|
 * | queryHash   | `bytes32` | keccak256 (or any 32-byte digest) of the query the model answered        |
 * | contributor | `address` | the contributor's payout address                                         |
 * | score       | `int256`  | attribution score × 10^18, rounded half away from zero; may be negative |
 * | rewardWei   | `uint256` | the contributor's share of the query fee, in wei                         |
 * | modelRef    | `bytes32` | the registry's model id (`modelId(...)`) of the model that answered      |
 *
 * leaf = keccak256(keccak256(abi.encode(fields))), pairs hashed sorted: OpenZeppelin's StandardMerkleTree, built with
 * the core `merkleTree`, so `MerkleProof.sol` (inside `verifyAttribution`) and `@openzeppelin/merkle-tree` accept our proofs.
 */
import { abiEncode, assertArgument, isHex, keccak256, merkleTree, ProvenantError, type Hex, type MerkleTree } from '../core/index.js';

/** The ABI types of an attribution leaf, in field order. */
export const ATTRIBUTION_LEAF_TYPES = ['bytes32', 'address', 'int256', 'uint256', 'bytes32'] as const;

/** Decimals of the fixed-point `score`. */
export const SCORE_DECIMALS = 18;

export interface AttributionRecord {
  queryHash: Hex;
  contributor: Hex;
  /** Fixed point with 18 decimals (use `toFixedPoint(score)`). */
  score: bigint;
  rewardWei: bigint;
  modelRef: Hex;
}

/** A record as callers usually hold it: the score may still be a float. */
export interface AttributionRecordInput extends Omit<AttributionRecord, 'score'> {
  score: bigint | number;
}

/** The leaf tuple, in `ATTRIBUTION_LEAF_TYPES` order. */
export type AttributionLeafValues = readonly [queryHash: Hex, contributor: Hex, score: bigint, rewardWei: bigint, modelRef: Hex];

const INT256_MAX = (1n << 255n) - 1n;
const INT256_MIN = -(1n << 255n);
const UINT256_MAX = (1n << 256n) - 1n;

/**
 * Converts a float to a fixed-point integer with `decimals` decimals, from the number's shortest decimal form (so 0.1
 * becomes exactly 10^17, not the binary expansion 100000000000000005.55…). Rounds half away from zero.
 *
 * @example
 * ```ts
 * import { toFixedPoint } from 'provenant/chain';
 * toFixedPoint(0.25); // 250000000000000000n
 * toFixedPoint(-1.5e-18); // -2n
 * ```
 */
export function toFixedPoint(value: number, decimals: number = SCORE_DECIMALS): bigint {
  assertArgument(Number.isFinite(value), 'value', 'must be a finite number', value);
  assertArgument(Number.isInteger(decimals) && decimals >= 0 && decimals <= 77, 'decimals', 'must be an integer in [0, 77]', decimals);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!match) throw new ProvenantError('INVALID_ARGUMENT', `Cannot convert ${value} to fixed point.`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const digits = BigInt(whole! + fraction);
  const shift = Number(exponent) - fraction.length + decimals;
  let result: bigint;
  if (shift >= 0) {
    result = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    result = digits / divisor;
    if ((digits % divisor) * 2n >= divisor) result += 1n;
  }
  return sign === '-' ? -result : result;
}

/**
 * The nearest float to a fixed-point integer with `decimals` decimals (default 18, the score's): correctly rounded,
 * parsed from its exact decimal form. The inverse of {@link toFixedPoint} up to float precision.
 *
 * @example
 * ```ts
 * import { fromFixedPoint } from 'provenant/chain';
 *
 * fromFixedPoint(250_000_000_000_000_000n); // 0.25
 * fromFixedPoint(-15n, 1);                  // -1.5
 * ```
 */
export function fromFixedPoint(value: bigint, decimals: number = SCORE_DECIMALS): number {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return Number(`${negative ? '-' : ''}${text}`);
}

function assertBytes32(value: unknown, name: string): asserts value is Hex {
  assertArgument(isHex(value, 32), name, 'must be a 32-byte 0x-hex string', value);
}

/**
 * Validates a record and returns it with a fixed-point score (a float score goes through {@link toFixedPoint}, 18
 * decimals) and lower-case hex fields, ready to be a Merkle leaf or a `recordAttribution` argument.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming the bad field: `queryHash`/`modelRef` not 32-byte hex, `contributor`
 *   not a 20-byte address, a score outside int256 (or not finite), `rewardWei` not a bigint in [0, 2^256).
 * @example
 * ```ts
 * import { normalizeAttributionRecord } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const queryHash: Hex, modelRef: Hex;
 * const record = normalizeAttributionRecord({ queryHash, contributor: '0x52908400098527886E0F7030069857D2E4169EE7', score: 0.42, rewardWei: 10n ** 15n, modelRef });
 * record.score;       // 420000000000000000n
 * record.contributor; // '0x52908400098527886e0f7030069857d2e4169ee7'
 * ```
 */
export function normalizeAttributionRecord(record: AttributionRecordInput): AttributionRecord {
  assertBytes32(record.queryHash, 'queryHash');
  assertArgument(isHex(record.contributor, 20), 'contributor', 'must be a 20-byte address', record.contributor);
  assertBytes32(record.modelRef, 'modelRef');
  const score = typeof record.score === 'number' ? toFixedPoint(record.score) : record.score;
  assertArgument(typeof score === 'bigint' && score >= INT256_MIN && score <= INT256_MAX, 'score', 'must fit int256', record.score);
  assertArgument(
    typeof record.rewardWei === 'bigint' && record.rewardWei >= 0n && record.rewardWei <= UINT256_MAX,
    'rewardWei',
    'must be a bigint in [0, 2^256)',
    record.rewardWei,
  );
  return {
    queryHash: record.queryHash.toLowerCase() as Hex,
    contributor: record.contributor.toLowerCase() as Hex,
    score,
    rewardWei: record.rewardWei,
    modelRef: record.modelRef.toLowerCase() as Hex,
  };
}

/**
 * The leaf tuple of a normalised record, in `ATTRIBUTION_LEAF_TYPES` order (`bytes32 queryHash, address contributor,
 * int256 score, uint256 rewardWei, bytes32 modelRef`), ready for `merkleTree(values, ATTRIBUTION_LEAF_TYPES)` or
 * OpenZeppelin's `StandardMerkleTree`.
 *
 * @example
 * ```ts
 * import { ATTRIBUTION_LEAF_TYPES, attributionLeafValues, normalizeAttributionRecord, type AttributionRecordInput } from 'provenant/chain';
 * import { standardLeafHash } from 'provenant';
 *
 * declare const input: AttributionRecordInput;
 * const values = attributionLeafValues(normalizeAttributionRecord(input)); // [queryHash, contributor, score, rewardWei, modelRef]
 * const leaf = standardLeafHash(ATTRIBUTION_LEAF_TYPES, values);         // the leaf `verifyAttribution` checks on chain
 * ```
 */
export function attributionLeafValues(record: AttributionRecord): AttributionLeafValues {
  return [record.queryHash, record.contributor, record.score, record.rewardWei, record.modelRef];
}

/**
 * The registry's model id: keccak256(abi.encode(baseHash, adapterHash, snapshotRoot, configHash)), all bytes32 — the
 * contract's `modelIdOf`, so the id is known before the model is published.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming the field that is not 32-byte hex.
 * @example
 * ```ts
 * import { modelId } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const baseHash: Hex, adapterHash: Hex, snapshotRoot: Hex, configHash: Hex;
 * const modelRef = modelId({ baseHash, adapterHash, snapshotRoot, configHash }); // '0x…' (bytes32)
 * ```
 */
export function modelId(model: { baseHash: Hex; adapterHash: Hex; snapshotRoot: Hex; configHash: Hex }): Hex {
  for (const key of ['baseHash', 'adapterHash', 'snapshotRoot', 'configHash'] as const) assertBytes32(model[key], key);
  return keccak256(abiEncode(['bytes32', 'bytes32', 'bytes32', 'bytes32'], [model.baseHash, model.adapterHash, model.snapshotRoot, model.configHash]));
}

/**
 * The registry's evaluation id: keccak256(abi.encode(bytes32 modelId, bytes32 summaryHash)) — the contract's
 * `evaluationIdOf`.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when either argument is not 32-byte hex.
 * @example
 * ```ts
 * import { evaluationId, modelId } from 'provenant/chain';
 * import type { Hex } from 'provenant';
 *
 * declare const baseHash: Hex, adapterHash: Hex, snapshotRoot: Hex, configHash: Hex, summaryHash: Hex;
 * const id = evaluationId(modelId({ baseHash, adapterHash, snapshotRoot, configHash }), summaryHash); // '0x…' (bytes32)
 * ```
 */
export function evaluationId(model: Hex, summaryHash: Hex): Hex {
  assertBytes32(model, 'modelId');
  assertBytes32(summaryHash, 'summaryHash');
  return keccak256(abiEncode(['bytes32', 'bytes32'], [model, summaryHash]));
}

/**
 * The default batch id: keccak256(abi.encode(bytes32 root, bytes32 modelRef, uint64 recordCount)), so the same records
 * always get the same id (and publishing them twice is a no-op rather than a second batch).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `root` or `modelRef` is not 32-byte hex.
 * @example
 * ```ts
 * import { attributionBatchId, buildAttributionBatch, type AttributionRecordInput } from 'provenant/chain';
 *
 * declare const records: AttributionRecordInput[];
 * const batch = buildAttributionBatch(records);
 * attributionBatchId(batch.root, batch.modelRef, batch.recordCount) === batch.batchId; // true
 * ```
 */
export function attributionBatchId(root: Hex, modelRef: Hex, recordCount: number | bigint): Hex {
  assertBytes32(root, 'root');
  assertBytes32(modelRef, 'modelRef');
  return keccak256(abiEncode(['bytes32', 'bytes32', 'uint64'], [root, modelRef, BigInt(recordCount)]));
}

export interface AttributionBatch {
  /** The batch id published on chain; `verifyAttribution` looks the root up by it. */
  batchId: Hex;
  root: Hex;
  recordCount: number;
  modelRef: Hex;
  records: readonly AttributionRecord[];
  tree: MerkleTree<AttributionLeafValues>;
  /** The proof of the record at `index` (input order), for `verifyAttributionOnChain`. */
  getProof(index: number): Hex[];
}

export interface BuildAttributionBatchOptions {
  /** Overrides the content-derived default id (e.g. one id per block: keccak256 of "block 1234"). */
  batchId?: Hex;
}

/**
 * Builds the Merkle batch of attribution records that `publishAttributionBatch` commits to. All records must share one
 * `modelRef`, which becomes the batch's model reference.
 *
 * @example
 * ```ts
 * import { buildAttributionBatch, publishAttributionBatch, verifyAttributionOnChain, type RegistryClient } from 'provenant/chain';
 * import { type Hex } from 'provenant';
 * declare const queryHash: Hex;
 * declare const contributor: Hex;
 * declare const modelRef: Hex;
 * declare const client: RegistryClient;
 * declare const address: Hex;
 * const batch = buildAttributionBatch([{ queryHash, contributor, score: 0.42, rewardWei: 10n ** 15n, modelRef }]);
 * await publishAttributionBatch(client, { address, batch });
 * await verifyAttributionOnChain(client, { address, batchId: batch.batchId, record: batch.records[0], proof: batch.getProof(0) });
 * ```
 */
export function buildAttributionBatch(records: readonly AttributionRecordInput[], options: BuildAttributionBatchOptions = {}): AttributionBatch {
  assertArgument(records.length > 0, 'records', 'a batch needs at least one record', records.length);
  const normalized = records.map(normalizeAttributionRecord);
  const modelRef = normalized[0]!.modelRef;
  const other = normalized.findIndex((r) => r.modelRef !== modelRef);
  if (other >= 0) {
    throw new ProvenantError('INVALID_ARGUMENT', 'All records of an attribution batch must share one modelRef.', {
      metaMessages: [`record 0: ${modelRef}`, `record ${other}: ${normalized[other]!.modelRef}`],
      data: { index: other },
    });
  }
  const tree = merkleTree(normalized.map(attributionLeafValues), ATTRIBUTION_LEAF_TYPES);
  if (options.batchId !== undefined) assertBytes32(options.batchId, 'batchId');
  return {
    batchId: (options.batchId?.toLowerCase() as Hex | undefined) ?? attributionBatchId(tree.root, modelRef, normalized.length),
    root: tree.root,
    recordCount: normalized.length,
    modelRef,
    records: normalized,
    tree,
    getProof: (index) => tree.getProof(index),
  };
}
