/**
 * `LoraConfig`: a plain object, validated by one function, with every field's default and reason in one table
 * (`LORA_CONFIG_FIELDS`) that the audit record prints. Field meanings follow PEFT's `LoraConfig` (names in camelCase;
 * `../io/peft.ts` maps them to PEFT's snake_case) so an adapter trained here means the same thing in PyTorch.
 */
import { ProvenantError, describeValue, nearestField } from '../../core/index.js';

/**
 * How A and B start (PEFT's `init_lora_weights`):
 * - `true`: A Kaiming-uniform (bound 1/√in, PyTorch's `nn.Linear` default), B = 0 — the adapter starts as the identity
 *   update (Hu et al. 2021, §4.1).
 * - `'gaussian'`: A ~ N(0, 1/r²), B = 0.
 * - `'pissa'`: A·B holds the r principal singular directions of W and W is replaced by its residual (Meng et al. 2024,
 *   PiSSA, eq. 2–3); the model's output is unchanged at step 0, the base weights are not.
 * - `'olora'`: A·B from the first r columns of W's QR factorisation, W replaced by its residual (Büyükakyüz 2024, OLoRA).
 * - `false`: A and B both Kaiming-uniform, so the adapter changes the output at once (for tests).
 */
export type LoraInit = boolean | 'gaussian' | 'pissa' | 'olora';

/** `targetModules`: module names (exact path, or a suffix after a `.` as PEFT matches), one regex matched against the
 * whole path, `'all-linear'` (every linear module except the output head), or `null` for the model kind's default. */
export type LoraTargetModules = readonly string[] | string | null;

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: LoraTargetModules;
  useRslora: boolean;
  loraPlusLrRatio: number;
  initLoraWeights: LoraInit;
  rankPattern: Readonly<Record<string, number>>;
  alphaPattern: Readonly<Record<string, number>>;
  modulesToSave: readonly string[];
}

/** One row of the table of LoRA fields: name, default, PEFT name, one-line meaning. */
export interface LoraConfigField {
  field: keyof LoraConfig;
  default: unknown;
  /** The key in PEFT's `adapter_config.json` (null where PEFT has none). */
  peftName: string | null;
  meaning: string;
}

/**
 * Every LoRA field with its default and what it does — the table the audit record prints, so no parameter's effect is
 * undocumented. `resolveLoraConfig` fills defaults from this table and nowhere else.
 */
export const LORA_CONFIG_FIELDS: readonly LoraConfigField[] = Object.freeze([
  { field: 'r', default: 8, peftName: 'r', meaning: 'Rank of the update A·B: trainable parameters per module are r·(in + out).' },
  { field: 'alpha', default: 8, peftName: 'lora_alpha', meaning: 'Scale numerator: the update is multiplied by alpha/r (alpha/√r with rsLoRA), so alpha = r means scale 1.' },
  { field: 'dropout', default: 0, peftName: 'lora_dropout', meaning: 'Dropout probability on the adapter input during training; 0 makes training deterministic given the data order.' },
  { field: 'targetModules', default: null, peftName: 'target_modules', meaning: "Modules that get adapters: names or '.'-suffixes, a regex, 'all-linear' (all but the output head), or null = the model's default (q_proj, v_proj for the transformer, as in Hu et al. 2021 §7.1; every linear module for LR and MLP)." },
  { field: 'useRslora', default: false, peftName: 'use_rslora', meaning: 'Scale by alpha/√r instead of alpha/r (rank-stabilised LoRA, Kalajdzievski 2023), which keeps learning stable as r grows.' },
  { field: 'loraPlusLrRatio', default: 1, peftName: null, meaning: 'Learning-rate multiplier for B relative to A (LoRA+, Hayou et al. 2024, who suggest 16); 1 = plain LoRA.' },
  { field: 'initLoraWeights', default: true, peftName: 'init_lora_weights', meaning: "How A and B start: true = A Kaiming-uniform, B zero (output unchanged at step 0); 'gaussian'; 'pissa' (SVD) or 'olora' (QR) move principal directions of W into A·B and leave W's residual." },
  { field: 'rankPattern', default: {}, peftName: 'rank_pattern', meaning: 'Per-module rank overrides: module name or regex → r.' },
  { field: 'alphaPattern', default: {}, peftName: 'alpha_pattern', meaning: 'Per-module alpha overrides: module name or regex → alpha.' },
  { field: 'modulesToSave', default: [], peftName: 'modules_to_save', meaning: 'Modules trained in full as a per-adapter copy (e.g. a new classification head) and saved with the adapter.' },
]);

/**
 * The largest alpha accepted. Published configs use alpha ≤ a few hundred; a value like 1e308 scales the update past
 * float32's range (every output Inf/NaN), so anything beyond this is refused as a corrupt or hostile config.
 */
export const MAX_LORA_ALPHA = 1e6;

const FIELD_NAMES = new Set(LORA_CONFIG_FIELDS.map((f) => f.field as string));

const cloneDefault = (value: unknown): unknown => (Array.isArray(value) ? [...value] : value && typeof value === 'object' ? { ...value } : value);

/**
 * The full config: defaults from `LORA_CONFIG_FIELDS` for every field not given, then validated by `validateLoraConfig`.
 *
 * @example
 * ```ts
 * import { resolveLoraConfig } from 'provenant/finetune';
 * const config = resolveLoraConfig({ r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] });
 * config.dropout; // 0
 * ```
 */
export function resolveLoraConfig(partial: Partial<LoraConfig> = {}): LoraConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new ProvenantError('LORA_CONFIG_INVALID', `A LoRA config must be an object, got ${describeValue(partial)}.`);
  }
  const full: Record<string, unknown> = {};
  for (const { field, default: value } of LORA_CONFIG_FIELDS) {
    const given = (partial as Record<string, unknown>)[field];
    full[field] = given === undefined ? cloneDefault(value) : given;
  }
  const unknown = Object.keys(partial).filter((k) => !FIELD_NAMES.has(k));
  validateLoraConfig(full, unknown);
  const config = full as unknown as LoraConfig;
  return {
    ...config,
    targetModules: Array.isArray(config.targetModules) ? [...config.targetModules] : config.targetModules,
    rankPattern: { ...config.rankPattern },
    alphaPattern: { ...config.alphaPattern },
    modulesToSave: [...config.modulesToSave],
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function regexProblem(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Checks every field of a full config and throws one `LORA_CONFIG_INVALID` naming each bad field (in `metaMessages`
 * and `data.fields`), so a user fixes them all at once. `unknownFields` (names the caller found outside
 * `LORA_CONFIG_FIELDS`) are reported too, with a "did you mean" for near-misses and PEFT's snake_case names
 * (`lora_alpha` → `alpha`). Rules: r a positive integer; 0 < alpha ≤ `MAX_LORA_ALPHA`; dropout in [0, 1); targetModules
 * a non-empty name list, a valid regex, `'all-linear'` or null; patterns map valid regex keys to positive numbers.
 *
 * @throws ProvenantError `LORA_CONFIG_INVALID` (`docsPath` `#lora-parameters`) listing every bad field.
 *
 * @example
 * ```ts
 * import { ProvenantError } from 'provenant';
 * import { resolveLoraConfig, validateLoraConfig } from 'provenant/finetune';
 *
 * const config: Record<string, unknown> = { ...resolveLoraConfig(), r: 0, dropout: 1.5 };
 * try {
 *   validateLoraConfig(config);
 * } catch (error) {
 *   if (error instanceof ProvenantError) error.data.fields; // ['r', 'dropout']
 * }
 * ```
 */
export function validateLoraConfig(config: Record<string, unknown>, unknownFields: string[] = []): asserts config is LoraConfig & Record<string, unknown> {
  // PEFT's snake_case names (`lora_alpha`, `target_modules`) and near-misses get a "did you mean" from the one mechanism.
  const peftNames = new Map(LORA_CONFIG_FIELDS.flatMap((f) => (f.peftName ? [[f.peftName, f.field as string] as [string, string]] : [])));
  const problems: Array<[string, string]> = unknownFields.map((f) => {
    const near = nearestField(f, [...FIELD_NAMES], peftNames);
    return [f, `unknown field${near ? ` (did you mean "${near}"?)` : ''} (known: ${[...FIELD_NAMES].join(', ')})`];
  });
  const { r, alpha, dropout, targetModules, useRslora, loraPlusLrRatio, initLoraWeights, rankPattern, alphaPattern, modulesToSave } = config;
  if (!Number.isSafeInteger(r) || (r as number) < 1) problems.push(['r', `must be a positive integer, got ${describeValue(r)}`]);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0 || alpha > MAX_LORA_ALPHA) {
    problems.push(['alpha', `must be a positive finite number ≤ ${MAX_LORA_ALPHA}, got ${describeValue(alpha)}`]);
  }
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) problems.push(['dropout', `must be in [0, 1), got ${describeValue(dropout)}`]);
  if (targetModules !== null) {
    if (typeof targetModules === 'string') {
      const problem = targetModules === 'all-linear' ? null : targetModules === '' ? 'is empty' : regexProblem(targetModules);
      if (problem) problems.push(['targetModules', `is not a valid regex: ${problem}`]);
    } else if (!Array.isArray(targetModules) || targetModules.length === 0 || !targetModules.every((t) => typeof t === 'string' && t.length > 0)) {
      problems.push(['targetModules', `must be a non-empty array of module names, a regex string, 'all-linear' or null, got ${describeValue(targetModules)}`]);
    }
  }
  if (typeof useRslora !== 'boolean') problems.push(['useRslora', `must be a boolean, got ${describeValue(useRslora)}`]);
  if (typeof loraPlusLrRatio !== 'number' || !Number.isFinite(loraPlusLrRatio) || loraPlusLrRatio <= 0) {
    problems.push(['loraPlusLrRatio', `must be a positive finite number, got ${describeValue(loraPlusLrRatio)}`]);
  }
  if (!(typeof initLoraWeights === 'boolean' || initLoraWeights === 'gaussian' || initLoraWeights === 'pissa' || initLoraWeights === 'olora')) {
    problems.push(['initLoraWeights', `must be true, false, 'gaussian', 'pissa' or 'olora', got ${describeValue(initLoraWeights)}`]);
  }
  for (const [field, pattern, integer] of [['rankPattern', rankPattern, true], ['alphaPattern', alphaPattern, false]] as const) {
    if (!isPlainObject(pattern)) {
      problems.push([field, `must be an object of module pattern → number, got ${describeValue(pattern)}`]);
      continue;
    }
    for (const [key, value] of Object.entries(pattern)) {
      const ok = integer ? Number.isSafeInteger(value) && (value as number) >= 1 : typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_LORA_ALPHA;
      if (!ok) problems.push([field, `"${key}" must map to a positive ${integer ? 'integer' : 'number'}, got ${describeValue(value)}`]);
      const problem = regexProblem(key);
      if (problem) problems.push([field, `key "${key}" is not a valid regex: ${problem}`]);
    }
  }
  if (!Array.isArray(modulesToSave) || !modulesToSave.every((m) => typeof m === 'string' && m.length > 0)) {
    problems.push(['modulesToSave', `must be an array of module names, got ${describeValue(modulesToSave)}`]);
  }
  if (problems.length > 0) {
    const fields = [...new Set(problems.map(([f]) => f))];
    throw new ProvenantError('LORA_CONFIG_INVALID', `Invalid LoRA config: ${fields.join(', ')}.`, {
      metaMessages: problems.map(([f, m]) => `${f}: ${m}`),
      data: { fields },
      docsPath: '#lora-parameters',
    });
  }
}

/**
 * The scale s of the update s·A·B: alpha/r (Hu et al. 2021, §4.1), or alpha/√r with rsLoRA (Kalajdzievski 2023, eq. 5).
 *
 * @example
 * ```ts
 * import { loraScale } from 'provenant/finetune';
 *
 * loraScale(16, 8, false); // 2
 * loraScale(16, 16, true); // 4  (rsLoRA: 16 / √16)
 * ```
 */
export function loraScale(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** One row of a config as the audit record prints it. */
export interface LoraConfigRow {
  field: keyof LoraConfig;
  value: unknown;
  default: unknown;
  /** True when the value equals the default (compared as JSON). */
  isDefault: boolean;
  peftName: string | null;
  meaning: string;
}

/**
 * Every field of a config beside its default and meaning, in `LORA_CONFIG_FIELDS` order — the table the audit record
 * prints, so a reader sees what was chosen and what was left at its default.
 *
 * @example
 * ```ts
 * import { describeLoraConfig } from 'provenant/finetune';
 * describeLoraConfig({ r: 16 }).filter((row) => !row.isDefault); // [{ field: 'r', value: 16, default: 8, … }]
 * ```
 */
export function describeLoraConfig(config: Partial<LoraConfig>): LoraConfigRow[] {
  const full = resolveLoraConfig(config);
  return LORA_CONFIG_FIELDS.map((row) => ({
    field: row.field,
    value: full[row.field],
    default: row.default,
    isDefault: JSON.stringify(full[row.field]) === JSON.stringify(row.default),
    peftName: row.peftName,
    meaning: row.meaning,
  }));
}
