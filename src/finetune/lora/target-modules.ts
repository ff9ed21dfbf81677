/**
 * Which modules an adapter targets, and per-module rank and alpha — matched the way PEFT matches them
 * (`peft.tuners.tuners_utils.check_target_module_exists`, `peft.utils.other.get_pattern_key`), so a config means the
 * same module set here and in PyTorch.
 */
import { ProvenantError, nearestField } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { LoraConfig, LoraTargetModules } from './config.js';

/** Names that are output heads wherever they appear (PEFT's `all-linear` leaves the output layer out). */
const HEAD_NAMES = ['lm_head', 'classifier', 'score'];

const endsWithModule = (name: string, target: string): boolean => name === target || name.endsWith(`.${target}`);

/**
 * The output head(s) of a model, which `'all-linear'` leaves out as PEFT does: `lm_head`, `classifier` or `score`
 * anywhere in the tree, and for the LR and MLP of the zoo their last linear module (the logits layer).
 *
 * @example
 * ```ts
 * import { createMlp, loadBaseModel, outputHeadModules } from 'provenant/finetune';
 *
 * outputHeadModules(createMlp({ inputSize: 784, hiddenSizes: [128], numClasses: 10, seed: 1 })); // Set { 'fc2' }
 * outputHeadModules(await loadBaseModel()); // Set { 'lm_head' }
 * ```
 */
export function outputHeadModules(model: Model): Set<string> {
  const names = [...model.linears.keys()];
  const heads = new Set(names.filter((n) => HEAD_NAMES.some((h) => endsWithModule(n, h))));
  if ((model.kind === 'mlp' || model.kind === 'logistic-regression') && names.length > 0) heads.add(names[names.length - 1]!);
  return heads;
}

/**
 * The model kind's default targets (used when `targetModules` is null): q_proj and v_proj for the transformer (Hu et al.
 * 2021, §7.1, found adapting Wq and Wv the best use of a fixed parameter budget); PEFT's own default for a Hugging Face
 * checkpoint (`c_attn` for GPT-2, q_proj/v_proj for the Llama family, query/value for BERT); every linear module for LR
 * and MLP. Names match as `.`-suffixes (see `isTargetModule`).
 *
 * @example
 * ```ts
 * import { createMlp, defaultTargetModules, loadBaseModel } from 'provenant/finetune';
 *
 * defaultTargetModules(await loadBaseModel()); // ['q_proj', 'v_proj']
 * defaultTargetModules(createMlp({ inputSize: 784, hiddenSizes: [128], numClasses: 10, seed: 1 })); // ['fc1', 'fc2']
 * ```
 */
export function defaultTargetModules(model: Model): string[] {
  if (model.kind === 'transformer') return ['q_proj', 'v_proj'];
  // Hugging Face models carry PEFT's own default (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): c_attn for GPT-2,
  // q_proj/v_proj for the Llama family, query/value for BERT.
  const hfDefault = (model as { defaultTargetModules?: readonly string[] }).defaultTargetModules;
  if (hfDefault) return [...hfDefault];
  return [...model.linears.keys()];
}

/**
 * Whether one module path is a target, as PEFT's `check_target_module_exists` decides: a list matches a name exactly or
 * as a `.`-suffix; a string is a regex that must match the whole path; `'all-linear'` is every module not in `heads`.
 *
 * @example
 * ```ts
 * import { isTargetModule } from 'provenant/finetune';
 *
 * isTargetModule(['q_proj'], 'blocks.0.attn.q_proj'); // true
 * isTargetModule('.*\\.(q|v)_proj', 'blocks.1.attn.v_proj'); // true
 * isTargetModule('all-linear', 'fc2', new Set(['fc2'])); // false: the output head
 * ```
 */
export function isTargetModule(targets: Exclude<LoraTargetModules, null>, moduleName: string, heads?: ReadonlySet<string>): boolean {
  if (targets === 'all-linear') return !(heads ?? new Set()).has(moduleName);
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(moduleName);
  return targets.some((t) => endsWithModule(moduleName, t));
}

/**
 * The module paths (in the model's order) an adapter with this config attaches to. A listed name that matches no module,
 * or a config that matches none at all, is `LORA_TARGET_NOT_FOUND` listing the model's modules — a typo must not train
 * nothing. `targetModules: null` means the model's `defaultTargetModules`; `'all-linear'` leaves out `outputHeadModules`.
 *
 * @throws ProvenantError `LORA_TARGET_NOT_FOUND` naming each unmatched name (`data.unmatched`) and the model's modules.
 *
 * @example
 * ```ts
 * import { loadBaseModel, resolveTargetModules } from 'provenant/finetune';
 *
 * const model = await loadBaseModel();
 * resolveTargetModules(model, { targetModules: ['q_proj', 'v_proj'], modulesToSave: [] });
 * // ['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'blocks.1.attn.q_proj', 'blocks.1.attn.v_proj']
 * ```
 */
export function resolveTargetModules(model: Model, config: Pick<LoraConfig, 'targetModules' | 'modulesToSave'>): string[] {
  const names = [...model.linears.keys()];
  const targets = config.targetModules ?? defaultTargetModules(model);
  const heads = outputHeadModules(model);
  const matched = names.filter((n) => isTargetModule(targets, n, heads));
  const available = `modules: ${names.join(', ')}`;
  if (Array.isArray(targets)) {
    const unmatched = targets.filter((t) => !names.some((n) => endsWithModule(n, t)));
    if (unmatched.length > 0) {
      throw new ProvenantError('LORA_TARGET_NOT_FOUND', `targetModules names ${unmatched.length} module(s) this ${model.kind} does not have.`, {
        metaMessages: [...unmatched.map((t) => `not found: ${t}`), available],
        data: { unmatched, modules: names },
      });
    }
  }
  if (matched.length === 0) {
    const hint = typeof targets === 'string' && targets !== 'all-linear' ? regexHint(targets, names) : null;
    throw new ProvenantError('LORA_TARGET_NOT_FOUND', `targetModules ${JSON.stringify(targets)} matches no module of this ${model.kind}${hint ? ` (did you mean ${hint.suggestions.join(' or ')}?)` : ''}.`, {
      metaMessages: [available, ...(targets === 'all-linear' ? [`'all-linear' leaves out the output head(s): ${[...heads].join(', ')}`] : []), ...(hint ? [hint.why] : [])],
      data: { modules: names, ...(hint ? { suggestions: hint.suggestions } : {}) },
    });
  }
  return matched;
}

/**
 * A string `targetModules` is a regex over the whole module path (PEFT's `re.fullmatch`), so `'q_proj'` matches no
 * `model.layers.0.self_attn.q_proj`. When the same text would match as a list entry (a name or `.`-suffix) or as a
 * path-tail regex, the suggestions are those two spellings, in the form the user would type them.
 */
function regexHint(target: string, names: readonly string[]): { suggestions: string[]; why: string } | null {
  let tail: RegExp;
  try {
    tail = new RegExp(`^(?:.*\\.)?(?:${target})$`);
  } catch {
    return null;
  }
  const hits = names.filter((n) => tail.test(n));
  if (hits.length === 0) return null;
  const asList = names.some((n) => endsWithModule(n, target)) ? [`[${JSON.stringify(target).replace(/"/g, "'")}]`] : [];
  return {
    suggestions: [...asList, `'.*${target.includes('|') ? `(?:${target})` : target}'`],
    why: `a string targetModules is a regex that must match the whole module path (PEFT's re.fullmatch); a list matches names and path suffixes. As a path tail it would match ${hits.length} module(s), e.g. ${hits[0]}`,
  };
}

/**
 * Head names PEFT adds to `modules_to_save` for every `SEQ_CLS` adapter (`PeftModelForSequenceClassification` lists both
 * `classifier` and `score`, whichever the model has); one the model lacks is skipped, as PEFT skips it.
 */
const PEFT_SEQ_CLS_HEADS = ['classifier', 'score'];

/**
 * The module paths `modulesToSave` names (exact or `.`-suffix), in the model's order; each must name a linear module —
 * except that of PEFT's two SEQ_CLS head names (`classifier`, `score`) the one the model lacks is skipped, as PEFT skips
 * it, when the other matches.
 *
 * @throws ProvenantError `LORA_TARGET_NOT_FOUND` naming each unmatched name and the model's modules.
 *
 * @example
 * ```ts
 * import { createTransformer, resolveModulesToSave } from 'provenant/finetune';
 *
 * const model = createTransformer({ vocabSize: 98, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, numClasses: 2, seed: 1 });
 * resolveModulesToSave(model, ['classifier', 'score']); // ['classifier']  ('score' skipped, as PEFT does)
 * ```
 */
export function resolveModulesToSave(model: Model, modulesToSave: readonly string[]): string[] {
  const names = [...model.linears.keys()];
  const matches = (t: string) => names.some((n) => endsWithModule(n, t));
  const headMatched = PEFT_SEQ_CLS_HEADS.some((h) => modulesToSave.includes(h) && matches(h));
  const unmatched = modulesToSave.filter((t) => !matches(t) && !(headMatched && PEFT_SEQ_CLS_HEADS.includes(t)));
  if (unmatched.length > 0) {
    throw new ProvenantError('LORA_TARGET_NOT_FOUND', `modulesToSave names ${unmatched.length} module(s) this ${model.kind} does not have.`, {
      metaMessages: [...unmatched.map((t) => `not found: ${t}`), `modules: ${names.join(', ')}`],
      data: { unmatched, modules: names },
    });
  }
  return names.filter((n) => modulesToSave.some((t) => endsWithModule(n, t)));
}

/**
 * A per-module override from `rankPattern`/`alphaPattern`: the first key, in the object's order, that matches as PEFT's
 * `get_pattern_key` matches (`re.match(rf"(.*\.)?({key})$", module)`: the key is a regex for the path's tail).
 */
export function patternValue(pattern: Readonly<Record<string, number>>, moduleName: string): number | undefined {
  for (const [key, value] of Object.entries(pattern)) {
    if (new RegExp(`^(?:.*\\.)?(?:${key})$`).test(moduleName)) return value;
  }
  return undefined;
}

/**
 * Refuses `rankPattern` / `alphaPattern` keys that match none of the adapter's target modules — PEFT 0.21 warns "The
 * following rank_pattern keys did not match any targeted module and were ignored"; a typo (`q_prj`) would silently
 * train at the default rank. Called by `attachAdapter` (a config the user wrote), not when loading a saved adapter,
 * whose config PEFT may have saved with such keys.
 *
 * @throws ProvenantError `LORA_TARGET_NOT_FOUND` naming each unmatched key with the nearest target module name.
 *
 * @example
 * ```ts
 * import { checkPatternKeys } from 'provenant/finetune';
 * checkPatternKeys({ rankPattern: { q_proj: 8 }, alphaPattern: {} }, ['model.layers.0.self_attn.q_proj']); // passes
 * ```
 */
export function checkPatternKeys(config: Pick<LoraConfig, 'rankPattern' | 'alphaPattern'>, modules: readonly string[]): void {
  const shortNames = [...new Set(modules.map((m) => m.slice(m.lastIndexOf('.') + 1)))];
  const problems: string[] = [];
  const unmatched: string[] = [];
  for (const field of ['rankPattern', 'alphaPattern'] as const) {
    for (const key of Object.keys(config[field])) {
      if (modules.some((m) => patternValue({ [key]: 0 }, m) !== undefined)) continue;
      const near = nearestField(key, shortNames);
      unmatched.push(`${field}.${key}`);
      problems.push(`${field}: key ${JSON.stringify(key)} matches no target module${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
    }
  }
  if (problems.length > 0) {
    throw new ProvenantError('LORA_TARGET_NOT_FOUND', `${unmatched.length} rankPattern/alphaPattern key(s) match none of the adapter's target modules.`, {
      metaMessages: [...problems, `target modules: ${modules.join(', ')}`],
      details: "A key is a regex for a module path's tail (PEFT's get_pattern_key); PEFT warns and ignores such keys, so the module would train at the default r / alpha.",
      data: { unmatched, modules: [...modules] },
    });
  }
}

/**
 * The rank and alpha of one module under a config: the first matching key of `rankPattern` / `alphaPattern` (in object
 * order, PEFT's `get_pattern_key`: the key is a regex for the path's tail) overrides `r` / `alpha`.
 *
 * @example
 * ```ts
 * import { moduleRankAlpha } from 'provenant/finetune';
 *
 * moduleRankAlpha({ r: 8, alpha: 16, rankPattern: { 'blocks\\.0\\..*': 4 }, alphaPattern: {} }, 'blocks.0.attn.q_proj'); // { r: 4, alpha: 16 }
 * ```
 */
export function moduleRankAlpha(config: Pick<LoraConfig, 'r' | 'alpha' | 'rankPattern' | 'alphaPattern'>, moduleName: string): { r: number; alpha: number } {
  return { r: patternValue(config.rankPattern, moduleName) ?? config.r, alpha: patternValue(config.alphaPattern, moduleName) ?? config.alpha };
}
