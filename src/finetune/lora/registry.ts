/**
 * The adapter state of a model that does not fit on its `Linear` modules: each adapter's config, its modules_to_save
 * copies, and the exact pre-merge kernels. It lives in a WeakMap keyed by the model object, so it is created with the
 * model's first adapter and collected with the model — per-model state, not process-wide configuration.
 */
import { ProvenantError } from '../../core/index.js';
import type { Linear } from '../linear.js';
import type { Model } from '../models/model.js';
import type { LoraConfig } from './config.js';

/** Values of one module's weights held outside its variables (row-major float32). */
export interface ModuleValues {
  kernel: Float32Array;
  bias: Float32Array | null;
}

export interface AdapterRecord {
  readonly name: string;
  /** The resolved config; `targetModules` is never null here (the model's default is written out at attach time). */
  readonly config: LoraConfig;
  /** Module paths carrying this adapter's A and B, in the model's order. */
  readonly modules: readonly string[];
  /** Module paths trained in full as this adapter's copy, in the model's order. */
  readonly modulesToSave: readonly string[];
  /** This adapter's copy of each modules_to_save module while that copy is not loaded in the module's variables. */
  readonly savedCopies: Map<string, ModuleValues>;
  /**
   * PiSSA/OLoRA only: per module, the kernel before it was replaced by its residual and the initial A₀, B₀ — what
   * converting the adapter to a plain LoRA for the original base needs.
   */
  readonly initial?: ReadonlyMap<string, { kernel: Float32Array; residual: Float32Array; A: Float32Array; B: Float32Array }>;
}

export interface MergeEntry {
  adapter: string;
  /** The kernel's exact bytes before this adapter was merged (unmerge restores them). */
  before: Float32Array;
  /** The kernel's exact bytes right after the merge (to detect a kernel changed since). */
  after: Float32Array;
}

export interface ModelAdapterState {
  readonly adapters: Map<string, AdapterRecord>;
  /** Active adapter names, in activation order. */
  active: string[];
  /** For each modules_to_save module: whose values its variables hold now (an adapter name, or null = the base's). */
  readonly loadedCopy: Map<string, string | null>;
  /** The base model's own values of modules_to_save modules while an adapter's copy is loaded. */
  readonly baseValues: Map<string, ModuleValues>;
  /** Per module: the merges applied to its kernel, oldest first. */
  readonly merges: Map<string, MergeEntry[]>;
}

const states = new WeakMap<Model, ModelAdapterState>();

/** The model's adapter state, created empty on first use. */
export function adapterState(model: Model): ModelAdapterState {
  let state = states.get(model);
  if (!state) {
    state = { adapters: new Map(), active: [], loadedCopy: new Map(), baseValues: new Map(), merges: new Map() };
    states.set(model, state);
  }
  return state;
}

/** The record of an attached adapter, or `ADAPTER_NOT_FOUND` listing the attached ones. */
export function getAdapter(model: Model, name: string): AdapterRecord {
  const record = states.get(model)?.adapters.get(name);
  if (!record) {
    const attached = [...(states.get(model)?.adapters.keys() ?? [])];
    throw new ProvenantError('ADAPTER_NOT_FOUND', `No adapter "${name}" is attached to this ${model.kind}.`, {
      metaMessages: [`attached: ${attached.length ? attached.join(', ') : '(none)'}`],
      data: { adapter: name, attached },
    });
  }
  return record;
}

/** A module by path, or `LORA_TARGET_NOT_FOUND`. */
export function getLinear(model: Model, moduleName: string): Linear {
  const linear = model.linears.get(moduleName);
  if (!linear) throw new ProvenantError('LORA_TARGET_NOT_FOUND', `This ${model.kind} has no module "${moduleName}".`, { data: { module: moduleName } });
  return linear;
}

/** A copy of a variable's values (never a view into tfjs memory). */
export function readValues(variable: { dataSync(): ArrayLike<number> | Uint8Array }): Float32Array {
  return Float32Array.from(variable.dataSync() as ArrayLike<number>);
}

/** Copies of a module's kernel and bias values. */
export function readModuleValues(linear: Linear): ModuleValues {
  return { kernel: readValues(linear.kernel), bias: linear.bias ? readValues(linear.bias) : null };
}
