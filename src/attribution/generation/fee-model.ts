/**
 * The per-inference fee of a generated answer and its split, in the structure OpenLedger publishes for Proof of
 * Attribution (a fee priced per input and output token; a platform fee; the rest shared by the model owner, the stakers
 * and the data contributors, contributors by positive influence only).
 *
 *   fee          = ⌊(price_in · input_tokens + price_out · output_tokens) / 1000⌋          (wei; sub-wei dropped)
 *   platform     = ⌊fee · platformFeeBps / 10⁴⌋
 *   owner, stakers, contributors = fee − platform split in the ratio ownerBps : stakersBps : contributorsBps
 *   contributor c = contributors pool split by max(score_c, 0) (largest remainder, exact; `splitRewardDetailed`)
 * Every split is exact to the wei: the parts sum to the fee. When no contributor has positive influence, the
 * contributors' pool is returned as `unallocatedWei` with the reason, never thrown (a serving loop must not stop).
 */
import { ProvenantError, checks, describeValue, resolve, type ParamCheck, type ParamTable } from '../../core/index.js';
import { splitRewardDetailed } from '../reward-split.js';

export interface FeeModel {
  /** Wei per 1,000 prompt tokens. */
  pricePer1kInputTokensWei: bigint;
  /** Wei per 1,000 generated tokens. */
  pricePer1kOutputTokensWei: bigint;
  /** Platform's cut of the fee, basis points (1/100 %). */
  platformFeeBps: number;
  /** Ratio weights (basis points, summing to 10,000) of the fee after the platform's cut. */
  ownerBps: number;
  stakersBps: number;
  contributorsBps: number;
}

/** One row of the fee table: field, default, unit, meaning and where the default comes from. */
export interface FeeModelField {
  field: keyof FeeModel;
  default: bigint | number;
  unit: string;
  meaning: string;
  source: string;
}

/**
 * Every fee parameter with its default, unit, meaning and source — the single table `resolveFeeModel` reads and the audit
 * record prints. OpenLedger publishes the *structure* (per-token pricing, owner / stakers / contributors, contributors by
 * influence) but, as far as we could check offline, no fixed percentages; the defaults below are stated assumptions.
 */
export const FEE_MODEL_FIELDS: readonly FeeModelField[] = Object.freeze([
  {
    field: 'pricePer1kInputTokensWei',
    default: 1_000_000_000_000n,
    unit: 'wei / 1,000 tokens',
    meaning: 'Price of the prompt tokens read.',
    source: 'assumption: 10⁻⁶ ETH per 1k tokens, a placeholder a deployer sets; per-1k-token pricing as LLM APIs quote it',
  },
  {
    field: 'pricePer1kOutputTokensWei',
    default: 4_000_000_000_000n,
    unit: 'wei / 1,000 tokens',
    meaning: 'Price of the tokens generated (generation costs more than reading).',
    source: 'output = 4 × input, the ratio of public API price lists (e.g. OpenAI gpt-4o-mini, $0.15 / $0.60 per 1M tokens, 2024)',
  },
  { field: 'platformFeeBps', default: 500, unit: 'basis points', meaning: "The platform's cut, taken first.", source: 'assumption: 5 %' },
  { field: 'ownerBps', default: 4_000, unit: 'basis points of the rest', meaning: 'Share of the model owner (who fine-tuned and serves the model).', source: 'assumption: 40 %' },
  { field: 'stakersBps', default: 1_000, unit: 'basis points of the rest', meaning: 'Share of the stakers securing the model.', source: 'assumption: 10 %' },
  {
    field: 'contributorsBps',
    default: 5_000,
    unit: 'basis points of the rest',
    meaning: 'Share of the data contributors, split by positive influence on the answer.',
    source: 'assumption: 50 %, the largest part, since the data is what Proof of Attribution pays for',
  },
]);

const weiCheck: ParamCheck = (v) => (typeof v === 'bigint' && v >= 0n ? null : `must be a non-negative bigint (wei), got ${describeValue(v)}`);
const bpsCheck: ParamCheck = checks.int(0, 10_000);

/**
 * The fee model in the library's one parameter mechanism (`core/params.ts`), built from `FEE_MODEL_FIELDS` (the defaults
 * and meanings live there only): `resolve` refuses unknown names with the nearest field and gathers every bad value;
 * `describe(FEE_MODEL_PARAMS, used)` gives the audit rows.
 */
export const FEE_MODEL_PARAMS: ParamTable = Object.freeze({
  name: 'feeModel',
  docsPath: '#parameters',
  fields: FEE_MODEL_FIELDS.map((f) => ({
    name: f.field,
    default: f.default,
    meaning: `${f.meaning} Unit: ${f.unit}. Default: ${f.source}.`,
    check: typeof f.default === 'bigint' ? weiCheck : bpsCheck,
  })),
  crossChecks: (used: Readonly<Record<string, unknown>>): Array<[string, string]> => {
    const sum = (used.ownerBps as number) + (used.stakersBps as number) + (used.contributorsBps as number);
    return sum === 10_000 ? [] : [['contributorsBps', `ownerBps + stakersBps + contributorsBps must be 10000, got ${sum}`]];
  },
});

/**
 * The full fee model: defaults from {@link FEE_MODEL_FIELDS} for every field not given, then validated; every bad field is
 * listed in one `INVALID_ARGUMENT` error.
 *
 * @example
 * ```ts
 * import { resolveFeeModel } from 'provenant/attribution';
 * resolveFeeModel({ platformFeeBps: 0 }).contributorsBps; // 5000
 * ```
 */
export function resolveFeeModel(partial: Partial<FeeModel> = {}): FeeModel {
  return { ...resolve<FeeModel>(FEE_MODEL_PARAMS, partial) };
}

/**
 * The fee of one answer in wei: ⌊(pricePer1kInputTokensWei·inputTokens + pricePer1kOutputTokensWei·outputTokens) / 1000⌋.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when a token count is not a non-negative integer.
 * @example
 * ```ts
 * import { inferenceFee, resolveFeeModel } from 'provenant/attribution';
 *
 * inferenceFee(resolveFeeModel(), { inputTokens: 200, outputTokens: 50 }); // 400000000000n wei (defaults 10¹² / 4·10¹² per 1k)
 * ```
 */
export function inferenceFee(model: FeeModel, tokens: { inputTokens: number; outputTokens: number }): bigint {
  for (const [k, v] of [['inputTokens', tokens.inputTokens], ['outputTokens', tokens.outputTokens]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ProvenantError('INVALID_ARGUMENT', `${k} must be a non-negative integer, got ${v}.`);
  }
  return (model.pricePer1kInputTokensWei * BigInt(tokens.inputTokens) + model.pricePer1kOutputTokensWei * BigInt(tokens.outputTokens)) / 1000n;
}

/** Why an answer's contributors were not paid. */
export type UnpaidReason = 'no-positive-influence' | 'no-contributors' | 'zero-fee';

export interface GenerationFeeSplit {
  feeWei: bigint;
  inputTokens: number;
  outputTokens: number;
  platformWei: bigint;
  ownerWei: bigint;
  stakersWei: bigint;
  /** The contributors' pool (paid out, or unallocated when no contributor had positive influence). */
  contributorsWei: bigint;
  /** Per contributor (null-prototype record): their part of the pool, 0n for non-positive influence. */
  contributorAmounts: Record<string, bigint>;
  /** Pool not paid to anyone (the reason says why); the operator decides where it goes. */
  unallocatedWei: bigint;
  /** True when the contributors' pool was paid out. */
  paid: boolean;
  reason: UnpaidReason | null;
  /** Contributors with net negative influence (paid 0n). */
  flagged: string[];
  feeModel: FeeModel;
}

/**
 * Prices one answer and splits the fee (see the module comment). `contributorScores` are the answer's net influence per
 * contributor (any scale; only the positive ones are paid, in proportion).
 *
 * @example
 * ```ts
 * import { resolveFeeModel, splitGenerationFee } from 'provenant/attribution';
 * const split = splitGenerationFee(resolveFeeModel(), { inputTokens: 20, outputTokens: 64, contributorScores: { alice: 3, bob: -1 } });
 * split.contributorAmounts.alice === split.contributorsWei; // bob had negative influence
 * ```
 */
export function splitGenerationFee(
  feeModel: FeeModel,
  usage: { inputTokens: number; outputTokens: number; contributorScores: ReadonlyMap<string, number> | Readonly<Record<string, number>> },
): GenerationFeeSplit {
  const model = resolveFeeModel(feeModel);
  const feeWei = inferenceFee(model, usage);
  const platformWei = (feeWei * BigInt(model.platformFeeBps)) / 10_000n;
  const rest = feeWei - platformWei;
  const parts = splitRewardDetailed(rest, { owner: model.ownerBps, stakers: model.stakersBps, contributors: model.contributorsBps });
  const contributorsWei = parts.amounts.contributors!;
  const scores = usage.contributorScores instanceof Map ? [...usage.contributorScores] : Object.entries(usage.contributorScores);
  const contributorAmounts = Object.create(null) as Record<string, bigint>;
  const shares = Object.create(null) as Record<string, number>;
  const flagged: string[] = [];
  for (const [key, score] of scores) {
    if (!Number.isFinite(score)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Contributor "${key}" has a non-finite influence score (${score}).`, { data: { contributor: key } });
    contributorAmounts[key] = 0n;
    if (score > 0) shares[key] = score;
    else if (score < 0) flagged.push(key);
  }
  flagged.sort();
  let reason: UnpaidReason | null = null;
  if (scores.length === 0) reason = 'no-contributors';
  else if (Object.keys(shares).length === 0) reason = 'no-positive-influence';
  else if (contributorsWei === 0n) reason = 'zero-fee';
  if (reason === null) {
    // Contributor ids are user data: split over fixed-width index keys in code-unit order of the ids (so the tie rule of
    // equal remainders — smaller key first — is the ids' order) and map back, never using an id as a property name.
    const keys = Object.keys(shares).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const width = String(keys.length).length;
    const safe = Object.create(null) as Record<string, number>;
    keys.forEach((key, i) => (safe[`c${String(i).padStart(width, '0')}`] = shares[key]!));
    const amounts = splitRewardDetailed(contributorsWei, safe).amounts;
    keys.forEach((key, i) => (contributorAmounts[key] = amounts[`c${String(i).padStart(width, '0')}`]!));
  }
  return {
    feeWei,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    platformWei,
    ownerWei: parts.amounts.owner!,
    stakersWei: parts.amounts.stakers!,
    contributorsWei,
    contributorAmounts,
    unallocatedWei: reason === null || reason === 'zero-fee' ? 0n : contributorsWei,
    paid: reason === null,
    reason,
    flagged,
    feeModel: model,
  };
}
