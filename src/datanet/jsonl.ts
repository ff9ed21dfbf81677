/**
 * JSONL export and import of a Datanet's whole log, so that export → import gives the same rows, the same
 * contributor table (duplicates and rejections included), the same snapshot version and the same root.
 *
 * Format (`provenant-datanet`, version 1), one JSON object per line, each with a record type `t`:
 *   {"t":"datanet","format":"provenant-datanet","formatVersion":1,"name":…,"schema":{…}}        first line
 *   {"t":"contribution","contributor":…,"licence":…,"source":…,"timestamp":…,"metadata"?:…}   opens a contribution
 *   {"t":"row","i":3,"id":"0x…","input":…,"label"?:…,"metadata"?:…}                            an accepted row
 *   {"t":"duplicate","i":4,"id":"0x…"}                                                          a re-submitted row
 *   {"t":"rejected","i":5,"code":"TEXT_EMPTY","reason":…}                                       a rejected row
 *   {"t":"end","version":2,"root":"0x…","rows":N,"contributions":C}                            last line
 * `i` is the row's index in its contribution; `id` is checked against the content on import, so an edited row is
 * caught and named (line, row id, and the label its id committed to when the schema lists labels). Rows are applied as they are read: a malformed line stops the import with `DATANET_JSONL_MALFORMED`
 * naming the line, and every row before it stays in the Datanet (`error.data.datanet`).
 *
 * A file without the header is read as bare rows (`{"input":…,"label":…}` per line) when `contribution` says whose
 * they are — the usual way to bring an existing data set in.
 *
 * Reading is strict, because whatever is read is hashed and deduplicated as the contributor's data:
 *   - bytes are UTF-8 unless `encoding` names another charset (decoded by iconv-lite); a line that is not valid in
 *     its encoding is `DATANET_ENCODING_INVALID` naming the line — never a silent U+FFFD (two different Latin-1 rows
 *     would otherwise both become `caf\uFFFD` and merge as duplicates). A leading byte-order mark is skipped.
 *   - a line with a key twice in one object (`{"label":"ham","label":"spam"}`) is refused: JSON.parse keeps the last.
 *   - size limits: {@link JSONL_DEFAULT_MAX_LINE_BYTES} per line and {@link JSONL_DEFAULT_MAX_ROW_BYTES} per row line
 *     (a row record or a bare row), both in UTF-8 bytes; a longer line is never buffered whole.
 *   - `onError: 'skip'` keeps going past bad lines and reports each one (`skipped`: line number, code, reason).
 */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { Readable } from 'node:stream';
import { ProvenantError, canonicalJson, fileError, findDuplicateJsonKey, isHex, writeFileAtomic, type Hex } from '../core/index.js';
import { decodeCharset, isUtf8Label } from './charset.js';
import {
  createDatanet,
  datanetInternals,
  normalizeContributionHeader,
  type ContributionHeader,
  type Datanet,
  type IngestOutcome,
} from './datanet.js';
import { rowContentJson, rowId, type RowId } from './row-hash.js';
import { resolveSchema } from './schema.js';
import type { DatanetSnapshot } from './snapshot.js';
import type { Contribution, DatanetSchema, Label, RowRejectionCode } from './types.js';

export const DATANET_JSONL_FORMAT = 'provenant-datanet';
export const DATANET_JSONL_FORMAT_VERSION = 1;

const REJECTION_CODES = new Set<RowRejectionCode>([
  'ROW_NOT_OBJECT', 'FIELD_UNKNOWN', 'INPUT_MISSING', 'INPUT_TYPE', 'INPUT_NON_FINITE', 'TEXT_EMPTY', 'TEXT_TOO_LONG',
  'VECTOR_EMPTY', 'VECTOR_LENGTH', 'IMAGE_SHAPE', 'LABEL_MISSING', 'LABEL_TYPE', 'LABEL_UNKNOWN', 'METADATA_INVALID',
]);

const snapshotOf = (source: Datanet | DatanetSnapshot): DatanetSnapshot =>
  'snapshot' in source && typeof source.snapshot === 'function' ? source.snapshot() : (source as DatanetSnapshot);

/**
 * The export, line by line (without newlines), so a large Datanet can be written without building one string.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * import { exportJsonlLines, type Datanet } from 'provenant/datanet';
 * declare const datanet: Datanet;
 * const stream = createWriteStream('security.jsonl');
 * for (const line of exportJsonlLines(datanet)) stream.write(line + '\n');
 * stream.end();
 * ```
 */
export function* exportJsonlLines(source: Datanet | DatanetSnapshot): Generator<string> {
  const snapshot = snapshotOf(source);
  yield canonicalJson({ t: 'datanet', format: DATANET_JSONL_FORMAT, formatVersion: DATANET_JSONL_FORMAT_VERSION, name: snapshot.name, schema: snapshot.schema });
  for (const record of snapshot.contributions) {
    yield canonicalJson({
      t: 'contribution',
      contributor: record.contributor,
      licence: record.licence,
      source: record.source,
      timestamp: record.timestamp,
      metadata: record.metadata,
    });
    const { report } = record;
    const lines: { index: number; line: () => string }[] = [];
    report.accepted.forEach((id, k) => {
      const index = report.acceptedIndices[k]!;
      lines.push({
        index,
        line: () => {
          const row = snapshot.getRow(id);
          // The content JSON is the exact text the id hashes; splice it in rather than re-serialising long vectors.
          const content = rowContentJson(row).slice(1, -1);
          const metadata = row.metadata === undefined ? '' : `,"metadata":${canonicalJson(row.metadata)}`;
          return `{"t":"row","i":${index},"id":"${id}",${content}${metadata}}`;
        },
      });
    });
    for (const d of report.duplicates) lines.push({ index: d.index, line: () => canonicalJson({ t: 'duplicate', i: d.index, id: d.rowHash }) });
    for (const r of report.rejections) lines.push({ index: r.index, line: () => canonicalJson({ t: 'rejected', i: r.index, code: r.code, reason: r.reason }) });
    lines.sort((a, b) => a.index - b.index);
    for (const { line } of lines) yield line();
  }
  yield canonicalJson({ t: 'end', version: snapshot.version, root: snapshot.root, rows: snapshot.size, contributions: snapshot.contributions.length });
}

/**
 * Exports a Datanet (its current snapshot) or a snapshot as JSONL text.
 *
 * @example
 * ```ts
 * import { exportJsonl, importJsonl, type Datanet } from 'provenant/datanet';
 * declare const datanet: Datanet;
 * const text = exportJsonl(datanet);
 * importJsonl(text).datanet.snapshot().root === datanet.snapshot().root; // true
 * ```
 */
export function exportJsonl(source: Datanet | DatanetSnapshot): string {
  let out = '';
  for (const line of exportJsonlLines(source)) out += `${line}\n`;
  return out;
}

/**
 * Writes the JSONL export to a file atomically (temporary file, fsync, rename — see `writeFileAtomic`): a crash leaves
 * the previous file or the complete new one. Throws `FILE_WRITE_FAILED` naming the path.
 *
 * @example
 * ```ts
 * import { writeJsonlFile, type Datanet, type DatanetSnapshot } from 'provenant/datanet';
 * declare const datanet: Datanet | DatanetSnapshot;
 * await writeJsonlFile(datanet, 'security.jsonl');
 * ```
 */
export async function writeJsonlFile(source: Datanet | DatanetSnapshot, path: string | URL): Promise<void> {
  const chunks: Buffer[] = [];
  for (const line of exportJsonlLines(source)) chunks.push(Buffer.from(`${line}\n`, 'utf8'));
  await writeFileAtomic(typeof path === 'string' ? path : fileURLToPath(path), Buffer.concat(chunks));
}

/** Default limit on one line of a JSONL file: 16 MiB (UTF-8 bytes). */
export const JSONL_DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Default limit on one row line (a `row` record or a bare row): 4 MiB (UTF-8 bytes) — far above any text or image row. */
export const JSONL_DEFAULT_MAX_ROW_BYTES = 4 * 1024 * 1024;

/** One line an import skipped (`onError: 'skip'`). */
export interface JsonlSkippedLine {
  /** 1-based line number. */
  readonly line: number;
  /** The error code the line would have thrown (`DATANET_JSONL_MALFORMED`, `DATANET_ENCODING_INVALID`, …). */
  readonly code: string;
  readonly reason: string;
}

/** One row an import recorded as rejected: a bare row that failed validation, or a file's `rejected` record. */
export interface JsonlRejectedRow {
  /** 1-based line number. */
  readonly line: number;
  /** The row's index in its contribution (the contribution report's `rejections[k].index`). */
  readonly index: number;
  readonly code: RowRejectionCode;
  readonly reason: string;
}

export interface ImportJsonlOptions {
  /** Import into this Datanet (its schema must equal the file's) instead of a new one. */
  readonly into?: Datanet;
  /** For a file of bare rows (no header): the contribution they belong to. Required for such files. */
  readonly contribution?: Omit<Contribution, 'rows'>;
  /** For a file of bare rows imported into a new Datanet: its name and schema. */
  readonly name?: string;
  readonly schema?: DatanetSchema;
  /** Charset of byte input (a file, a Readable, a Uint8Array). Default 'utf-8', strict. Any iconv-lite label ('latin1', 'windows-1252', 'utf-16le', …). */
  readonly encoding?: string;
  /** 'stop' (default): the first bad line throws. 'skip': bad lines are skipped and listed in `skipped`. */
  readonly onError?: 'stop' | 'skip';
  /** Longest accepted line in UTF-8 bytes. Default {@link JSONL_DEFAULT_MAX_LINE_BYTES}. */
  readonly maxLineBytes?: number;
  /** Longest accepted row line in UTF-8 bytes. Default {@link JSONL_DEFAULT_MAX_ROW_BYTES}. */
  readonly maxRowBytes?: number;
}

/** What an import did. */
export interface ImportJsonlResult {
  readonly datanet: Datanet;
  /** Lines read (including blank ones). */
  readonly lines: number;
  readonly rows: number;
  readonly duplicates: number;
  readonly rejections: number;
  /** The root recorded in the file's end line, when there is one. */
  readonly expectedRoot?: Hex;
  /** Lines skipped under `onError: 'skip'` (empty otherwise). When any were skipped the recorded root is not checked. */
  readonly skipped: readonly JsonlSkippedLine[];
  /** Rows recorded as rejected (`rejections` of them), each with its line, index, code and reason. */
  readonly rejected: readonly JsonlRejectedRow[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A line as the readers hand it over: text, or bytes still to decode; `overflow` when it was cut at the line limit. */
type RawLine = string | Uint8Array;

type Mode = 'start' | 'log' | 'bare' | 'ended';

/** The line-by-line importer shared by the string and streaming front ends. */
function createImporter(options: ImportJsonlOptions) {
  const onError = options.onError ?? 'stop';
  if (onError !== 'stop' && onError !== 'skip') throw new ProvenantError('INVALID_ARGUMENT', 'onError must be "stop" or "skip".', { data: { onError } });
  const maxLineBytes = options.maxLineBytes ?? JSONL_DEFAULT_MAX_LINE_BYTES;
  const maxRowBytes = options.maxRowBytes ?? JSONL_DEFAULT_MAX_ROW_BYTES;
  for (const [name, value] of [['maxLineBytes', maxLineBytes], ['maxRowBytes', maxRowBytes]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new ProvenantError('INVALID_ARGUMENT', `${name} must be a positive integer.`, { data: { [name]: value } });
  }
  const encoding = options.encoding ?? 'utf-8';
  if (!isUtf8Label(encoding) && !iconv.encodingExists(encoding)) {
    throw new ProvenantError('DATANET_ENCODING_INVALID', `Unknown encoding "${encoding}".`, { data: { encoding } });
  }
  const skipped: JsonlSkippedLine[] = [];
  const rejected: JsonlRejectedRow[] = [];
  // A skipped contribution line: its rows must not land in the contribution before it.
  let orphanedSince = 0;
  let mode: Mode = 'start';
  let datanet: Datanet | undefined = options.into;
  let contributionIndex = -1;
  let lineNumber = 0;
  let rows = 0;
  let duplicates = 0;
  let rejections = 0;
  let expectedRoot: Hex | undefined;
  let expectedVersion: number | undefined;
  let bareIndex = 0;

  const lineError = (code: 'DATANET_JSONL_MALFORMED' | 'DATANET_ENCODING_INVALID', message: string, line: string, extra: Record<string, unknown> = {}, cause?: unknown): ProvenantError =>
    new ProvenantError(code, message, {
      metaMessages: [`line ${lineNumber}: ${line.length > 160 ? `${line.slice(0, 159)}…` : line}`],
      details: datanet
        ? `Everything before line ${lineNumber} was imported (${rows} rows); the Datanet is in error.data.datanet. Pass onError: 'skip' to import the other lines.`
        : 'Nothing was imported.',
      data: { line: lineNumber, rowsImported: rows, ...extra, ...(datanet ? { datanet } : {}) },
      cause,
    });
  const malformed = (reason: string, line: string, extra: Record<string, unknown> = {}): ProvenantError =>
    lineError('DATANET_JSONL_MALFORMED', `JSONL line ${lineNumber} is malformed: ${reason}`, line, extra);
  /** Errors about the whole file (its header, its schema): never skipped. */
  const fatal = new WeakSet<ProvenantError>();
  const fatalError = (error: ProvenantError): ProvenantError => (fatal.add(error), error);

  /** Bytes or text → the line's text, enforcing the line limit and the encoding. */
  const decodeLine = (raw: RawLine): string => {
    const byteLength = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
    if (byteLength > maxLineBytes) {
      throw malformed(`the line has ${byteLength} bytes, more than the limit of ${maxLineBytes} (option maxLineBytes).`, '', { reason: 'line-too-long', bytes: byteLength });
    }
    let text: string;
    if (typeof raw === 'string') {
      if (LONE_SURROGATE.test(raw)) throw lineError('DATANET_ENCODING_INVALID', `JSONL line ${lineNumber} holds a lone UTF-16 surrogate (not encodable text).`, raw);
      text = raw;
    } else {
      let bytes = raw;
      if (lineNumber === 1 && isUtf8Label(encoding) && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      try {
        text = decodeCharset(bytes, encoding);
      } catch (cause) {
        const offset = (cause as ProvenantError).data?.byteOffset;
        throw lineError(
          'DATANET_ENCODING_INVALID',
          `JSONL line ${lineNumber} is not valid ${isUtf8Label(encoding) ? 'UTF-8' : encoding}${typeof offset === 'number' && offset >= 0 ? ` (byte ${offset + 1} of the line)` : ''}.`,
          Buffer.from(bytes.subarray(0, 200)).toString('latin1'),
          { encoding, byteOffset: offset },
          cause,
        );
      }
    }
    if (lineNumber === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text;
  };

  const internals = () => datanetInternals(datanet!);

  const openContribution = (header: ContributionHeader): void => {
    contributionIndex = internals().openContribution(header);
  };

  const startBare = (line: string): void => {
    if (!options.contribution) {
      throw fatalError(malformed('expected a provenant-datanet header line; to import bare rows, pass `contribution` (and `into` or `schema`).', line));
    }
    if (!datanet) {
      if (!options.schema) throw fatalError(malformed('bare rows need `into` (a Datanet) or `schema` and `name` to create one.', line));
      datanet = createDatanet({ name: options.name ?? 'imported', schema: options.schema });
    }
    openContribution(normalizeContributionHeader(options.contribution));
    mode = 'bare';
  };

  const applyRowOutcome = (outcome: IngestOutcome, line: string, at: { index: number; row: Record<string, unknown>; id?: RowId }): void => {
    switch (outcome.kind) {
      case 'accepted':
        rows += 1;
        return;
      case 'duplicate':
        duplicates += 1;
        return;
      case 'rejected':
        rejections += 1;
        rejected.push({ line: lineNumber, index: at.index, code: outcome.code, reason: outcome.reason });
        return;
      default:
        throw rowEdited(outcome, line, at.row, at.id!);
    }
  };

  /**
   * A row line that no longer matches the id (its committed Merkle leaf) it carries. When the schema lists its labels,
   * the id tells which label it committed to (one hash per label), so an edited label is named as such.
   */
  const rowEdited = (outcome: Extract<IngestOutcome, { kind: 'invalid' | 'id-mismatch' }>, line: string, row: Record<string, unknown>, id: RowId): ProvenantError => {
    const committedLabel = labelCommittedTo(id, row, datanet!.schema.labels);
    const what =
      committedLabel !== undefined
        ? `its label was edited: the row id commits to ${labelText(committedLabel.label)}, the line says ${labelText(row.label)}`
        : outcome.kind === 'invalid'
          ? `the row no longer passes validation (${outcome.code}: ${outcome.reason}), so it cannot be the accepted row its id names`
          : 'the row content does not hash to its `id` (the input or label was edited, or the file is corrupted)';
    const field = committedLabel !== undefined ? 'label' : outcome.kind === 'invalid' ? fieldOfRejection(outcome.code) : undefined;
    return malformed(`row ${id}: ${what}.`, line, {
      rowId: id,
      ...(field ? { field } : {}),
      ...(committedLabel !== undefined ? { committedLabel: committedLabel.label } : {}),
      ...(outcome.kind === 'id-mismatch' ? { contentId: outcome.id } : { rejection: { code: outcome.code, reason: outcome.reason } }),
    });
  };

  const index = (record: Record<string, unknown>, line: string): number => {
    const i = record.i;
    if (!Number.isSafeInteger(i) || (i as number) < 0) throw malformed('`i` must be a non-negative integer.', line);
    return i as number;
  };

  const requireContribution = (line: string): void => {
    if (contributionIndex < 0) throw malformed('a row record appears before any contribution record.', line);
  };

  const onLine = (raw: RawLine, overflow = false): void => {
    lineNumber += 1;
    try {
      if (overflow) {
        throw malformed(`the line is longer than the limit of ${maxLineBytes} bytes (option maxLineBytes).`, '', { reason: 'line-too-long' });
      }
      applyLine(decodeLine(raw));
    } catch (error) {
      if (onError === 'skip' && error instanceof ProvenantError && !fatal.has(error) && error.code !== 'DATANET_SCHEMA_INVALID') {
        skipped.push({ line: lineNumber, code: error.code, reason: error.shortMessage });
        return;
      }
      throw error;
    }
  };

  const applyLine = (text: string): void => {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim() === '') return;
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      record = parsed as Record<string, unknown>;
    } catch (error) {
      throw malformed(`not a JSON object (${(error as Error).message}).`, line);
    }
    const duplicate = findDuplicateJsonKey(line);
    if (duplicate) {
      throw malformed(`key "${duplicate.key}" appears twice in ${duplicate.path} (JSON.parse would silently keep the last value).`, line, { key: duplicate.key, path: duplicate.path });
    }
    const isRowLine = mode === 'bare' || (mode === 'start' && record.t !== 'datanet') || record.t === 'row';
    if (isRowLine) {
      const bytes = Buffer.byteLength(line, 'utf8');
      if (bytes > maxRowBytes) throw malformed(`the row has ${bytes} bytes, more than the limit of ${maxRowBytes} (option maxRowBytes).`, line, { reason: 'row-too-large', bytes });
    }
    if (mode === 'ended') throw malformed('content after the end record.', line);
    if (mode === 'start') {
      if (record.t !== 'datanet') {
        startBare(line);
      } else {
        if (record.format !== DATANET_JSONL_FORMAT || record.formatVersion !== DATANET_JSONL_FORMAT_VERSION) {
          throw fatalError(malformed(`unsupported format ${JSON.stringify(record.format)} version ${JSON.stringify(record.formatVersion)}.`, line));
        }
        let schema;
        try {
          schema = resolveSchema(record.schema as never);
        } catch (error) {
          throw fatalError(malformed(`invalid schema (${(error as ProvenantError).shortMessage ?? String(error)}).`, line));
        }
        if (datanet) {
          if (canonicalJson(datanet.schema) !== canonicalJson(schema)) {
            throw new ProvenantError('DATANET_SCHEMA_INVALID', "The file's schema differs from the target Datanet's schema.", {
              metaMessages: [`file: ${canonicalJson(schema)}`, `datanet: ${canonicalJson(datanet.schema)}`],
              data: { line: lineNumber },
            });
          }
        } else {
          if (typeof record.name !== 'string') throw fatalError(malformed('the header has no `name`.', line));
          datanet = createDatanet({ name: record.name, schema });
        }
        mode = 'log';
        return;
      }
    }
    if (mode === 'bare') {
      const at = { index: bareIndex++, row: record };
      applyRowOutcome(internals().ingestOne(contributionIndex, at.index, record), line, at);
      return;
    }
    if (record.t !== 'contribution' && record.t !== 'end' && orphanedSince > 0) {
      throw malformed(`the record belongs to the contribution on line ${orphanedSince}, which was skipped.`, line);
    }
    switch (record.t) {
      case 'contribution': {
        let header: ContributionHeader;
        try {
          header = normalizeContributionHeader(record as unknown as Contribution);
        } catch (error) {
          orphanedSince = lineNumber;
          throw malformed(`invalid contribution (${(error as ProvenantError).shortMessage ?? String(error)}).`, line);
        }
        orphanedSince = 0;
        openContribution(header);
        return;
      }
      case 'row': {
        requireContribution(line);
        if (!isHex(record.id, 32)) throw malformed('`id` must be a 32-byte hex hash.', line);
        const row: Record<string, unknown> = { input: record.input };
        if (record.label !== undefined) row.label = record.label;
        if (record.metadata !== undefined) row.metadata = record.metadata;
        const at = { index: index(record, line), row, id: (record.id as string).toLowerCase() as RowId };
        applyRowOutcome(internals().ingestOne(contributionIndex, at.index, row, at.id), line, at);
        return;
      }
      case 'duplicate': {
        requireContribution(line);
        const id = typeof record.id === 'string' ? (record.id.toLowerCase() as RowId) : undefined;
        const held = id ? datanet!.getRow(id) : undefined;
        if (!held) throw malformed('a duplicate refers to a row id that no earlier line holds.', line);
        const row = held.label === undefined ? { input: held.input } : { input: held.input, label: held.label };
        const at = { index: index(record, line), row, id };
        applyRowOutcome(internals().ingestOne(contributionIndex, at.index, row, id), line, at);
        return;
      }
      case 'rejected': {
        requireContribution(line);
        if (!REJECTION_CODES.has(record.code as RowRejectionCode) || typeof record.reason !== 'string') {
          throw malformed('a rejection needs a known `code` and a `reason`.', line);
        }
        const rejection = { index: index(record, line), code: record.code as RowRejectionCode, reason: record.reason };
        internals().recordRejection(contributionIndex, rejection);
        rejected.push({ line: lineNumber, ...rejection });
        rejections += 1;
        return;
      }
      case 'end': {
        if (!isHex(record.root, 32) || !Number.isSafeInteger(record.version) || (record.version as number) < 1) {
          throw malformed('the end record needs a 32-byte `root` and a positive integer `version`.', line);
        }
        expectedRoot = (record.root as string).toLowerCase() as Hex;
        expectedVersion = record.version as number;
        mode = 'ended';
        return;
      }
      default:
        throw malformed(`unknown record type ${JSON.stringify(record.t)}.`, line);
    }
  };

  const finish = (): ImportJsonlResult => {
    if (!datanet) {
      throw new ProvenantError('DATANET_JSONL_MALFORMED', 'The JSONL input is empty: no header and no rows.', { data: { line: lineNumber, rowsImported: 0 } });
    }
    // The end record certifies the exported state; check it only when the file is the Datanet's whole history.
    if (expectedRoot !== undefined && !options.into && skipped.length === 0) {
      internals().setNextVersion(expectedVersion!);
      const root = datanet.snapshot().root;
      if (root !== expectedRoot) {
        throw new ProvenantError('DATANET_SNAPSHOT_INVALID', 'The imported rows do not reproduce the root recorded in the file.', {
          metaMessages: [`recorded root: ${expectedRoot}`, `computed root: ${root}`],
          data: { datanet, expectedRoot, root },
        });
      }
    }
    return { datanet, lines: lineNumber, rows, duplicates, rejections, ...(expectedRoot ? { expectedRoot } : {}), skipped, rejected };
  };

  return { onLine, finish, maxLineBytes, encoding, partial: () => ({ datanet, rows, lines: lineNumber }) };
}

/** The label (or no label) among the schema's that, with the row's input, hashes to `id`; undefined when none does. */
function labelCommittedTo(id: RowId, row: Record<string, unknown>, labels: readonly Label[] | undefined): { label: Label | null } | undefined {
  if (!labels) return undefined;
  for (const label of [undefined, ...labels]) {
    if (label === row.label) continue;
    try {
      if (rowId(label === undefined ? { input: row.input as never } : { input: row.input as never, label }) === id) return { label: label ?? null };
    } catch {
      return undefined; // an input JSON cannot hash (NaN): no label can be named
    }
  }
  return undefined;
}

const labelText = (label: unknown): string => (label === undefined || label === null ? 'no label' : `label ${JSON.stringify(label)}`);

/** The row field a validation code is about. */
function fieldOfRejection(code: RowRejectionCode): 'input' | 'label' | 'metadata' | undefined {
  if (code.startsWith('LABEL_')) return 'label';
  if (code === 'METADATA_INVALID') return 'metadata';
  if (code === 'ROW_NOT_OBJECT' || code === 'FIELD_UNKNOWN') return undefined;
  return 'input';
}

/** Encodings whose newline is not the single byte 0x0A: decoded whole before splitting. */
const isWideEncoding = (encoding: string): boolean => /^(utf-?(16|32)|ucs-?2|utf-?7)/i.test(encoding.trim());

/** Splits bytes at LF; a line longer than `maxLineBytes` is reported as an overflow instead of being held. */
function* splitByteLines(bytes: Uint8Array, maxLineBytes: number): Generator<[Uint8Array, boolean]> {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    yield [line, line.length > maxLineBytes];
    start = end + 1;
  }
}

/**
 * Imports JSONL (the whole file in memory): text, or the file's bytes (UTF-8 unless `encoding` says otherwise).
 * For large files use {@link importJsonlStream}. Throws `DATANET_JSONL_MALFORMED` / `DATANET_ENCODING_INVALID` naming
 * the first bad line (rows before it are in `error.data.datanet`), unless `onError: 'skip'`.
 *
 * @example
 * ```ts
 * import { exportJsonl, importJsonl, type Datanet, type DatanetSnapshot, type Contribution, type DatanetSchema } from 'provenant/datanet';
 * import { readFileSync } from 'node:fs';
 * declare const original: Datanet | DatanetSnapshot;
 * declare const contribution: Omit<Contribution, 'rows'>;
 * declare const schema: DatanetSchema;
 * const { datanet } = importJsonl(exportJsonl(original));
 * importJsonl(readFileSync('legacy.jsonl'), { encoding: 'latin1', contribution, schema }); // bytes in Latin-1
 * ```
 */
export function importJsonl(text: string | Uint8Array, options: ImportJsonlOptions = {}): ImportJsonlResult {
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
    throw new ProvenantError('INVALID_ARGUMENT', 'importJsonl needs the JSONL text or bytes; for a file or stream use importJsonlStream.');
  }
  const importer = createImporter(options);
  if (typeof text !== 'string' && isWideEncoding(importer.encoding)) text = decodeCharset(text, importer.encoding);
  if (typeof text === 'string') {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) importer.onLine(line);
  } else {
    for (const [line, overflow] of splitByteLines(text, importer.maxLineBytes)) importer.onLine(line, overflow);
  }
  return importer.finish();
}

/** Anything `importJsonlStream` reads: a file path or URL, a Node Readable, or any (async) iterable of lines. */
export type JsonlSource = string | URL | Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/**
 * Lines of a byte (or text) stream, split at LF without decoding, so each line is decoded strictly on its own and a
 * line longer than the limit is never held whole (its bytes are dropped up to the next LF and it is reported).
 */
async function* streamLines(chunks: AsyncIterable<Uint8Array | string>, maxLineBytes: number): AsyncGenerator<[Uint8Array, boolean]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflow = false;
  for await (const chunk of chunks) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const nl = bytes.indexOf(0x0a);
      const piece = nl < 0 ? bytes : bytes.subarray(0, nl);
      if (!overflow) {
        if (pendingBytes + piece.length > maxLineBytes) {
          overflow = true;
          pending = [];
          pendingBytes = 0;
        } else {
          pending.push(Buffer.from(piece)); // a copy: the stream may reuse its chunk
          pendingBytes += piece.length;
        }
      }
      if (nl < 0) break;
      yield [new Uint8Array(Buffer.concat(pending, pendingBytes)), overflow];
      pending = [];
      pendingBytes = 0;
      overflow = false;
      bytes = bytes.subarray(nl + 1);
    }
  }
  if (pendingBytes > 0 || overflow) yield [new Uint8Array(Buffer.concat(pending, pendingBytes)), overflow];
}

/**
 * Imports JSONL line by line from a file path, a Node Readable, or an (async) iterable of lines, so memory holds one
 * line at a time (plus the Datanet itself). Bytes are decoded per line (UTF-8 strict unless `encoding` says otherwise).
 * A bad line throws `DATANET_JSONL_MALFORMED` / `DATANET_ENCODING_INVALID` naming it (every row before it has been
 * applied — to `options.into` if given, otherwise to the new Datanet in `error.data.datanet`), or with
 * `onError: 'skip'` is skipped and listed in `skipped`. A missing file is `FILE_NOT_FOUND`.
 *
 * @example
 * ```ts
 * import { importJsonlStream } from 'provenant/datanet';
 * const { datanet, rows, skipped } = await importJsonlStream('security.jsonl', { onError: 'skip' });
 * ```
 */
export async function importJsonlStream(source: JsonlSource, options: ImportJsonlOptions = {}): Promise<ImportJsonlResult> {
  const importer = createImporter(options);
  let chunks: AsyncIterable<Uint8Array | string> | undefined;
  let lines: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array> | undefined;
  let close: (() => void) | undefined;
  if (typeof source === 'string' || source instanceof URL) {
    const path = typeof source === 'string' ? source : fileURLToPath(source);
    // Open first so a missing file is a typed FILE_NOT_FOUND, not a stream error halfway through.
    const handle = await open(path, 'r').catch((cause: unknown) => {
      throw fileError(path, cause, 'FILE_NOT_FOUND', 'JSONL file');
    });
    const stream = handle.createReadStream({ autoClose: true });
    chunks = stream;
    close = () => stream.destroy();
  } else if (source instanceof Readable) {
    chunks = source;
  } else if (source && (typeof (source as AsyncIterable<string>)[Symbol.asyncIterator] === 'function' || typeof (source as Iterable<string>)[Symbol.iterator] === 'function')) {
    lines = source;
  } else {
    throw new ProvenantError('INVALID_ARGUMENT', 'importJsonlStream needs a file path, a URL, a Readable or an iterable of lines.');
  }
  try {
    if (chunks) {
      if (isWideEncoding(importer.encoding)) {
        // UTF-16/32: decode the stream as a whole (iconv-lite keeps state across chunks), then split the text.
        const decoder = iconv.getDecoder(importer.encoding);
        const decoded = (async function* () {
          for await (const chunk of chunks!) yield decoder.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk));
          const rest = decoder.end();
          if (rest) yield rest;
        })();
        let carry = '';
        for await (const text of decoded) {
          const parts = (carry + text).split('\n');
          carry = parts.pop()!;
          for (const part of parts) importer.onLine(part);
        }
        if (carry !== '') importer.onLine(carry);
      } else {
        for await (const [line, overflow] of streamLines(chunks, importer.maxLineBytes)) importer.onLine(line, overflow);
      }
    } else {
      for await (const line of lines!) {
        if (typeof line !== 'string' && !(line instanceof Uint8Array)) throw new ProvenantError('INVALID_ARGUMENT', 'An iterable JSONL source must yield strings or bytes (one line each).');
        importer.onLine(line);
      }
    }
  } catch (error) {
    if (error instanceof ProvenantError) throw error;
    // An I/O failure (broken stream): typed, with the partial Datanet like a malformed line.
    const partial = importer.partial();
    throw new ProvenantError('FILE_READ_FAILED', `Could not read the JSONL source: ${(error as Error).message}`, {
      details: partial.datanet ? `Rows read before the failure (${partial.rows}) are in error.data.datanet.` : undefined,
      data: { line: partial.lines, rowsImported: partial.rows, ...(partial.datanet ? { datanet: partial.datanet } : {}) },
      cause: error,
    });
  } finally {
    close?.();
  }
  return importer.finish();
}
