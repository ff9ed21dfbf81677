/**
 * The OP Stack L1 data fee: what a transaction on an OP Stack L2 pays for its bytes being posted to Ethereum, on top of
 * its L2 gas. Exact integer mirror of the `GasPriceOracle` predeploy (0x420000000000000000000000000000000000000F,
 * `@eth-optimism/contracts-bedrock` src/L2/GasPriceOracle.sol, version 1.3.0):
 *
 * - Ecotone (OP Stack spec, "Ecotone L1 cost"): calldata gas = 4 per zero byte + 16 per non-zero byte + 68·16 (the
 *   signature the unsigned input lacks), fee = gas · (16·baseFeeScalar·l1BaseFee + blobBaseFeeScalar·blobBaseFee) / (16·10⁶).
 * - Fjord (OP Stack spec, "Fjord L1 cost"): size = FastLZ(tx) + 68, estimated Brotli size (scaled 10⁶) =
 *   max(−42,585,600 + 836,500 · size, 100·10⁶) — a linear regression fitted by OP Labs, floored at 100 bytes —
 *   fee = estimate · (16·baseFeeScalar·l1BaseFee + blobBaseFeeScalar·blobBaseFee) / 10¹².
 *
 * Every division is Solidity's (floor), every product an exact bigint, so the result equals `getL1Fee(data)` to the wei
 * (checked against the contract on anvil in test/chain/op-stack/l1-fee.test.ts).
 */
import { assertArgument, hexToBytes, isHex } from '../../core/index.js';
import { flzCompressLength } from './fastlz.js';

export type L1FeeFork = 'ecotone' | 'fjord';

/** The L1 prices and scalars the `L1Block` predeploy holds (set each L1 epoch by the depositor account). */
export interface L1FeeParameters {
  /** L1 base fee, wei (`L1Block.basefee`). */
  l1BaseFee: bigint | number;
  /** L1 blob base fee, wei (`L1Block.blobBaseFee`). */
  blobBaseFee: bigint | number;
  /** `L1Block.baseFeeScalar` (uint32, 6 decimals: 1,000,000 = 1). */
  baseFeeScalar: bigint | number;
  /** `L1Block.blobBaseFeeScalar` (uint32, 6 decimals). */
  blobBaseFeeScalar: bigint | number;
  fork: L1FeeFork;
}

/** The oracle's constants (GasPriceOracle.sol 1.3.0). */
export const FJORD_COST_INTERCEPT = -42_585_600n;
export const FJORD_COST_FASTLZ_COEF = 836_500n;
export const FJORD_MIN_TRANSACTION_SIZE = 100n;
/** Bytes the oracle adds to an unsigned transaction for the signature it lacks. */
export const UNSIGNED_TX_PADDING = 68n;
const DECIMALS = 1_000_000n;
const UINT32_MAX = 0xffff_ffffn;
const UINT256_MAX = (1n << 256n) - 1n;

interface CheckedParameters {
  l1BaseFee: bigint;
  blobBaseFee: bigint;
  baseFeeScalar: bigint;
  blobBaseFeeScalar: bigint;
  fork: L1FeeFork;
}

function toUint(value: bigint | number, name: string, max: bigint): bigint {
  assertArgument(typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)), name, 'must be a bigint or a safe integer', value);
  const v = BigInt(value);
  assertArgument(v >= 0n && v <= max, name, `must be an integer in [0, ${max}]`, value);
  return v;
}

function checkParameters(parameters: L1FeeParameters): CheckedParameters {
  assertArgument(parameters !== null && typeof parameters === 'object', 'parameters', 'must be an object', parameters);
  const { fork } = parameters;
  assertArgument(fork === 'ecotone' || fork === 'fjord', 'fork', "must be 'ecotone' or 'fjord'", fork);
  // `baseFeeScalar() * 16` is evaluated in uint32 by the contract, so a scalar above (2³²−1)/16 makes getL1Fee revert.
  const baseFeeScalar = toUint(parameters.baseFeeScalar, 'baseFeeScalar', UINT32_MAX / 16n);
  return {
    fork,
    baseFeeScalar,
    blobBaseFeeScalar: toUint(parameters.blobBaseFeeScalar, 'blobBaseFeeScalar', UINT32_MAX),
    l1BaseFee: toUint(parameters.l1BaseFee, 'l1BaseFee', UINT256_MAX),
    blobBaseFee: toUint(parameters.blobBaseFee, 'blobBaseFee', UINT256_MAX),
  };
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  assertArgument(isHex(data), 'data', 'must be a 0x-prefixed hex string of whole bytes, or a Uint8Array', data);
  return hexToBytes(data);
}

/**
 * Ecotone's calldata gas of an unsigned transaction (`GasPriceOracle._getCalldataGas`, OP Stack spec "Ecotone L1
 * cost"): 4 gas per zero byte, 16 per non-zero byte, plus 68·16 for the signature the unsigned bytes lack.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `data` is not 0x-hex of whole bytes or a Uint8Array.
 * @example
 * ```ts
 * import { calldataGas } from 'provenant/chain';
 *
 * calldataGas('0x00ff'); // 1108n = 4 + 16 + 68·16
 * ```
 */
export function calldataGas(data: Uint8Array | string): bigint {
  const bytes = toBytes(data);
  let zeros = 0;
  for (const b of bytes) if (b === 0) zeros++;
  return BigInt(4 * zeros + 16 * (bytes.length - zeros)) + UNSIGNED_TX_PADDING * 16n;
}

/**
 * Fjord's estimated Brotli size of a transaction, scaled by 10⁶ (`GasPriceOracle._fjordLinearRegression`, OP Stack spec
 * "Fjord L1 cost"): max(−42,585,600 + 836,500 · fastLzSize, 100·10⁶) — OP Labs' linear regression, floored at
 * 100 bytes. `fastLzSize` is the FastLZ length in bytes with the oracle's +68 already added.
 *
 * @example
 * ```ts
 * import { fjordEstimatedSize } from 'provenant/chain';
 *
 * fjordEstimatedSize(200); // 124714400n (≈ 124.7 bytes × 10⁶)
 * fjordEstimatedSize(100); // 100000000n (the 100-byte floor)
 * ```
 */
export function fjordEstimatedSize(fastLzSize: bigint | number): bigint {
  const size = FJORD_COST_INTERCEPT + FJORD_COST_FASTLZ_COEF * BigInt(fastLzSize);
  const floor = FJORD_MIN_TRANSACTION_SIZE * DECIMALS;
  return size < floor ? floor : size;
}

const feeScaled = (p: CheckedParameters): bigint => p.baseFeeScalar * 16n * p.l1BaseFee + p.blobBaseFeeScalar * p.blobBaseFee;

function fjordCost(fastLzSize: bigint, p: CheckedParameters): bigint {
  return (fjordEstimatedSize(fastLzSize) * feeScaled(p)) / (DECIMALS * DECIMALS);
}

function ecotoneCost(gas: bigint, p: CheckedParameters): bigint {
  return (gas * (p.baseFeeScalar * 16n * p.l1BaseFee + p.blobBaseFeeScalar * p.blobBaseFee)) / (16n * DECIMALS);
}

/**
 * The oracle's `_fjordL1Cost`: the Fjord fee, wei, of a transaction whose FastLZ size *including* the 68-byte signature
 * padding is `fastLzSize` — for models that know a size but not the bytes (the load simulation).
 *
 * @example
 * ```ts
 * import { fjordL1Cost } from 'provenant/chain';
 * fjordL1Cost(200, { l1BaseFee: 2e9, blobBaseFee: 1, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'fjord' });
 * ```
 */
export function fjordL1Cost(fastLzSize: number | bigint, parameters: L1FeeParameters): bigint {
  return fjordCost(toUint(fastLzSize, 'fastLzSize', UINT256_MAX), checkParameters({ ...parameters, fork: 'fjord' }));
}

/**
 * The oracle's Ecotone fee, wei, from a calldata gas figure (`calldataGas(data)`, padding included).
 *
 * @example
 * ```ts
 * import { calldataGas, ecotoneL1Cost } from 'provenant/chain';
 * declare const tx: string | Uint8Array;
 * ecotoneL1Cost(calldataGas(tx), { l1BaseFee: 2e9, blobBaseFee: 1, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'ecotone' });
 * ```
 */
export function ecotoneL1Cost(gas: number | bigint, parameters: L1FeeParameters): bigint {
  return ecotoneCost(toUint(gas, 'gas', UINT256_MAX), checkParameters({ ...parameters, fork: 'ecotone' }));
}

/**
 * The L1 data fee, in wei, that an OP Stack chain's `GasPriceOracle.getL1Fee(data)` returns for `data` under the given L1
 * prices and fork — to the wei.
 *
 * `data` is what the oracle takes: the *unsigned* fully RLP-encoded transaction (viem: `serializeTransaction(tx)` without
 * a signature); the oracle adds 68 bytes for the signature. (op-geth itself charges the signed bytes without padding,
 * which differs from this estimate by the signature's exact compressed size — a few bytes.)
 *
 * Sources: GasPriceOracle.sol 1.3.0 (`_getL1FeeEcotone`, `_getL1FeeFjord`, `_fjordLinearRegression`); OP Stack
 * specs, "Ecotone: L1 cost" and "Fjord: Fees"; FastLZ length as solady's `LibZip.flzCompress`.
 *
 * @param data unsigned RLP transaction bytes, hex (`0x…`) or Uint8Array.
 * @param parameters L1 base fee and blob base fee (wei), the two uint32 scalars (6 decimals), and the fork.
 * @returns fee in wei (bigint).
 * @throws ProvenantError INVALID_ARGUMENT naming the field: non-hex data, a negative or non-integer price, a scalar
 *   outside uint32 (or a base-fee scalar above (2³²−1)/16, where the contract's uint32 product overflows and reverts).
 * @example
 * ```ts
 * import { estimateL1Fee } from 'provenant/chain';
 * import { serializeTransaction, type TransactionSerializable } from 'viem';
 * declare const tx: TransactionSerializable;
 * const fee = estimateL1Fee(serializeTransaction(tx), {
 *   l1BaseFee: 5_000_000_000n, blobBaseFee: 1n, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'fjord',
 * }); // wei (bigint)
 * ```
 */
export function estimateL1Fee(data: Uint8Array | string, parameters: L1FeeParameters): bigint {
  const p = checkParameters(parameters);
  const bytes = toBytes(data);
  if (p.fork === 'fjord') return fjordCost(BigInt(flzCompressLength(bytes)) + UNSIGNED_TX_PADDING, p);
  return ecotoneCost(calldataGas(bytes), p);
}

/**
 * `GasPriceOracle.getL1FeeUpperBound(unsignedTxSize)` (Fjord only): the fee assuming FastLZ's practical worst case
 * `size + size/255 + 16` (size = unsigned size + 68), which covers 99.99 % of transactions — for a quote before the
 * transaction's bytes exist.
 *
 * @param unsignedTxSize unsigned RLP transaction size, bytes.
 * @throws ProvenantError INVALID_ARGUMENT when `fork` is not 'fjord' (the contract reverts there too).
 * @example
 * ```ts
 * import { l1FeeUpperBound } from 'provenant/chain';
 * l1FeeUpperBound(200, { l1BaseFee: 5_000_000_000n, blobBaseFee: 1n, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'fjord' });
 * ```
 */
export function l1FeeUpperBound(unsignedTxSize: number | bigint, parameters: L1FeeParameters): bigint {
  const p = checkParameters(parameters);
  assertArgument(p.fork === 'fjord', 'fork', "getL1FeeUpperBound only supports 'fjord'", p.fork);
  const txSize = toUint(unsignedTxSize, 'unsignedTxSize', UINT256_MAX) + UNSIGNED_TX_PADDING;
  return fjordCost(txSize + txSize / 255n + 16n, p);
}
