/**
 * An OP Stack chain's economic profile: every value the fee, base-fee and finality models read, with its default, unit,
 * source and meaning in one table (`OP_STACK_PROFILE_FIELDS`) — the table the audit record prints, so a cost figure never
 * rests on an undocumented number. `resolveOpStackProfile` fills defaults from the table and nowhere else.
 */
import { ProvenantError, describeValue } from '../../core/index.js';
import type { L1FeeFork } from './l1-fee.js';

export interface OpStackProfile {
  gasLimit: number;
  blockTimeSeconds: number;
  elasticity: number;
  baseFeeMaxChangeDenominator: number;
  maxTxGas: number;
  maxTxBytes: number;
  initialBaseFeeWei: number;
  minBaseFeeWei: number;
  priorityFeeWei: number;
  backgroundGasPerBlock: number;
  l1BaseFeeWei: number;
  blobBaseFeeWei: number;
  baseFeeScalar: number;
  blobBaseFeeScalar: number;
  l1FeeFork: L1FeeFork;
  batcherIntervalSeconds: number;
  l1BlockTimeSeconds: number;
  l1FinalitySeconds: number;
}

/** One row of the profile table. */
export interface OpStackProfileField {
  field: keyof OpStackProfile;
  default: number | string;
  unit: string;
  /** Where the default comes from. */
  source: string;
  meaning: string;
}

export const OP_STACK_PROFILE_FIELDS: readonly OpStackProfileField[] = Object.freeze([
  { field: 'gasLimit', default: 30_000_000, unit: 'gas', source: 'OP Stack genesis default (deploy config l2GenesisBlockGasLimit); Base raised its limit past 100M in 2025', meaning: 'Block gas limit: the most gas one L2 block holds (a burst).' },
  { field: 'blockTimeSeconds', default: 2, unit: 's', source: 'OP Stack rollup config l2BlockTime (OP Mainnet, Base)', meaning: 'Seconds between L2 blocks; the time to `unsafe` inclusion.' },
  { field: 'elasticity', default: 6, unit: '', source: 'op-geth OptimismConfig.EIP1559Elasticity (OP Mainnet, Base)', meaning: 'EIP-1559 elasticity: gas target = gasLimit / elasticity; gas above the target raises the next base fee.' },
  { field: 'baseFeeMaxChangeDenominator', default: 250, unit: '', source: 'op-geth EIP1559DenominatorCanyon (Canyon upgrade, Jan 2024; 50 before)', meaning: 'EIP-1559 max change denominator: the base fee moves by at most (used − target)/target/denominator per block (±2 % at a full block with elasticity 6).' },
  { field: 'maxTxGas', default: 16_777_216, unit: 'gas', source: 'EIP-7825 transaction gas cap 2^24, as on current OP Stack chains', meaning: 'Most gas one transaction may use; batched transactions are split to respect it.' },
  { field: 'maxTxBytes', default: 131_072, unit: 'bytes', source: "geth/op-geth txpool txMaxSize (128 KiB)", meaning: 'Largest transaction the node pool accepts; bounds events per batched transaction.' },
  { field: 'initialBaseFeeWei', default: 1_000_000, unit: 'wei', source: 'assumption: 0.001 gwei, the order of OP Mainnet/Base L2 base fees when uncongested (2024–25)', meaning: 'L2 base fee at the start of a simulation.' },
  { field: 'minBaseFeeWei', default: 1_000_000, unit: 'wei', source: "assumption: the chain's other traffic keeps the base fee at its usual level (OP Stack Jovian makes a minimum base fee configurable; 0 = no floor)", meaning: 'Floor of the L2 base fee: attribution load can only raise it above this.' },
  { field: 'priorityFeeWei', default: 0, unit: 'wei', source: 'assumption: no tip (blocks not full of competing traffic)', meaning: 'Priority fee per gas paid on top of the base fee.' },
  { field: 'backgroundGasPerBlock', default: 0, unit: 'gas', source: 'assumption: the simulation isolates attribution traffic', meaning: "Other users' gas in every block; it takes block space and pushes the base fee with ours." },
  { field: 'l1BaseFeeWei', default: 2_000_000_000, unit: 'wei', source: 'assumption: 2 gwei, a typical Ethereum base fee in 2025', meaning: 'L1 base fee the L1Block predeploy reports (L1Block.basefee).' },
  { field: 'blobBaseFeeWei', default: 1, unit: 'wei', source: 'EIP-4844 minimum blob base fee (1 wei), where it sat most of 2024–25', meaning: 'L1 blob base fee (L1Block.blobBaseFee).' },
  { field: 'baseFeeScalar', default: 2269, unit: '1e-6', source: 'Base mainnet SystemConfig basefeeScalar (superchain-registry)', meaning: 'Weight of the L1 base fee in the L1 data fee (6 decimals).' },
  { field: 'blobBaseFeeScalar', default: 1_055_762, unit: '1e-6', source: 'Base mainnet SystemConfig blobbasefeeScalar (superchain-registry)', meaning: 'Weight of the blob base fee in the L1 data fee (6 decimals).' },
  { field: 'l1FeeFork', default: 'fjord', unit: '', source: 'Fjord is active on OP Stack chains since July 2024', meaning: "L1 data fee formula: 'fjord' (FastLZ size, linear regression, 100-byte floor) or 'ecotone' (calldata gas)." },
  { field: 'batcherIntervalSeconds', default: 60, unit: 's', source: 'assumption: op-batcher max-channel-duration; busy chains post about every L1 block, small chains every few minutes', meaning: 'How often the batcher posts L2 blocks to L1; an L2 block is `safe` once its batch is in an L1 block.' },
  { field: 'l1BlockTimeSeconds', default: 12, unit: 's', source: 'Ethereum slot time', meaning: 'Seconds for a posted batch to land in an L1 block.' },
  { field: 'l1FinalitySeconds', default: 768, unit: 's', source: 'Ethereum Casper FFG: 2 epochs × 32 slots × 12 s ≈ 12.8 min', meaning: 'Seconds from L1 inclusion to L1 finality; an L2 block is `finalized` once its batch\'s L1 block is.' },
] satisfies OpStackProfileField[]);

const FIELD_NAMES = new Set(OP_STACK_PROFILE_FIELDS.map((f) => f.field as string));

/** Constraints each field must meet, gathered into one error. */
function violations(profile: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const positive = ['gasLimit', 'blockTimeSeconds', 'maxTxGas', 'maxTxBytes', 'l1BlockTimeSeconds', 'batcherIntervalSeconds'];
  const nonNegative = ['initialBaseFeeWei', 'minBaseFeeWei', 'priorityFeeWei', 'backgroundGasPerBlock', 'l1BaseFeeWei', 'blobBaseFeeWei', 'l1FinalitySeconds'];
  const num = (key: string): number => (typeof profile[key] === 'number' ? (profile[key] as number) : Number.NaN);
  for (const key of positive) if (!(num(key) > 0 && Number.isFinite(num(key)))) bad.push(`${key}: must be a positive number, got ${describeValue(profile[key])}`);
  for (const key of nonNegative) if (!(num(key) >= 0 && Number.isFinite(num(key)))) bad.push(`${key}: must be a number ≥ 0, got ${describeValue(profile[key])}`);
  for (const key of ['gasLimit', 'maxTxGas', 'maxTxBytes', 'initialBaseFeeWei', 'minBaseFeeWei', 'priorityFeeWei', 'backgroundGasPerBlock', 'l1BaseFeeWei', 'blobBaseFeeWei', 'baseFeeScalar', 'blobBaseFeeScalar']) {
    if (!Number.isSafeInteger(profile[key])) bad.push(`${key}: must be a safe integer, got ${describeValue(profile[key])}`);
  }
  for (const key of ['elasticity', 'baseFeeMaxChangeDenominator']) if (!(Number.isSafeInteger(profile[key]) && (profile[key] as number) >= 1)) bad.push(`${key}: must be an integer ≥ 1, got ${describeValue(profile[key])}`);
  if (!(Number.isSafeInteger(profile.baseFeeScalar) && (profile.baseFeeScalar as number) >= 0 && (profile.baseFeeScalar as number) <= Math.floor(0xffff_ffff / 16))) bad.push('baseFeeScalar: must be an integer in [0, (2^32−1)/16] (the oracle multiplies it by 16 in uint32)');
  if (!(Number.isSafeInteger(profile.blobBaseFeeScalar) && (profile.blobBaseFeeScalar as number) >= 0 && (profile.blobBaseFeeScalar as number) <= 0xffff_ffff)) bad.push('blobBaseFeeScalar: must be a uint32');
  if (profile.l1FeeFork !== 'fjord' && profile.l1FeeFork !== 'ecotone') bad.push(`l1FeeFork: must be 'fjord' or 'ecotone', got ${describeValue(profile.l1FeeFork)}`);
  if (typeof profile.backgroundGasPerBlock === 'number' && typeof profile.gasLimit === 'number' && profile.backgroundGasPerBlock > profile.gasLimit) bad.push('backgroundGasPerBlock: must not exceed gasLimit');
  return bad;
}

/**
 * The full profile: defaults from `OP_STACK_PROFILE_FIELDS` for every field not given, validated as a whole.
 *
 * @throws ProvenantError INVALID_ARGUMENT listing every unknown or invalid field.
 * @example
 * ```ts
 * import { resolveOpStackProfile } from 'provenant/chain';
 * const base = resolveOpStackProfile({ gasLimit: 150_000_000 });
 * base.elasticity; // 6
 * ```
 */
export function resolveOpStackProfile(partial: Partial<OpStackProfile> = {}): OpStackProfile {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new ProvenantError('INVALID_ARGUMENT', `An OP Stack profile must be an object, got ${describeValue(partial)}.`);
  }
  const full: Record<string, unknown> = Object.create(null);
  const bad: string[] = [];
  for (const key of Object.keys(partial)) if (!FIELD_NAMES.has(key)) bad.push(`${key}: unknown field (known: ${[...FIELD_NAMES].join(', ')})`);
  for (const f of OP_STACK_PROFILE_FIELDS) full[f.field] = (partial as Record<string, unknown>)[f.field] ?? f.default;
  bad.push(...violations(full));
  if (bad.length > 0) {
    throw new ProvenantError('INVALID_ARGUMENT', `Invalid OP Stack profile: ${bad.length} problem(s).`, { metaMessages: bad, data: { fields: bad.map((b) => b.split(':')[0]) } });
  }
  return { ...(full as unknown as OpStackProfile) };
}

/** A profile row as the audit record stores parameters (`AuditParameter`: name, value, default, meaning) plus source and unit. */
export interface OpStackProfileParameter {
  name: string;
  value: number | string;
  default: number | string;
  unit: string;
  source: string;
  meaning: string;
}

/**
 * The profile as rows for the audit record: each field's value, default, unit, source and meaning.
 *
 * @example
 * ```ts
 * import { opStackProfileParameters, resolveOpStackProfile } from 'provenant/chain';
 * const rows = opStackProfileParameters(resolveOpStackProfile({ gasLimit: 30_000_000 })); // one audit row per profile value
 * ```
 */
export function opStackProfileParameters(profile: OpStackProfile): OpStackProfileParameter[] {
  return OP_STACK_PROFILE_FIELDS.map((f) => ({ name: `opStack.${f.field}`, value: profile[f.field], default: f.default, unit: f.unit, source: f.source, meaning: f.meaning }));
}

/**
 * The EIP-1559 gas target per block: gasLimit / elasticity (integer division, as op-geth computes it).
 *
 * @example
 * ```ts
 * import { gasTarget, resolveOpStackProfile } from 'provenant/chain';
 *
 * gasTarget({ gasLimit: 30_000_000, elasticity: 6 }); // 5000000
 * gasTarget(resolveOpStackProfile());                  // the default profile's target
 * ```
 */
export function gasTarget(profile: Pick<OpStackProfile, 'gasLimit' | 'elasticity'>): number {
  return Math.floor(profile.gasLimit / profile.elasticity);
}
