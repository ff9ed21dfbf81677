/**
 * Schema normalisation: a Datanet's schema is checked once, when the Datanet is created, so every later rejection
 * can be blamed on a row and never on a malformed schema.
 */
import { ProvenantError, describeValue } from '../core/index.js';
import type { DatanetSchema, Label } from './types.js';

/** A checked schema with every default filled in. */
export interface ResolvedSchema {
  readonly input: DatanetSchema['input'];
  readonly vectorLength?: number;
  readonly imageShape?: { readonly width: number; readonly height: number; readonly channels: number };
  readonly labels?: readonly Label[];
  readonly requireLabel: boolean;
  readonly maxTextLength?: number;
}

function schemaError(message: string, value?: unknown): ProvenantError {
  return new ProvenantError('DATANET_SCHEMA_INVALID', message, {
    metaMessages: value === undefined ? [] : [`value: ${describeValue(value)}`],
  });
}

/**
 * True for a label a Datanet can hold: a non-empty string or a non-negative safe integer (class index). A type guard.
 *
 * @example
 * ```ts
 * import { isLabel } from 'provenant/datanet';
 *
 * isLabel('spam'); // true
 * isLabel(3);      // true (class index)
 * isLabel(-1);     // false
 * isLabel('');     // false
 * ```
 */
export function isLabel(value: unknown): value is Label {
  return (typeof value === 'string' && value.length > 0) || (Number.isSafeInteger(value) && (value as number) >= 0);
}

const isPositiveInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * Checks a Datanet schema once and fills in defaults (`requireLabel` defaults to true when `labels` is given), returning
 * a frozen {@link ResolvedSchema}; every later rejection can then be blamed on a row, never on the schema.
 *
 * @throws ProvenantError `DATANET_SCHEMA_INVALID` naming the bad field: an unknown field, an `input` other than
 *   `text`/`vector`/`image`, a length or shape that is not a positive integer or does not apply to the input kind, an
 *   empty or repeated `labels` list, a non-boolean `requireLabel`.
 * @example
 * ```ts
 * import { resolveSchema, validateRow } from 'provenant/datanet';
 *
 * const schema = resolveSchema({ input: 'text', labels: ['ham', 'spam'], maxTextLength: 20_000 });
 * schema.requireLabel; // true (labels were given)
 * validateRow({ input: 'Win a prize now', label: 'spam' }, schema); // { ok: true, row: { … } }
 * ```
 */
export function resolveSchema(schema: DatanetSchema): ResolvedSchema {
  if (schema === null || typeof schema !== 'object') throw schemaError('A Datanet schema must be an object.', schema);
  const known = new Set(['input', 'vectorLength', 'imageShape', 'labels', 'requireLabel', 'maxTextLength']);
  for (const key of Object.keys(schema)) {
    if (!known.has(key)) throw schemaError(`Unknown schema field "${key}" (known: ${[...known].join(', ')}).`);
  }
  if (schema.input !== 'text' && schema.input !== 'vector' && schema.input !== 'image') {
    throw schemaError('Schema `input` must be "text", "vector" or "image".', schema.input);
  }
  if (schema.vectorLength !== undefined) {
    if (schema.input !== 'vector') throw schemaError('`vectorLength` only applies to `input: "vector"`.');
    if (!isPositiveInteger(schema.vectorLength)) throw schemaError('`vectorLength` must be a positive integer.', schema.vectorLength);
  }
  let imageShape: ResolvedSchema['imageShape'];
  if (schema.imageShape !== undefined) {
    if (schema.input !== 'image') throw schemaError('`imageShape` only applies to `input: "image"`.');
    const { width, height, channels } = schema.imageShape;
    if (![width, height, channels].every(isPositiveInteger)) {
      throw schemaError('`imageShape` needs positive integer width, height and channels.', schema.imageShape);
    }
    imageShape = Object.freeze({ width, height, channels });
  }
  if (schema.maxTextLength !== undefined) {
    if (schema.input !== 'text') throw schemaError('`maxTextLength` only applies to `input: "text"`.');
    if (!isPositiveInteger(schema.maxTextLength)) throw schemaError('`maxTextLength` must be a positive integer.', schema.maxTextLength);
  }
  let labels: readonly Label[] | undefined;
  if (schema.labels !== undefined) {
    if (!Array.isArray(schema.labels) || schema.labels.length === 0) throw schemaError('`labels` must be a non-empty array.', schema.labels);
    const seen = new Set<string>();
    for (const label of schema.labels) {
      if (!isLabel(label)) throw schemaError('Every label must be a non-empty string or a non-negative integer.', label);
      const key = JSON.stringify(label);
      if (seen.has(key)) throw schemaError('`labels` lists a label twice.', label);
      seen.add(key);
    }
    labels = Object.freeze([...schema.labels]);
  }
  if (schema.requireLabel !== undefined && typeof schema.requireLabel !== 'boolean') {
    throw schemaError('`requireLabel` must be a boolean.', schema.requireLabel);
  }
  const resolved: ResolvedSchema = {
    input: schema.input,
    ...(schema.vectorLength !== undefined ? { vectorLength: schema.vectorLength } : {}),
    ...(imageShape ? { imageShape } : {}),
    ...(labels ? { labels } : {}),
    requireLabel: schema.requireLabel ?? labels !== undefined,
    ...(schema.maxTextLength !== undefined ? { maxTextLength: schema.maxTextLength } : {}),
  };
  return Object.freeze(resolved);
}
