/**
 * A Datanet: a named, schema-checked, deduplicated pool of contributor-owned rows, and the log of every
 * contribution made to it. `snapshot()` freezes the current state into a versioned, Merkle-rooted
 * {@link DatanetSnapshot} — the object fine-tuning, attribution and the chain read from.
 */
import { ProvenantError, describeValue, type ProgressCallback } from '../core/index.js';
import { normalizeContributor } from './contributor.js';
import { storedRowIdAndBytes, type RowId } from './row-hash.js';
import { resolveSchema, type ResolvedSchema } from './schema.js';
import { buildSnapshot, type DatanetSnapshot } from './snapshot.js';
import type {
  Contribution,
  ContributionRecord,
  ContributionReport,
  DatanetSchema,
  JsonValue,
  RowDuplicate,
  RowRejection,
  StoredRow,
} from './types.js';
import { normalizeMetadata, validateRow } from './validate-row.js';

export interface CreateDatanetOptions {
  /** A human-readable name (printed in summaries, written to JSONL). */
  readonly name: string;
  readonly schema: DatanetSchema;
}

export interface AddContributionOptions {
  /**
   * What to do with invalid rows. `'report'` (default): accept the valid rows and list the rejections in the report.
   * `'throw'`: if any row is invalid, add nothing and throw `DATANET_ROW_INVALID` listing the rejections.
   */
  readonly onInvalid?: 'report' | 'throw';
}

/** A row held by a Datanet, with its owner. */
export interface DatanetRow extends StoredRow {
  /** Content hash (see `rowId`). */
  readonly id: RowId;
  /** The contributor who first submitted this content and therefore owns it. */
  readonly contributor: string;
  readonly contributionIndex: number;
  /** UTF-8 bytes of the row's canonical content JSON. */
  readonly bytes: number;
}

export interface Datanet {
  readonly name: string;
  readonly schema: ResolvedSchema;
  /** Rows held (after deduplication). */
  readonly size: number;
  /**
   * Validates and adds a contribution's rows. Invalid rows are reported (index, code, reason); rows whose content the
   * Datanet already holds are reported as duplicates with the contributor who keeps them. Throws
   * `DATANET_CONTRIBUTION_INVALID` if the contribution itself (contributor, licence, source, timestamp, rows array)
   * is malformed — then nothing is added.
   */
  addContribution(contribution: Contribution, options?: AddContributionOptions): ContributionReport;
  has(id: RowId): boolean;
  getRow(id: RowId): DatanetRow | undefined;
  /** The contribution log, in order (frozen copies). */
  contributions(): readonly ContributionRecord[];
  /**
   * An immutable view of the current state. Returns the same object until the Datanet changes; each change makes the
   * next snapshot's `version` one higher.
   */
  snapshot(options?: { onProgress?: ProgressCallback }): DatanetSnapshot;
}

/** Metadata of a contribution, normalised (the JSONL importer replays these). */
export interface ContributionHeader {
  readonly contributor: string;
  readonly licence: string;
  readonly source: string;
  readonly timestamp: string;
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/** Low-level hooks the JSONL importer uses to replay a log exactly; not part of the public API. */
export interface DatanetInternals {
  openContribution(header: ContributionHeader): number;
  /** Validates and adds rows of an open contribution, each at its original index. */
  ingest(contributionIndex: number, items: readonly { index: number; row: unknown }[]): void;
  /**
   * Validates and adds one row. When `expectedId` is given (a row the file says was accepted) the row must be valid
   * and hash to it: otherwise nothing is added and the result says why — 'invalid' with the validation's code and
   * reason, or 'id-mismatch' with the id the content hashes to (a corrupted or edited export).
   */
  ingestOne(contributionIndex: number, index: number, row: unknown, expectedId?: RowId): IngestOutcome;
  /** Records a rejection whose row could not be exported (e.g. it held NaN). */
  recordRejection(contributionIndex: number, rejection: RowRejection): void;
  /** Makes the next snapshot carry at least this version. */
  setNextVersion(version: number): void;
}

/** What {@link DatanetInternals.ingestOne} did with one row. */
export type IngestOutcome =
  | { readonly kind: 'accepted' | 'duplicate' }
  | { readonly kind: 'rejected'; readonly code: RowRejection['code']; readonly reason: string }
  | { readonly kind: 'invalid'; readonly code: RowRejection['code']; readonly reason: string }
  | { readonly kind: 'id-mismatch'; readonly id: RowId };

export const DATANET_INTERNALS: unique symbol = Symbol('provenant.datanet.internals');

interface MutableRecord {
  header: ContributionHeader;
  contributionIndex: number;
  accepted: RowId[];
  acceptedIndices: number[];
  rejections: RowRejection[];
  duplicates: RowDuplicate[];
  submitted: number;
}

function contributionError(message: string, value?: unknown): ProvenantError {
  return new ProvenantError('DATANET_CONTRIBUTION_INVALID', message, {
    metaMessages: value === undefined ? [] : [`value: ${describeValue(value)}`],
  });
}

/**
 * Normalises a contribution timestamp to ISO 8601 (UTC, millisecond precision). Accepts a `Date`, epoch milliseconds or
 * any string `Date` parses; `undefined` means now.
 *
 * @throws ProvenantError `DATANET_CONTRIBUTION_INVALID` for an invalid date (naming the value).
 * @example
 * ```ts
 * import { normalizeTimestamp } from 'provenant/datanet';
 *
 * normalizeTimestamp('2003-02-28');  // '2003-02-28T00:00:00.000Z'
 * normalizeTimestamp(0);             // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function normalizeTimestamp(timestamp: Date | number | string | undefined): string {
  if (timestamp === undefined) return new Date().toISOString();
  const date = timestamp instanceof Date ? timestamp : typeof timestamp === 'number' || typeof timestamp === 'string' ? new Date(timestamp) : null;
  if (!date || Number.isNaN(date.getTime())) throw contributionError('`timestamp` must be a Date, epoch milliseconds or an ISO 8601 string.', timestamp);
  return date.toISOString();
}

/** Checks a contribution's non-row fields and returns them normalised; throws DATANET_CONTRIBUTION_INVALID. */
export function normalizeContributionHeader(contribution: Omit<Contribution, 'rows'>): ContributionHeader {
  if (contribution === null || typeof contribution !== 'object') throw contributionError('A contribution must be an object.', contribution);
  const contributor = normalizeContributor(contribution.contributor);
  if (typeof contribution.licence !== 'string' || contribution.licence.trim() === '') {
    throw contributionError('A contribution needs a `licence` (an SPDX expression such as "CC-BY-4.0").', contribution.licence);
  }
  if (typeof contribution.source !== 'string' || contribution.source.trim() === '') {
    throw contributionError('A contribution needs a `source` describing where its rows came from.', contribution.source);
  }
  const timestamp = normalizeTimestamp(contribution.timestamp);
  let metadata: ContributionHeader['metadata'];
  if (contribution.metadata !== undefined) {
    const checked = normalizeMetadata(contribution.metadata);
    if (!checked.ok) throw contributionError(`Contribution metadata is invalid: ${checked.reason}`);
    metadata = checked.value;
  }
  return Object.freeze({ contributor, licence: contribution.licence, source: contribution.source, timestamp, ...(metadata ? { metadata } : {}) });
}

/**
 * Creates an empty Datanet.
 *
 * @example
 * ```ts
 * import { createDatanet } from 'provenant/datanet';
 * const datanet = createDatanet({ name: 'security', schema: { input: 'text', labels: ['ham', 'spam'] } });
 * const report = datanet.addContribution({
 *   contributor: '0x52908400098527886e0f7030069857d2e4169ee7',
 *   licence: 'CC-BY-4.0',
 *   source: 'my inbox, 2024',
 *   rows: [{ input: 'Win a prize now', label: 'spam' }, { input: '', label: 'ham' }],
 * });
 * report.accepted.length; // 1
 * report.rejections; // [{ index: 1, code: 'TEXT_EMPTY', reason: 'Text input is empty (or only whitespace).' }]
 * const snapshot = datanet.snapshot(); // { version: 1, root: '0x…', … }
 * ```
 */
export function createDatanet(options: CreateDatanetOptions): Datanet {
  if (options === null || typeof options !== 'object') throw new ProvenantError('INVALID_ARGUMENT', 'createDatanet needs { name, schema }.');
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new ProvenantError('INVALID_ARGUMENT', 'A Datanet needs a non-empty `name`.', { metaMessages: [`name: ${describeValue(options.name)}`] });
  }
  const name = options.name;
  const schema = resolveSchema(options.schema);
  const rows = new Map<RowId, DatanetRow>();
  const records: MutableRecord[] = [];
  let version = 0;
  let cached: DatanetSnapshot | null = null;

  const openContribution = (header: ContributionHeader): number => {
    cached = null;
    records.push({ header, contributionIndex: records.length, accepted: [], acceptedIndices: [], rejections: [], duplicates: [], submitted: 0 });
    return records.length - 1;
  };

  const recordOf = (contributionIndex: number): MutableRecord => {
    const record = records[contributionIndex];
    if (!record) throw new ProvenantError('INVALID_ARGUMENT', `No contribution ${contributionIndex} in this Datanet.`);
    return record;
  };

  const ingestOne = (record: MutableRecord, index: number, row: unknown, expectedId?: RowId): IngestOutcome => {
    const checked = validateRow(row, schema);
    if (!checked.ok) {
      // A row the file says was accepted cannot become a rejection on re-import: that is an edit, reported as one.
      if (expectedId !== undefined) return { kind: 'invalid', code: checked.code, reason: checked.reason };
      record.submitted += 1;
      record.rejections.push(Object.freeze({ index, code: checked.code, reason: checked.reason }));
      return { kind: 'rejected', code: checked.code, reason: checked.reason };
    }
    const { id, bytes } = storedRowIdAndBytes(checked.row);
    if (expectedId !== undefined && expectedId !== id) return { kind: 'id-mismatch', id };
    record.submitted += 1;
    const holder = rows.get(id);
    if (holder) {
      record.duplicates.push(Object.freeze({ index, rowHash: id, keptBy: holder.contributor }));
      return { kind: 'duplicate' };
    }
    rows.set(id, Object.freeze({ ...checked.row, id, contributor: record.header.contributor, contributionIndex: record.contributionIndex, bytes }));
    record.accepted.push(id);
    record.acceptedIndices.push(index);
    return { kind: 'accepted' };
  };

  const ingest = (contributionIndex: number, items: readonly { index: number; row: unknown }[]): void => {
    const record = recordOf(contributionIndex);
    cached = null;
    for (const { index, row } of items) ingestOne(record, index, row);
  };

  const reportOf = (record: MutableRecord): ContributionReport =>
    Object.freeze({
      contributionIndex: record.contributionIndex,
      contributor: record.header.contributor,
      accepted: Object.freeze(record.accepted.slice()),
      acceptedIndices: Object.freeze(record.acceptedIndices.slice()),
      rejections: Object.freeze(record.rejections.slice()),
      duplicates: Object.freeze(record.duplicates.slice()),
      submitted: record.submitted,
    });

  const recordsView = (): ContributionRecord[] =>
    records.map((r) => Object.freeze({ contributionIndex: r.contributionIndex, ...r.header, report: reportOf(r) }));

  const datanet: Datanet & { [DATANET_INTERNALS]: DatanetInternals } = {
    name,
    schema,
    get size() {
      return rows.size;
    },
    addContribution(contribution, addOptions = {}) {
      const header = normalizeContributionHeader(contribution);
      if (!Array.isArray(contribution.rows)) throw contributionError('A contribution needs a `rows` array.', contribution.rows);
      const onInvalid = addOptions.onInvalid ?? 'report';
      if (onInvalid !== 'report' && onInvalid !== 'throw') {
        throw new ProvenantError('INVALID_ARGUMENT', '`onInvalid` must be "report" or "throw".', { metaMessages: [`onInvalid: ${describeValue(onInvalid)}`] });
      }
      if (onInvalid === 'throw') {
        const rejections: RowRejection[] = [];
        contribution.rows.forEach((row, index) => {
          const checked = validateRow(row, schema);
          if (!checked.ok) rejections.push({ index, code: checked.code, reason: checked.reason });
        });
        if (rejections.length > 0) {
          throw new ProvenantError('DATANET_ROW_INVALID', `${rejections.length} of ${contribution.rows.length} rows are invalid; nothing was added.`, {
            metaMessages: [
              ...rejections.slice(0, 10).map((r) => `row ${r.index}: ${r.code}: ${r.reason}`),
              ...(rejections.length > 10 ? [`… and ${rejections.length - 10} more`] : []),
            ],
            data: { rejections },
          });
        }
      }
      const contributionIndex = openContribution(header);
      ingest(contributionIndex, contribution.rows.map((row, index) => ({ index, row })));
      return reportOf(records[contributionIndex]!);
    },
    has: (id) => rows.has(id),
    getRow: (id) => rows.get(id),
    contributions: () => Object.freeze(recordsView()),
    snapshot(snapshotOptions = {}) {
      if (cached) return cached;
      version += 1;
      cached = buildSnapshot({ name, schema, version, rows: [...rows.values()], contributions: recordsView(), onProgress: snapshotOptions.onProgress });
      return cached;
    },
    [DATANET_INTERNALS]: {
      openContribution,
      ingest,
      ingestOne(contributionIndex, index, row, expectedId) {
        const record = recordOf(contributionIndex);
        cached = null;
        return ingestOne(record, index, row, expectedId);
      },
      recordRejection(contributionIndex, rejection) {
        const record = recordOf(contributionIndex);
        cached = null;
        record.submitted += 1;
        record.rejections.push(Object.freeze({ ...rejection }));
      },
      setNextVersion(next) {
        if (!Number.isSafeInteger(next) || next < 1) throw new ProvenantError('INVALID_ARGUMENT', `A snapshot version must be a positive integer, got ${next}.`);
        version = Math.max(version, next - 1);
        cached = null;
      },
    },
  };
  return datanet;
}

/** The importer's access to a Datanet's replay hooks. */
export function datanetInternals(datanet: Datanet): DatanetInternals {
  const internals = (datanet as Partial<Record<typeof DATANET_INTERNALS, DatanetInternals>>)[DATANET_INTERNALS];
  if (!internals) throw new ProvenantError('INVALID_ARGUMENT', 'Expected a Datanet made by createDatanet().');
  return internals;
}
