/**
 * Adapters on a model: attach (with PEFT's initialisations), several named adapters on one base, switch the active
 * one(s), delete, and the trainable set the training loop optimises (with LoRA+ learning-rate groups).
 *
 * modules_to_save follows PEFT's `ModulesToSaveWrapper`: each adapter owns a full copy of the module (a new
 * classification head, say). The copy of the active adapter is loaded into the module's own variables (so the model's
 * forward pass and the fast gradient path are unchanged); the base's values and inactive adapters' copies wait in the
 * model's adapter state, and are swapped in exactly (byte copies) on `setActiveAdapters`.
 */
import { ProvenantError, assertArgument, createRng, resolve, type ParamTable, type Seed } from '../../core/index.js';
import { uniqueName, type Linear } from '../linear.js';
import { setBaseTrainable, type Model } from '../models/model.js';
import { tf, type Variable } from '../tf.js';
import { loraScale, resolveLoraConfig, type LoraConfig } from './config.js';
import { initialLoraFactors } from './init.js';
import { unmergeAdapter } from './merge.js';
import {
  adapterState,
  getAdapter,
  getLinear,
  readModuleValues,
  type AdapterRecord,
  type ModelAdapterState,
  type ModuleValues,
} from './registry.js';
import { checkPatternKeys, defaultTargetModules, moduleRankAlpha, resolveModulesToSave, resolveTargetModules } from './target-modules.js';

export interface AttachAdapterOptions {
  /** Seed of A's (and with `initLoraWeights: false`, B's) random initial values. Each module draws from its own stream. */
  seed: Seed;
  /** Make this the only active adapter (default true). With false, the active set is left as it is. */
  activate?: boolean;
}

/** One module's factors in tfjs layout: A [in, r], B [r, out], row-major. */
export interface LoraModuleWeights {
  A: Float32Array;
  B: Float32Array;
}

function assertAdapterName(model: Model, name: string): void {
  assertArgument(typeof name === 'string' && /^[A-Za-z0-9_-]+$/.test(name), 'name', 'an adapter name is letters, digits, "_" or "-" (it becomes part of weight keys)', name);
  if (adapterState(model).adapters.has(name)) {
    throw new ProvenantError('INVALID_ARGUMENT', `An adapter named "${name}" is already attached; delete it first or choose another name.`, { data: { adapter: name } });
  }
}

/** Writes `targetModules: null` out as the model's default, so a saved config names the modules it was trained on. */
function concreteConfig(model: Model, partial: Partial<LoraConfig> | LoraConfig): LoraConfig {
  const config = resolveLoraConfig(partial);
  return config.targetModules === null ? { ...config, targetModules: defaultTargetModules(model) } : config;
}

function checkModuleOverlap(model: Model, state: ModelAdapterState, modules: readonly string[], modulesToSave: readonly string[]): void {
  const both = modules.filter((m) => modulesToSave.includes(m));
  const clashes: string[] = both.map((m) => `${m}: both a LoRA target and in modulesToSave`);
  for (const other of state.adapters.values()) {
    for (const m of modules) if (other.modulesToSave.includes(m)) clashes.push(`${m}: LoRA target here, modules_to_save of adapter "${other.name}"`);
    for (const m of modulesToSave) if (other.modules.includes(m)) clashes.push(`${m}: modules_to_save here, LoRA target of adapter "${other.name}"`);
  }
  if (clashes.length > 0) {
    throw new ProvenantError('LORA_CONFIG_INVALID', `A module cannot carry LoRA factors and be a modules_to_save copy at once.`, {
      metaMessages: clashes,
      details: `PEFT forbids the same; on ${model.kind} choose one role per module.`,
      data: { fields: ['targetModules', 'modulesToSave'] },
    });
  }
}

function newVariable(values: Float32Array, shape: [number, number], name: string): Variable {
  const init = tf.tensor2d(values, shape, 'float32');
  const variable = tf.variable(init, true, uniqueName(name));
  init.dispose();
  return variable;
}

function assignValues(variable: Variable, values: Float32Array): void {
  const t = tf.tensor(values, variable.shape, 'float32');
  variable.assign(t);
  t.dispose();
}

const ACTIVATE_FIELD = { name: 'activate', default: true, meaning: 'Make this the only active adapter; false leaves the active set as it is.', aliases: ['set_active', 'setActive'] } as const;
/** The options of {@link attachAdapter} (unknown names refused with the nearest one; the seed is checked below). */
const ATTACH_ADAPTER_PARAMS: ParamTable = Object.freeze({
  name: 'attachAdapter',
  fields: [{ name: 'seed', default: null, meaning: "Seed of A's (and B's, without initLoraWeights) random initial values; required." }, ACTIVATE_FIELD],
});
/** The options of {@link attachAdapterWeights}; the modules_to_save copies are data. */
const ATTACH_ADAPTER_WEIGHTS_PARAMS: ParamTable = Object.freeze({ name: 'attachAdapterWeights', fields: [ACTIVATE_FIELD], inputs: ['modulesToSaveWeights'] });

/**
 * Attaches a new LoRA adapter: creates A and B on every target module (PEFT's initialisation, see `LoraInit`), gives it
 * a copy of every `modulesToSave` module, freezes the base weights, and by default makes it the only active adapter.
 * With `initLoraWeights: 'pissa' | 'olora'` the target modules' base kernels are replaced by their residuals (the
 * model's output is unchanged; its base-model hash is not).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for a bad or used adapter name, a missing seed, or an unknown option name
 *   (with the nearest one); `LORA_CONFIG_INVALID` and `LORA_TARGET_NOT_FOUND` for the LoRA config.
 * @example
 * ```ts
 * import { attachAdapter, createMlp, trainableVariables } from 'provenant/finetune';
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'default', { r: 4, alpha: 8, targetModules: ['fc1'], modulesToSave: ['fc2'] }, { seed: 7 });
 * trainableVariables(model); // fc1's A and B, and fc2's weight and bias
 * ```
 */
export function attachAdapter(model: Model, name: string, loraConfig: Partial<LoraConfig>, options: AttachAdapterOptions): void {
  assertAdapterName(model, name);
  if (options && typeof options === 'object') resolve(ATTACH_ADAPTER_PARAMS, options);
  assertArgument(options && (typeof options.seed === 'number' || typeof options.seed === 'string'), 'options.seed', 'attachAdapter needs a seed (number or string)', options?.seed);
  const config = concreteConfig(model, loraConfig);
  const state = adapterState(model);
  const modules = resolveTargetModules(model, config);
  checkPatternKeys(config, modules);
  const modulesToSave = resolveModulesToSave(model, config.modulesToSave);
  checkModuleOverlap(model, state, modules, modulesToSave);
  const reinit = config.initLoraWeights === 'pissa' || config.initLoraWeights === 'olora';
  if (reinit) {
    const merged = modules.filter((m) => getLinear(model, m).merged.length > 0);
    if (merged.length > 0) {
      throw new ProvenantError('LORA_CONFIG_INVALID', `${config.initLoraWeights} decomposes the base kernel; unmerge the adapters merged into ${merged.join(', ')} first.`, {
        data: { fields: ['initLoraWeights'], modules: merged },
      });
    }
  }
  const weights = new Map<string, LoraModuleWeights>();
  const initial = new Map<string, { kernel: Float32Array; residual: Float32Array; A: Float32Array; B: Float32Array }>();
  for (const m of modules) {
    const linear = getLinear(model, m);
    const { r, alpha } = moduleRankAlpha(config, m);
    const kernel = Float32Array.from(linear.kernel.dataSync() as Float32Array);
    const factors = initialLoraFactors(kernel, linear.inFeatures, linear.outFeatures, r, loraScale(alpha, r, config.useRslora), config.initLoraWeights, createRng(`${String(options.seed)}/${name}/${m}`));
    if (factors.residual) initial.set(m, { kernel, residual: factors.residual, A: Float32Array.from(factors.A), B: Float32Array.from(factors.B) });
    weights.set(m, { A: factors.A, B: factors.B });
  }
  // Only now, with every factor computed, replace kernels by their residuals: a failure above leaves the model untouched.
  for (const [m, { residual }] of initial) assignValues(getLinear(model, m).kernel, residual);
  const copies = new Map(modulesToSave.map((m) => [m, baseValuesOf(state, model, m)]));
  registerAdapter(model, name, config, modules, modulesToSave, weights, copies, reinit ? initial : undefined);
  if (options.activate !== false) setActiveAdapters(model, [name]);
}

/**
 * Attaches an adapter with given weights (A [in, r], B [r, out] per module, tfjs layout) — what loading a saved adapter
 * and weighted merging build on. The modules must be exactly those `config` targets: a missing one is
 * `ADAPTER_KEYS_MISSING`, an extra one `ADAPTER_KEYS_UNEXPECTED`, a wrong size `LORA_SHAPE_MISMATCH`.
 * `modulesToSaveWeights` gives the adapter's copy of each modules_to_save module (defaults to the base's values).
 * Every shape is checked before any variable is created, so a bad adapter leaves the model untouched. Base weights are
 * frozen; the adapter becomes the only active one unless `activate: false`.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` (bad or already used name, unknown option name), `LORA_CONFIG_INVALID`, `LORA_TARGET_NOT_FOUND`,
 * `ADAPTER_KEYS_MISSING`, `ADAPTER_KEYS_UNEXPECTED` (each listing the modules), `LORA_SHAPE_MISMATCH`.
 *
 * @example
 * ```ts
 * import { attachAdapterWeights, createMlp } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * const fc2 = { A: new Float32Array(32 * 2), B: new Float32Array(2 * 2) }; // A [in, r], B [r, out], row-major
 * attachAdapterWeights(model, 'loaded', { r: 2, alpha: 4, targetModules: ['fc2'] }, new Map([['fc2', fc2]]));
 * ```
 */
export function attachAdapterWeights(
  model: Model,
  name: string,
  loraConfig: Partial<LoraConfig>,
  weights: ReadonlyMap<string, LoraModuleWeights>,
  options: { activate?: boolean; modulesToSaveWeights?: ReadonlyMap<string, ModuleValues> } = {},
): void {
  assertAdapterName(model, name);
  resolve(ATTACH_ADAPTER_WEIGHTS_PARAMS, options);
  const config = concreteConfig(model, loraConfig);
  const state = adapterState(model);
  const modules = resolveTargetModules(model, config);
  const modulesToSave = resolveModulesToSave(model, config.modulesToSave);
  checkModuleOverlap(model, state, modules, modulesToSave);
  const missing = modules.filter((m) => !weights.has(m));
  if (missing.length > 0) {
    throw new ProvenantError('ADAPTER_KEYS_MISSING', `Adapter "${name}" lacks weights for ${missing.length} targeted module(s).`, {
      metaMessages: missing.map((m) => `missing: ${m}`),
      data: { keys: missing },
    });
  }
  const unexpected = [...weights.keys()].filter((m) => !modules.includes(m));
  if (unexpected.length > 0) {
    throw new ProvenantError('ADAPTER_KEYS_UNEXPECTED', `Adapter "${name}" has weights for ${unexpected.length} module(s) its config does not target.`, {
      metaMessages: unexpected.map((m) => `unexpected: ${m}`),
      data: { keys: unexpected },
    });
  }
  const copies = new Map<string, ModuleValues>();
  for (const m of modulesToSave) {
    const given = options.modulesToSaveWeights?.get(m);
    const linear = getLinear(model, m);
    if (given) {
      if (given.kernel.length !== linear.inFeatures * linear.outFeatures || (given.bias?.length ?? 0) !== (linear.bias ? linear.outFeatures : 0)) {
        throw new ProvenantError('LORA_SHAPE_MISMATCH', `modules_to_save copy of "${m}" does not fit its ${linear.inFeatures}×${linear.outFeatures} module.`, { data: { module: m } });
      }
      copies.set(m, { kernel: Float32Array.from(given.kernel), bias: given.bias ? Float32Array.from(given.bias) : null });
    } else {
      copies.set(m, baseValuesOf(state, model, m));
    }
  }
  registerAdapter(model, name, config, modules, modulesToSave, weights, copies);
  if (options.activate !== false) setActiveAdapters(model, [name]);
}

function registerAdapter(
  model: Model,
  name: string,
  config: LoraConfig,
  modules: string[],
  modulesToSave: string[],
  weights: ReadonlyMap<string, LoraModuleWeights>,
  copies: Map<string, ModuleValues>,
  initial?: AdapterRecord['initial'],
): void {
  // Validate every shape before creating any variable, so a bad adapter leaves the model untouched.
  const sizes = modules.map((m) => {
    const linear = getLinear(model, m);
    const { r, alpha } = moduleRankAlpha(config, m);
    const w = weights.get(m)!;
    if (w.A.length !== linear.inFeatures * r || w.B.length !== r * linear.outFeatures) {
      throw new ProvenantError('LORA_SHAPE_MISMATCH', `Adapter "${name}" on "${m}": A and B must be [${linear.inFeatures}, ${r}] and [${r}, ${linear.outFeatures}].`, {
        metaMessages: [`A has ${w.A.length} values, B has ${w.B.length}`],
        data: { module: m, r, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures },
      });
    }
    return { linear, r, scale: loraScale(alpha, r, config.useRslora) };
  });
  modules.forEach((m, i) => {
    const { linear, r, scale } = sizes[i]!;
    const w = weights.get(m)!;
    linear.adapters.set(name, {
      A: newVariable(w.A, [linear.inFeatures, r], `${m}.lora_A.${name}.weight`),
      B: newVariable(w.B, [r, linear.outFeatures], `${m}.lora_B.${name}.weight`),
      scale,
      dropout: config.dropout,
    });
  });
  const state = adapterState(model);
  const record: AdapterRecord = { name, config, modules, modulesToSave, savedCopies: copies, initial };
  state.adapters.set(name, record);
  for (const m of modulesToSave) if (!state.loadedCopy.has(m)) state.loadedCopy.set(m, null);
  setBaseTrainable(model, false);
  applyTrainability(model, state);
}

/** The base's own values of a module, wherever they are held now. */
function baseValuesOf(state: ModelAdapterState, model: Model, m: string): ModuleValues {
  const held = state.baseValues.get(m);
  const values = held ?? readModuleValues(getLinear(model, m));
  return { kernel: Float32Array.from(values.kernel), bias: values.bias ? Float32Array.from(values.bias) : null };
}

/** Loads `owner`'s copy (an adapter name, or null for the base's values) into a modules_to_save module's variables. */
function loadCopy(model: Model, state: ModelAdapterState, m: string, owner: string | null): void {
  const current = state.loadedCopy.get(m) ?? null;
  if (current === owner) return;
  const linear = getLinear(model, m);
  const live = readModuleValues(linear);
  if (current === null) state.baseValues.set(m, live);
  else state.adapters.get(current)?.savedCopies.set(m, live);
  const incoming = owner === null ? state.baseValues.get(m)! : state.adapters.get(owner)!.savedCopies.get(m)!;
  if (owner === null) state.baseValues.delete(m);
  else state.adapters.get(owner)!.savedCopies.delete(m);
  assignValues(linear.kernel, incoming.kernel);
  if (linear.bias && incoming.bias) assignValues(linear.bias, incoming.bias);
  state.loadedCopy.set(m, owner);
}

function applyTrainability(model: Model, state: ModelAdapterState): void {
  for (const [m, owner] of state.loadedCopy) {
    const linear = getLinear(model, m);
    linear.kernel.trainable = owner !== null;
    if (linear.bias) linear.bias.trainable = owner !== null;
  }
}

/**
 * Sets the active adapters: their LoRA updates add up in the forward pass (PEFT's multi-adapter inference). At most one
 * of them may own a copy of any given modules_to_save module (as in PEFT). `[]` runs the base model. Each module's
 * modules_to_save values are swapped in exactly (byte copies), and only the active adapters' factors and copies are
 * trainable afterwards.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` for a name not attached; `INVALID_ARGUMENT` for a name listed twice or two
 * adapters owning a copy of the same module.
 *
 * @example
 * ```ts
 * import { activeAdapters, setActiveAdapters, type Model } from 'provenant/finetune';
 *
 * declare const model: Model; // with adapters 'spam' and 'tone' attached
 * setActiveAdapters(model, ['spam', 'tone']); // y = x·W + s₁·x·A₁B₁ + s₂·x·A₂B₂
 * activeAdapters(model); // ['spam', 'tone']
 * ```
 */
export function setActiveAdapters(model: Model, names: readonly string[]): void {
  const state = adapterState(model);
  const records = names.map((n) => getAdapter(model, n));
  assertArgument(new Set(names).size === names.length, 'names', 'an adapter is listed twice', names);
  const owners = new Map<string, string>();
  for (const record of records) {
    for (const m of record.modulesToSave) {
      const previous = owners.get(m);
      if (previous) {
        throw new ProvenantError('INVALID_ARGUMENT', `Adapters "${previous}" and "${record.name}" both own a copy of "${m}"; only one of them can be active.`, {
          data: { module: m, adapters: [previous, record.name] },
        });
      }
      owners.set(m, record.name);
    }
  }
  for (const linear of model.linears.values()) linear.active = names.filter((n) => linear.adapters.has(n));
  for (const m of state.loadedCopy.keys()) loadCopy(model, state, m, owners.get(m) ?? null);
  state.active = [...names];
  applyTrainability(model, state);
}

/**
 * Makes one adapter the only active one (PEFT's `set_adapter`): `setActiveAdapters(model, [name])`.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` when no adapter of that name is attached.
 *
 * @example
 * ```ts
 * import { setActiveAdapter, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * setActiveAdapter(model, 'spam'); // the forward pass now uses only 'spam'
 * ```
 */
export function setActiveAdapter(model: Model, name: string): void {
  setActiveAdapters(model, [name]);
}

/**
 * Turns every adapter off: the forward pass is the base model's (merged adapters stay merged; unmerge them for the
 * exact base), and nothing is trainable until an adapter is activated again. Adapters stay attached.
 *
 * @example
 * ```ts
 * import { disableAdapters, setActiveAdapter, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * disableAdapters(model); // evaluate the base model
 * setActiveAdapter(model, 'spam'); // and back to the tuned one
 * ```
 */
export function disableAdapters(model: Model): void {
  setActiveAdapters(model, []);
}

/**
 * The active adapter names, in activation order (a copy: changing it changes nothing).
 *
 * @example
 * ```ts
 * import { activeAdapters, attachAdapter, createMlp } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'spam', { r: 4, targetModules: ['fc1'] }, { seed: 7 });
 * activeAdapters(model); // ['spam']: a new adapter becomes the only active one
 * ```
 */
export function activeAdapters(model: Model): string[] {
  return [...adapterState(model).active];
}

/**
 * Every attached adapter's name, in attachment order, active or not (a copy).
 *
 * @example
 * ```ts
 * import { attachAdapter, createMlp, listAdapters } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'spam', { r: 4, targetModules: ['fc1'] }, { seed: 7 });
 * attachAdapter(model, 'tone', { r: 2, targetModules: ['fc1'] }, { seed: 8 });
 * listAdapters(model); // ['spam', 'tone']  (activeAdapters: ['tone'])
 * ```
 */
export function listAdapters(model: Model): string[] {
  return [...adapterState(model).adapters.keys()];
}

export interface AdapterInfo {
  name: string;
  /** The resolved config (targetModules written out). */
  config: LoraConfig;
  modules: string[];
  modulesToSave: string[];
  /** Trainable parameters: Σ r·(in + out) over target modules plus the modules_to_save copies. */
  parameterCount: number;
}

/**
 * An attached adapter's resolved config, modules and trainable-parameter count (for the audit record).
 *
 * @example
 * ```ts
 * import { getAdapterInfo, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * getAdapterInfo(model, 'default').parameterCount; // Σ r·(in + out) + modules_to_save sizes
 * ```
 */
export function getAdapterInfo(model: Model, name: string): AdapterInfo {
  const record = getAdapter(model, name);
  let parameterCount = 0;
  for (const m of record.modules) {
    const linear = getLinear(model, m);
    parameterCount += moduleRankAlpha(record.config, m).r * (linear.inFeatures + linear.outFeatures);
  }
  for (const m of record.modulesToSave) {
    const linear = getLinear(model, m);
    parameterCount += linear.inFeatures * linear.outFeatures + (linear.bias ? linear.outFeatures : 0);
  }
  return { name, config: structuredClone(record.config) as LoraConfig, modules: [...record.modules], modulesToSave: [...record.modulesToSave], parameterCount };
}

/**
 * This adapter's copy of a modules_to_save module, as values (from the variables when it is loaded, else from storage).
 * @internal for saving and hashing.
 */
export function modulesToSaveValues(model: Model, name: string, m: string): ModuleValues {
  const state = adapterState(model);
  const record = getAdapter(model, name);
  if (state.loadedCopy.get(m) === name) return readModuleValues(getLinear(model, m));
  const saved = record.savedCopies.get(m);
  if (!saved) throw new ProvenantError('LORA_TARGET_NOT_FOUND', `Adapter "${name}" has no modules_to_save copy of "${m}".`, { data: { module: m } });
  return saved;
}

/**
 * The base model's own values of a module: the modules_to_save original while an adapter's copy is loaded; otherwise
 * the live kernel, or the exact kernel before the first merge while adapters are merged into it.
 * @internal for hashing.
 */
export function baseModuleValues(model: Model, m: string): ModuleValues {
  const state = adapterState(model);
  const held = state.baseValues.get(m);
  if (held) return held;
  const live = readModuleValues(getLinear(model, m));
  const merges = state.merges.get(m);
  if (merges && merges.length > 0) return { kernel: merges[0]!.before, bias: live.bias };
  return live;
}

/**
 * Removes an adapter: unmerges it if merged, restores the base's values of its modules_to_save modules if its copy is
 * loaded, drops it from the active set, and frees its variables. A PiSSA/OLoRA adapter also gives back the original
 * kernels (exact bytes) of modules still holding the residual it left — so attach then delete changes nothing.
 * `tf.memory().numTensors` drops by the adapter's 2 variables per target module.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` when no adapter of that name is attached.
 *
 * @example
 * ```ts
 * import { deleteAdapter, listAdapters, type Model } from 'provenant/finetune';
 *
 * declare const model: Model; // adapters ['spam', 'tone']
 * deleteAdapter(model, 'tone');
 * listAdapters(model); // ['spam']
 * ```
 */
export function deleteAdapter(model: Model, name: string): void {
  const record = getAdapter(model, name);
  const state = adapterState(model);
  if (record.modules.some((m) => getLinear(model, m).merged.includes(name))) unmergeAdapter(model, name);
  for (const m of record.modulesToSave) if (state.loadedCopy.get(m) === name) loadCopy(model, state, m, null);
  for (const [m, initial] of record.initial ?? []) {
    const kernel = getLinear(model, m).kernel;
    const current = new Uint32Array(Float32Array.from(kernel.dataSync() as Float32Array).buffer);
    const residual = new Uint32Array(initial.residual.buffer, initial.residual.byteOffset, initial.residual.length);
    if (current.every((bits, i) => bits === residual[i])) assignValues(kernel, initial.kernel);
  }
  for (const m of record.modules) {
    const linear: Linear = getLinear(model, m);
    const weights = linear.adapters.get(name);
    weights?.A.dispose();
    weights?.B.dispose();
    linear.adapters.delete(name);
    linear.active = linear.active.filter((n) => n !== name);
  }
  state.adapters.delete(name);
  state.active = state.active.filter((n) => n !== name);
  for (const m of record.modulesToSave) {
    if (![...state.adapters.values()].some((a) => a.modulesToSave.includes(m))) state.loadedCopy.delete(m);
  }
  applyTrainability(model, state);
  for (const m of record.modulesToSave) {
    if (!state.loadedCopy.has(m)) {
      const linear = getLinear(model, m);
      linear.kernel.trainable = false;
      if (linear.bias) linear.bias.trainable = false;
    }
  }
}

/** One trainable variable with its optimiser settings. */
export interface ParameterGroup {
  /** PEFT-style name: `fc1.lora_A.default.weight`, `classifier.modules_to_save.default.weight`, or a base weight's name. */
  name: string;
  variable: Variable;
  /** Multiply the base learning rate by this (LoRA+: `loraPlusLrRatio` for B, 1 otherwise). */
  lrMultiplier: number;
  /**
   * Decoupled weight decay for this variable: 0 for vectors (biases are not decayed, as is customary); for matrices the
   * `weightDecay` passed to `parameterGroups`, or undefined (= the optimizer's own rate) when none was passed.
   */
  weightDecay?: number;
}

/** The options of {@link parameterGroups}. */
const PARAMETER_GROUPS_PARAMS: ParamTable = Object.freeze({
  name: 'parameterGroups',
  fields: [{ name: 'weightDecay', default: null, meaning: 'Decoupled weight decay of the adapter factors; null: none set here.', aliases: ['weight_decay'] }],
});

/**
 * What the training loop optimises, with learning-rate multipliers and weight decay: every base weight still trainable
 * (all of them when no adapter is attached — full fine-tuning; after `attachAdapter` only the active adapters'
 * modules_to_save copies), then A and B of every active, unmerged adapter. B gets `loraPlusLrRatio` × the learning
 * rate (LoRA+, Hayou et al. 2024, §3: ηB = λ·ηA). Order is deterministic (model order, then adapter activation order).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `weightDecay` is negative or not finite, or for an unknown option name
 *   (with the nearest one).
 *
 * @example
 * ```ts
 * import { attachAdapter, createMlp, parameterGroups } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'spam', { r: 4, alpha: 8, targetModules: ['fc1'], loraPlusLrRatio: 16 }, { seed: 7 });
 * parameterGroups(model, { weightDecay: 0.01 }).map((g) => [g.name, g.lrMultiplier]);
 * // [['fc1.lora_A.spam.weight', 1], ['fc1.lora_B.spam.weight', 16]]
 * ```
 */
export function parameterGroups(model: Model, options: { weightDecay?: number } = {}): ParameterGroup[] {
  resolve(PARAMETER_GROUPS_PARAMS, options);
  const weightDecay = options.weightDecay;
  if (weightDecay !== undefined) {
    assertArgument(Number.isFinite(weightDecay) && weightDecay >= 0, 'options.weightDecay', 'must be a non-negative number', weightDecay);
  }
  const groups: ParameterGroup[] = [];
  const state = adapterState(model);
  // A loaded modules_to_save copy is named as PEFT names it in memory: `<module>.modules_to_save.<adapter>.<weight|bias>`.
  const copyNames = new Map<Variable, string>();
  for (const [m, owner] of state.loadedCopy) {
    if (owner === null) continue;
    const linear = getLinear(model, m);
    copyNames.set(linear.kernel, `${m}.modules_to_save.${owner}.weight`);
    if (linear.bias) copyNames.set(linear.bias, `${m}.modules_to_save.${owner}.bias`);
  }
  for (const [name, variable] of model.weights) {
    if (variable.trainable) groups.push({ name: copyNames.get(variable) ?? name, variable, lrMultiplier: 1, weightDecay: variable.rank >= 2 ? weightDecay : 0 });
  }
  for (const [m, linear] of model.linears) {
    for (const adapter of linear.active) {
      if (linear.merged.includes(adapter)) continue;
      const weights = linear.adapters.get(adapter);
      const record = state.adapters.get(adapter);
      if (!weights) continue;
      if (weights.A.trainable) groups.push({ name: `${m}.lora_A.${adapter}.weight`, variable: weights.A, lrMultiplier: 1, weightDecay });
      if (weights.B.trainable) {
        groups.push({ name: `${m}.lora_B.${adapter}.weight`, variable: weights.B, lrMultiplier: record?.config.loraPlusLrRatio ?? 1, weightDecay });
      }
    }
  }
  return groups;
}

/**
 * The variables `parameterGroups` lists, in the same order (for `tf.variableGrads` or an optimiser's `minimize`): after
 * `attachAdapter`, A [in, r] and B [r, out] of each active adapter's target modules plus its modules_to_save copies;
 * with no adapter, every base weight (full fine-tuning).
 *
 * @example
 * ```ts
 * import { attachAdapter, createMlp, trainableVariables } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'spam', { r: 4, targetModules: ['fc1'] }, { seed: 7 });
 * trainableVariables(model).map((v) => v.shape); // [[16, 4], [4, 32]]
 * ```
 */
export function trainableVariables(model: Model): Variable[] {
  return parameterGroups(model).map((g) => g.variable);
}
