/**
 * Per-row validation. A bad row is never fixed up or dropped silently: it comes back with a stable code and a reason,
 * and the good rows of the same contribution are still accepted. Unknown fields are rejected too, so a typo such as
 * `lable` cannot quietly turn a labelled row into an unlabelled one.
 */
import { canonicalJson, describeValue } from '../core/index.js';
import { isLabel, type ResolvedSchema } from './schema.js';
import type { ImageInput, JsonValue, Label, RowRejectionCode, StoredRow } from './types.js';

export type RowValidation =
  | { readonly ok: true; readonly row: StoredRow }
  | { readonly ok: false; readonly code: RowRejectionCode; readonly reason: string };

const ROW_FIELDS = new Set(['input', 'label', 'metadata']);
const IMAGE_FIELDS = new Set(['width', 'height', 'channels', 'data']);

const reject = (code: RowRejectionCode, reason: string): RowValidation => ({ ok: false, code, reason });

/** Reads a number array (plain or typed); reports the first non-number or non-finite element. */
function readNumbers(
  value: unknown,
  what: string,
): { ok: true; values: number[] } | { ok: false; code: RowRejectionCode; reason: string } {
  let values: number[];
  if (Array.isArray(value)) values = value;
  else if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array)) {
    values = Array.from(value as unknown as ArrayLike<number>);
  } else return { ok: false, code: 'INPUT_TYPE', reason: `${what} must be an array of numbers, got ${describeValue(value, 60)}.` };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') {
      return { ok: false, code: 'INPUT_TYPE', reason: `${what}[${i}] is ${describeValue(v, 40)}, not a number.` };
    }
    if (!Number.isFinite(v)) return { ok: false, code: 'INPUT_NON_FINITE', reason: `${what}[${i}] is ${v}; only finite numbers are allowed.` };
  }
  // Copy plain arrays so a caller mutating theirs later cannot change a stored (hashed) row. −0 becomes 0: the
  // content hash (canonical JSON) cannot tell them apart, so neither may the stored row, or JSONL would not round-trip.
  const out = values === value ? values.slice() : values;
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = 0;
  return { ok: true, values: out };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * Checks that metadata is a plain JSON object and returns a frozen deep copy (so later caller edits cannot leak into a
 * stored, hashed row). Returns a result rather than throwing, so the caller can name the row: `{ ok: false, reason }`
 * for an array, a typed array, a non-object, or a value canonical JSON cannot hold (a non-finite number, a function,
 * a cycle).
 *
 * @example
 * ```ts
 * import { normalizeMetadata } from 'provenant/datanet';
 *
 * normalizeMetadata({ source: 'easy-ham-1', lines: 42 }); // { ok: true, value: { lines: 42, source: 'easy-ham-1' } } (frozen)
 * normalizeMetadata([1, 2]);                              // { ok: false, reason: 'Metadata must be a plain object, got …' }
 * ```
 */
export function normalizeMetadata(
  metadata: unknown,
): { ok: true; value: { readonly [key: string]: JsonValue } } | { ok: false; reason: string } {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata) || ArrayBuffer.isView(metadata)) {
    return { ok: false, reason: `Metadata must be a plain object, got ${describeValue(metadata, 60)}.` };
  }
  try {
    return { ok: true, value: deepFreeze(JSON.parse(canonicalJson(metadata)) as { [key: string]: JsonValue }) };
  } catch (error) {
    return { ok: false, reason: `Metadata is not plain JSON: ${(error as Error & { shortMessage?: string }).shortMessage ?? String(error)}` };
  }
}

/**
 * Validates one submitted row against a schema. On success returns a frozen copy with plain-array vectors.
 *
 * @example
 * ```ts
 * import { resolveSchema, validateRow } from 'provenant/datanet';
 * validateRow({ input: '', label: 'spam' }, resolveSchema({ input: 'text', labels: ['ham', 'spam'] }));
 * // { ok: false, code: 'TEXT_EMPTY', reason: 'Text input is empty (or only whitespace).' }
 * ```
 */
export function validateRow(row: unknown, schema: ResolvedSchema): RowValidation {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    return reject('ROW_NOT_OBJECT', `A row must be an object with an \`input\`, got ${describeValue(row, 60)}.`);
  }
  for (const key of Object.keys(row)) {
    if (!ROW_FIELDS.has(key)) return reject('FIELD_UNKNOWN', `Unknown row field "${key}" (allowed: input, label, metadata).`);
  }
  const { input, label, metadata } = row as { input?: unknown; label?: unknown; metadata?: unknown };
  if (input === undefined) return reject('INPUT_MISSING', 'The row has no `input`.');

  let storedInput: StoredRow['input'];
  switch (schema.input) {
    case 'text': {
      if (typeof input !== 'string') return reject('INPUT_TYPE', `Input must be text, got ${describeValue(input, 60)}.`);
      if (input.trim().length === 0) return reject('TEXT_EMPTY', 'Text input is empty (or only whitespace).');
      if (schema.maxTextLength !== undefined && input.length > schema.maxTextLength) {
        return reject('TEXT_TOO_LONG', `Text input has ${input.length} characters; the schema allows at most ${schema.maxTextLength}.`);
      }
      storedInput = input;
      break;
    }
    case 'vector': {
      if (typeof input === 'string' || (typeof input === 'object' && input !== null && !Array.isArray(input) && !ArrayBuffer.isView(input))) {
        return reject('INPUT_TYPE', `Input must be a number vector, got ${describeValue(input, 60)}.`);
      }
      const read = readNumbers(input, 'input');
      if (!read.ok) return read;
      if (read.values.length === 0) return reject('VECTOR_EMPTY', 'Input vector is empty.');
      if (schema.vectorLength !== undefined && read.values.length !== schema.vectorLength) {
        return reject('VECTOR_LENGTH', `Input vector has length ${read.values.length}; the schema needs ${schema.vectorLength}.`);
      }
      storedInput = Object.freeze(read.values);
      break;
    }
    case 'image': {
      if (input === null || typeof input !== 'object' || Array.isArray(input) || ArrayBuffer.isView(input)) {
        return reject('INPUT_TYPE', `Input must be an image {width, height, channels, data}, got ${describeValue(input, 60)}.`);
      }
      for (const key of Object.keys(input)) {
        if (!IMAGE_FIELDS.has(key)) return reject('INPUT_TYPE', `Unknown image field "${key}" (allowed: width, height, channels, data).`);
      }
      const image = input as Partial<ImageInput>;
      const dims = [image.width, image.height, image.channels];
      if (!dims.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
        return reject('IMAGE_SHAPE', `Image width, height and channels must be positive integers, got ${describeValue(dims)}.`);
      }
      const [width, height, channels] = dims as [number, number, number];
      const shape = schema.imageShape;
      if (shape && (shape.width !== width || shape.height !== height || shape.channels !== channels)) {
        return reject('IMAGE_SHAPE', `Image is ${width}×${height}×${channels}; the schema needs ${shape.width}×${shape.height}×${shape.channels}.`);
      }
      const read = readNumbers(image.data, 'input.data');
      if (!read.ok) return read;
      if (read.values.length !== width * height * channels) {
        return reject('IMAGE_SHAPE', `Image data has ${read.values.length} values; ${width}×${height}×${channels} needs ${width * height * channels}.`);
      }
      storedInput = Object.freeze({ width, height, channels, data: Object.freeze(read.values) });
      break;
    }
  }

  if (label === undefined) {
    if (schema.requireLabel) return reject('LABEL_MISSING', 'The row has no `label`; this Datanet requires one.');
  } else {
    if (!isLabel(label)) {
      return reject('LABEL_TYPE', `A label must be a non-empty string or a non-negative integer, got ${describeValue(label, 60)}.`);
    }
    if (schema.labels && !schema.labels.includes(label)) {
      return reject('LABEL_UNKNOWN', `Label ${JSON.stringify(label)} is not one of [${schema.labels.map((l) => JSON.stringify(l)).join(', ')}].`);
    }
  }

  let storedMetadata: StoredRow['metadata'];
  if (metadata !== undefined) {
    const checked = normalizeMetadata(metadata);
    if (!checked.ok) return reject('METADATA_INVALID', checked.reason);
    storedMetadata = checked.value;
  }

  const stored: StoredRow = {
    input: storedInput,
    ...(label !== undefined ? { label: label as Label } : {}),
    ...(storedMetadata !== undefined ? { metadata: storedMetadata } : {}),
  };
  return { ok: true, row: Object.freeze(stored) };
}
