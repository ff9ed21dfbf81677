/**
 * The data model of a Datanet: rows, contributions, schemas, and the reports `addContribution` returns.
 *
 * A row's identity is its *content* (input + label), never its position or its submitter: the row id is the
 * keccak256 of the content's canonical JSON, so the same e-mail re-submitted by anyone is the same row, while a copy
 * with a flipped label is a different row (the noisy contributor must survive deduplication so attribution can catch it).
 */
import type { Hex } from '../core/index.js';

/** A class label: a string (`'spam'`) or a non-negative safe integer (`7`). */
export type Label = string | number;

/** A dense image, row-major `[height][width][channels]` in `data` (length = width·height·channels). */
export interface ImageInput {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: readonly number[];
}

/** What a row holds: text, a number vector, or an image. */
export type RowInput = string | readonly number[] | ImageInput;

/** Any JSON value (metadata must be JSON so it survives JSONL export). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * A row as a contributor submits it. Vectors and image data may also be given as typed arrays; they are stored as
 * plain number arrays (float32 values widen exactly to float64, so the hash survives JSON round trips).
 */
export interface Row {
  readonly input: RowInput | Float32Array | Float64Array | Uint8Array | Int32Array;
  readonly label?: Label;
  /** Free-form JSON, kept with the row but not hashed: two rows differing only in metadata are duplicates. */
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/** A row after validation: frozen, with plain-array vectors. */
export interface StoredRow {
  readonly input: string | readonly number[] | ImageInput;
  readonly label?: Label;
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/** The kinds of input a schema can require. */
export type InputKind = 'text' | 'vector' | 'image';

/** What a Datanet accepts. */
export interface DatanetSchema {
  /** The input kind every row must have. */
  readonly input: InputKind;
  /** For `vector` inputs: the exact length every vector must have. Omit to allow any length ≥ 1. */
  readonly vectorLength?: number;
  /** For `image` inputs: the exact shape every image must have. Omit to allow any shape. */
  readonly imageShape?: { readonly width: number; readonly height: number; readonly channels: number };
  /** The allowed labels. Omit to accept any string or integer label. */
  readonly labels?: readonly Label[];
  /** Whether every row needs a label. Default: true when `labels` is given, false otherwise. */
  readonly requireLabel?: boolean;
  /** For `text` inputs: the longest text accepted, in UTF-16 code units. Default: no limit. */
  readonly maxTextLength?: number;
}

/**
 * Who submitted rows, under what terms. `contributor` is an EVM address (`0x` + 40 hex digits; stored lower-case, and
 * a mixed-case address must carry a valid EIP-55 checksum) or an opaque id (1–256 printable characters).
 */
export interface Contribution {
  readonly contributor: string;
  /** Licence of the rows, ideally an SPDX expression (`CC-BY-4.0`, `PDDL-1.0 AND CC0-1.0`). */
  readonly licence: string;
  /** Where the rows came from (a URL, a package, a collection note). */
  readonly source: string;
  /** When the rows were contributed. A Date, epoch milliseconds or an ISO 8601 string; stored as ISO 8601. Default: now. */
  readonly timestamp?: Date | number | string;
  readonly rows: readonly Row[];
  /** Free-form JSON about the contribution as a whole. */
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/** Why a row was rejected. Stable strings, so callers can branch on them. */
export type RowRejectionCode =
  | 'ROW_NOT_OBJECT'
  | 'FIELD_UNKNOWN'
  | 'INPUT_MISSING'
  | 'INPUT_TYPE'
  | 'INPUT_NON_FINITE'
  | 'TEXT_EMPTY'
  | 'TEXT_TOO_LONG'
  | 'VECTOR_EMPTY'
  | 'VECTOR_LENGTH'
  | 'IMAGE_SHAPE'
  | 'LABEL_MISSING'
  | 'LABEL_TYPE'
  | 'LABEL_UNKNOWN'
  | 'METADATA_INVALID';

/** One rejected row: its index in the contribution's `rows`, a stable code, and a sentence a person can act on. */
export interface RowRejection {
  readonly index: number;
  readonly code: RowRejectionCode;
  readonly reason: string;
}

/** One duplicate row: its index in the contribution, its content hash, and who already holds that content. */
export interface RowDuplicate {
  readonly index: number;
  readonly rowHash: Hex;
  readonly keptBy: string;
}

/** What happened to every row of one contribution: each index appears in exactly one of the three lists. */
export interface ContributionReport {
  /** Position of the contribution in the Datanet's log (0-based). */
  readonly contributionIndex: number;
  readonly contributor: string;
  /** Ids (content hashes) of the accepted rows, in submission order. */
  readonly accepted: readonly Hex[];
  /** Indices in `rows` of the accepted rows, parallel to `accepted`. */
  readonly acceptedIndices: readonly number[];
  readonly rejections: readonly RowRejection[];
  readonly duplicates: readonly RowDuplicate[];
  /** Number of rows submitted (= accepted + rejections + duplicates). */
  readonly submitted: number;
}

/** A contribution as recorded in the Datanet's log. */
export interface ContributionRecord {
  readonly contributionIndex: number;
  readonly contributor: string;
  readonly licence: string;
  readonly source: string;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly metadata?: { readonly [key: string]: JsonValue };
  readonly report: ContributionReport;
}
