/**
 * Row content addressing. A row's id is keccak256 of the canonical JSON of its *content* — `{input, label}` — and
 * never of its metadata, contributor or position: so a re-submitted e-mail is a duplicate, a copy with a flipped
 * label is not, and the snapshot's Merkle root depends only on the set of rows.
 */
import { ProvenantError, bytesToHex, canonicalJson, keccak256, keccak256Bytes, utf8Bytes, type Hex } from '../core/index.js';
import type { ImageInput, Row, StoredRow } from './types.js';

/** A row id: the 0x-prefixed keccak256 of the row's canonical content JSON. */
export type RowId = Hex;

/**
 * The exact text a row id hashes: canonical JSON (sorted keys, no whitespace) of `{input, label}` — metadata is never
 * part of it. Written out by hand for speed on long vectors; `test/datanet/row-hash.test.ts` checks it equals
 * `canonicalJson`. Assumes a validated row (finite numbers only) — use {@link rowId} for rows you did not validate.
 *
 * @example
 * ```ts
 * import { rowContentJson } from 'provenant/datanet';
 *
 * rowContentJson({ input: 'Win a prize', label: 'spam', metadata: { group: 'spam-1' } }); // '{"input":"Win a prize","label":"spam"}'
 * rowContentJson({ input: [0.5, -0, 2] });                                             // '{"input":[0.5,0,2]}'
 * ```
 */
export function rowContentJson(row: StoredRow): string {
  const input = row.input;
  let inputJson: string;
  if (typeof input === 'string') inputJson = JSON.stringify(input);
  else if (Array.isArray(input)) inputJson = numbersJson(input as readonly number[]);
  else {
    const image = input as ImageInput;
    inputJson = `{"channels":${image.channels},"data":${numbersJson(image.data)},"height":${image.height},"width":${image.width}}`;
  }
  return row.label === undefined ? `{"input":${inputJson}}` : `{"input":${inputJson},"label":${JSON.stringify(row.label)}}`;
}

// `Array.prototype.join` applies Number::toString, which is what JSON.stringify writes for finite numbers, and it
// prints −0 as "0" exactly as canonicalJson does.
function numbersJson(values: readonly number[]): string {
  return `[${values.join(',')}]`;
}

/** Id and content size of a validated row, from one serialisation. */
export function storedRowIdAndBytes(row: StoredRow): { id: RowId; bytes: number } {
  const bytes = utf8Bytes(rowContentJson(row));
  return { id: bytesToHex(keccak256Bytes(bytes)), bytes: bytes.length };
}

/** The id (content hash) of a validated, stored row. */
export function storedRowId(row: StoredRow): RowId {
  return keccak256(rowContentJson(row));
}

/** Bytes a row's content occupies: the UTF-8 length of the canonical JSON that its id hashes. */
export function storedRowBytes(row: StoredRow): number {
  return utf8Bytes(rowContentJson(row)).length;
}

/**
 * The id of any row, computed the slow, general way (through `canonicalJson`, typed arrays widened to numbers).
 * Throws `JSON_NOT_CANONICAL` for content JSON cannot carry (NaN, Infinity).
 *
 * @example
 * ```ts
 * import { rowId } from 'provenant/datanet';
 * rowId({ input: 'cheap meds', label: 'spam' }) === rowId({ input: 'cheap meds', label: 'spam', metadata: { from: 'x' } }); // true
 * ```
 */
export function rowId(row: Row | StoredRow): RowId {
  if (row === null || typeof row !== 'object') {
    throw new ProvenantError('DATANET_ROW_INVALID', 'A row must be an object with an `input`.');
  }
  const input = row.input as unknown;
  const plainInput = ArrayBuffer.isView(input)
    ? Array.from(input as unknown as ArrayLike<number>)
    : input !== null && typeof input === 'object' && !Array.isArray(input) && ArrayBuffer.isView((input as ImageInput).data)
      ? { ...(input as ImageInput), data: Array.from((input as ImageInput).data) }
      : input;
  return keccak256(canonicalJson(row.label === undefined ? { input: plainInput } : { input: plainInput, label: row.label }));
}
