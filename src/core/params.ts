/**
 * One parameter mechanism for the whole library (PEFT's idea: a dataclass field carries its default and its help text).
 *
 * A `ParamTable` lists every field of one configuration with its default, its meaning and its validation. `resolve(table,
 * partial)` returns the configuration used: defaults read from the table (never typed again elsewhere), every value checked,
 * unknown option names refused with the nearest field suggested (`lr` → `learningRate`). `describe(table, used)` turns the
 * object that was used into the audit rows `{ name, value, default, meaning }` — the record prints the object the code
 * consumed, so the recorded value *is* the used value by construction.
 *
 * Nested groups (`optimizer.beta1`, `earlyStopping.patience`) are fields whose value is another table. An optional group
 * absent from a run resolves to `null` and is described as absent (one row, value null), never with its defaults.
 */
import { ProvenantError, describeValue, type ProvenantErrorCode } from './errors.js';

/** A validation: returns null when the value is acceptable, else what is wrong ("must be …"). */
export type ParamCheck = (value: unknown) => string | null;

/** A leaf field: one option with its default, meaning and validation. */
export interface ParamLeaf {
  readonly name: string;
  /**
   * The default. A function computes it from the already-resolved fields listed before it (e.g. early stopping's `mode`
   * follows its `metric`); its `defaultText` is then what `describe` prints as the default.
   */
  readonly default: unknown;
  readonly defaultText?: string;
  /** No default: resolving without a value is an error. */
  readonly required?: boolean;
  /** One line a user reads in the audit record: what the field does, its units, why the default. */
  readonly meaning: string;
  readonly check?: ParamCheck;
  /** Other names users type for it (PEFT/transformers snake_case, short forms); they get a "did you mean" hint. */
  readonly aliases?: readonly string[];
}

/** A nested group of fields (e.g. `optimizer`), resolved and described by the same mechanism. */
export interface ParamGroup {
  readonly name: string;
  readonly group: ParamTable;
  readonly meaning: string;
  /** When true the group is off unless given (resolves to null, described as absent); `true` turns it on with defaults. */
  readonly optional?: boolean;
  readonly aliases?: readonly string[];
}

export type ParamField = ParamLeaf | ParamGroup;

/** The fields of one configuration and how its errors are reported. */
export interface ParamTable {
  /** Prefix of audit-row names and of error messages (e.g. `training`). */
  readonly name: string;
  readonly fields: readonly ParamField[];
  /** Code of the error thrown for unknown or invalid fields. Default `INVALID_ARGUMENT`. */
  readonly code?: ProvenantErrorCode;
  /** README section explaining these options (carried by the error). */
  readonly docsPath?: string;
  /**
   * Option names that belong to the same options object but are inputs, not parameters (data, callbacks, models):
   * accepted by `resolve`, never resolved, never described.
   */
  readonly inputs?: readonly string[];
  /** Checks across fields, after each field passed its own check: `[field, problem]` pairs. */
  readonly crossChecks?: (used: Readonly<Record<string, unknown>>) => Array<[string, string]>;
}

/** One audit row: a parameter's dotted name, the value used, its default and what it does. */
export interface ParamRow {
  name: string;
  value: unknown;
  default: unknown;
  meaning: string;
}

const isGroup = (field: ParamField): field is ParamGroup => 'group' in field;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Structured-clone of plain JSON-like defaults, so a caller mutating its config cannot change the table. */
const cloneDefault = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(cloneDefault) : isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneDefault(v)])) : value;

/** Ready-made checks; each returns a sentence fragment naming the rule and the offending value. */
export const checks = {
  /** An integer ≥ `min` (default 1). */
  int: (min = 1, max = Number.MAX_SAFE_INTEGER): ParamCheck => (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? null : `must be an integer in [${min}, ${max}], got ${describeValue(v)}`,
  /** A finite number in [min, max] (bounds open when `open` says so). */
  number: (min: number, max: number, open: { min?: boolean; max?: boolean } = {}): ParamCheck => (v) => {
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (open.min ? v > min : v >= min) &&
      (open.max ? v < max : v <= max);
    return ok ? null : `must be a finite number in ${open.min ? '(' : '['}${min}, ${max}${open.max ? ')' : ']'}, got ${describeValue(v)}`;
  },
  oneOf: (values: readonly unknown[]): ParamCheck => (v) => (values.includes(v) ? null : `must be one of ${values.map((x) => describeValue(x)).join(', ')}, got ${describeValue(v)}`),
  boolean: (): ParamCheck => (v) => (typeof v === 'boolean' ? null : `must be a boolean, got ${describeValue(v)}`),
  string: (): ParamCheck => (v) => (typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string, got ${describeValue(v)}`),
  /** `null` or what `inner` accepts. */
  nullable: (inner: ParamCheck): ParamCheck => (v) => (v === null ? null : inner(v)),
  /** Any value `inner` accepts, or the checks of several in turn. */
  all: (...inner: ParamCheck[]): ParamCheck => (v) => {
    for (const c of inner) {
      const problem = c(v);
      if (problem) return problem;
    }
    return null;
  },
} as const;

/** Edit distance (Levenshtein), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** `learningRate` → `lr`, `gradientAccumulationSteps` → `gas`: the initials users abbreviate to. */
const initials = (name: string): string => (name[0]! + name.slice(1).replace(/[^A-Z]/g, '')).toLowerCase();
const normalise = (name: string): string => name.replace(/[_\-\s]/g, '').toLowerCase();

/**
 * The field a mistyped option name most likely meant: an alias (`learning_rate`, `lr`), the same name in another case
 * style (`batch_size`), the camelCase initials (`lr` → `learningRate`), or the nearest name within a third of its length.
 * Returns null when nothing is close.
 *
 * @example
 * ```ts
 * import { nearestField } from 'provenant';
 * nearestField('lr', ['learningRate', 'batchSize']); // 'learningRate'
 * nearestField('bachSize', ['learningRate', 'batchSize']); // 'batchSize'
 * ```
 */
export function nearestField(unknown: string, known: readonly string[], aliases: ReadonlyMap<string, string> = new Map()): string | null {
  const alias = aliases.get(unknown) ?? aliases.get(normalise(unknown));
  if (alias) return alias;
  const n = normalise(unknown);
  const sameNormalised = known.find((k) => normalise(k) === n);
  if (sameNormalised) return sameNormalised;
  const byInitials = known.filter((k) => initials(k) === n);
  if (byInitials.length === 1) return byInitials[0]!;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(unknown.length / 3)) + 1;
  for (const k of known) {
    const d = distance(unknown, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

interface Problem {
  path: string;
  message: string;
  unknown?: boolean;
  suggestion?: string | null;
}

function resolveInto(table: ParamTable, partial: Record<string, unknown>, prefix: string, problems: Problem[]): Record<string, unknown> {
  const used: Record<string, unknown> = {};
  const names = table.fields.map((f) => f.name);
  const inputs = new Set(table.inputs ?? []);
  const aliases = new Map<string, string>();
  for (const f of table.fields) for (const a of f.aliases ?? []) aliases.set(normalise(a), f.name);
  for (const key of Object.keys(partial)) {
    if (names.includes(key) || inputs.has(key) || partial[key] === undefined) continue;
    const suggestion = nearestField(key, names, aliases);
    problems.push({
      path: prefix + key,
      unknown: true,
      suggestion: suggestion === null ? null : prefix + suggestion,
      message: `unknown option${suggestion ? ` (did you mean "${prefix + suggestion}"?)` : ''}; known: ${names.join(', ')}`,
    });
  }
  for (const field of table.fields) {
    const path = prefix + field.name;
    const given = Object.prototype.hasOwnProperty.call(partial, field.name) ? partial[field.name] : undefined;
    if (isGroup(field)) {
      if (given === undefined || given === null || given === false) {
        if (field.optional) used[field.name] = null;
        else if (given === undefined) used[field.name] = resolveInto(field.group, {}, `${path}.`, problems);
        else {
          problems.push({ path, message: `is not optional, got ${describeValue(given)}` });
          used[field.name] = null;
        }
      } else if (given === true) {
        used[field.name] = resolveInto(field.group, {}, `${path}.`, problems);
      } else if (isPlainObject(given)) {
        used[field.name] = resolveInto(field.group, given, `${path}.`, problems);
      } else {
        problems.push({ path, message: `must be an object of ${field.group.fields.map((f) => f.name).join(', ')}, got ${describeValue(given)}` });
        used[field.name] = null;
      }
      continue;
    }
    let value: unknown;
    if (given !== undefined) value = given;
    else if (field.required) {
      problems.push({ path, message: 'is required (it has no default)' });
      continue;
    } else value = typeof field.default === 'function' ? (field.default as (used: Record<string, unknown>) => unknown)(used) : cloneDefault(field.default);
    const problem = field.check?.(value) ?? null;
    if (problem) problems.push({ path, message: problem });
    used[field.name] = value;
  }
  if (table.crossChecks && !problems.some((p) => p.path.startsWith(prefix))) {
    for (const [field, message] of table.crossChecks(used)) problems.push({ path: prefix + field, message });
  }
  return used;
}

/**
 * The configuration used: each field of `table` from `partial` or else from its default, validated; nested groups the
 * same way. Everything wrong is gathered into one error, so a user fixes it all at once.
 *
 * @param table the fields (see {@link ParamTable})
 * @param partial the options a caller gave; `undefined` values count as absent; names in `table.inputs` are ignored
 * @returns a fresh object with every field of the table (optional groups absent from `partial` are `null`)
 * @throws ProvenantError with `table.code` (default `INVALID_ARGUMENT`) listing every bad field in `metaMessages`;
 *   `data.fields` names them, `data.unknown` the unknown option names and `data.suggestions` maps each to its nearest field.
 *
 * @example
 * ```ts
 * import { type ParamTable, checks, resolve } from 'provenant';
 * const table: ParamTable = { name: 'training', fields: [
 *   { name: 'learningRate', default: 1e-3, meaning: 'Peak learning rate.', check: checks.number(0, 1, { min: true }) },
 * ] };
 * resolve(table, {}).learningRate; // 0.001
 * resolve(table, { lr: 0.1 }); // throws: unknown option "lr" (did you mean "learningRate"?)
 * ```
 */
export function resolve<T = Record<string, unknown>>(table: ParamTable, partial: object = {}): T {
  if (!isPlainObject(partial)) {
    throw new ProvenantError(table.code ?? 'INVALID_ARGUMENT', `${table.name} options must be an object, got ${describeValue(partial)}.`, {
      ...(table.docsPath ? { docsPath: table.docsPath } : {}),
    });
  }
  const problems: Problem[] = [];
  const used = resolveInto(table, partial, '', problems);
  if (problems.length > 0) {
    const fields = [...new Set(problems.map((p) => p.path))];
    const unknown = problems.filter((p) => p.unknown).map((p) => p.path);
    const suggestions: Record<string, string | null> = Object.create(null);
    for (const p of problems) if (p.unknown) suggestions[p.path] = p.suggestion ?? null;
    throw new ProvenantError(table.code ?? 'INVALID_ARGUMENT', `Invalid ${table.name} options: ${fields.join(', ')}.`, {
      metaMessages: problems.map((p) => `${p.path}: ${p.message}`),
      data: { table: table.name, fields, unknown, suggestions },
      ...(table.docsPath ? { docsPath: table.docsPath } : {}),
    });
  }
  return used as T;
}

/** JSON-safe copy of a value for the record (bigint → decimal string, typed arrays → arrays, undefined → null). */
function recordValue(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v)) ?? 'null');
}

function describeInto(table: ParamTable, used: Readonly<Record<string, unknown>>, prefix: string, rows: ParamRow[]): void {
  for (const field of table.fields) {
    const name = prefix + field.name;
    const value = used[field.name];
    if (isGroup(field)) {
      if (value === null || value === undefined) {
        rows.push({ name, value: null, default: field.optional ? null : '(group)', meaning: `${field.meaning} Absent: not used in this run.` });
      } else describeInto(field.group, value as Record<string, unknown>, `${name}.`, rows);
      continue;
    }
    const defaultValue = typeof field.default === 'function' ? field.defaultText ?? 'derived' : field.required ? null : field.default;
    rows.push({ name, value: recordValue(value), default: recordValue(defaultValue), meaning: field.meaning });
  }
}

/**
 * The audit rows of a configuration that was used: one row per leaf field, named by its dotted path under `prefix`
 * (default `table.name`), with the value used, the table's default and its meaning. An optional group that is `null` in
 * `used` gives one row (value null) saying it was absent. Values are copied JSON-safe (bigint → decimal string).
 *
 * @param used the object the code consumed — pass the object `resolve` returned and the stage used, never a re-derivation
 * @example
 * ```ts
 * import { describe, resolve, type ParamTable } from 'provenant';
 * declare const table: ParamTable;
 * describe(table, resolve(table, { learningRate: 0.01 }));
 * // [{ name: 'training.learningRate', value: 0.01, default: 0.001, meaning: 'Peak learning rate.' }]
 * ```
 */
export function describe(table: ParamTable, used: object, prefix: string = table.name): ParamRow[] {
  const rows: ParamRow[] = [];
  describeInto(table, used as Record<string, unknown>, prefix ? `${prefix}.` : '', rows);
  return rows;
}

/**
 * The default of one field (dotted path for nested groups), read from the table — for code that needs a default outside
 * `resolve` (e.g. a documentation table); never restate a default beside its table.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when the path names no leaf field, or the default is derived
 * @example
 * ```ts
 * import { defaultOf, type ParamTable } from 'provenant';
 * declare const table: ParamTable;
 * defaultOf(table, 'learningRate'); // 0.001
 * ```
 */
export function defaultOf<T = unknown>(table: ParamTable, path: string): T {
  const [head, ...rest] = path.split('.');
  const field = table.fields.find((f) => f.name === head);
  if (field && isGroup(field) && rest.length > 0) return defaultOf<T>(field.group, rest.join('.'));
  if (!field || isGroup(field) || rest.length > 0 || typeof field.default === 'function') {
    throw new ProvenantError('INVALID_ARGUMENT', `${table.name} has no plain default at "${path}".`, { data: { table: table.name, path } });
  }
  return cloneDefault(field.default) as T;
}

/**
 * Every leaf path of a table (dotted), in table order — e.g. for a test that sets each field to a non-default value.
 *
 * @example
 * ```ts
 * import { fieldPaths, type ParamTable } from 'provenant';
 * declare const trainingTable: ParamTable;
 * fieldPaths(trainingTable); // ['seed', 'epochs', …, 'optimizer.beta1', …]
 * ```
 */
export function fieldPaths(table: ParamTable): string[] {
  return table.fields.flatMap((f) => (isGroup(f) ? fieldPaths(f.group).map((p) => `${f.name}.${p}`) : [f.name]));
}

/**
 * A copy of `table` whose defaults are replaced at the given dotted paths — how a workflow states its own defaults for a
 * library table (the pipeline trains with learning rate 3e-3 where `train` alone defaults to 1e-3) without typing the
 * table twice: the record then shows the workflow's default beside the value used.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when a path names no leaf field
 * @example
 * ```ts
 * import { TRAINING_PARAMS, defaultOf, withDefaults } from 'provenant';
 * const pipelineTraining = withDefaults(TRAINING_PARAMS, { learningRate: 3e-3, 'schedule.kind': 'linear' });
 * defaultOf(pipelineTraining, 'learningRate'); // 0.003
 * ```
 */
export function withDefaults(table: ParamTable, defaults: Readonly<Record<string, unknown>>, name: string = table.name): ParamTable {
  const byHead = new Map<string, Record<string, unknown>>();
  for (const [path, value] of Object.entries(defaults)) {
    const [head, ...rest] = path.split('.');
    const field = table.fields.find((f) => f.name === head);
    if (!field || (isGroup(field) !== rest.length > 0)) {
      throw new ProvenantError('INVALID_ARGUMENT', `withDefaults: ${table.name} has no field "${path}".`, { data: { table: table.name, path } });
    }
    if (!byHead.has(head!)) byHead.set(head!, {});
    byHead.get(head!)![rest.length ? rest.join('.') : ''] = value;
  }
  const fields = table.fields.map((field): ParamField => {
    const given = byHead.get(field.name);
    if (!given) return field;
    if (isGroup(field)) return { ...field, group: withDefaults(field.group, given) };
    return { ...field, default: given[''], required: false };
  });
  return Object.freeze({ ...table, name, fields });
}
