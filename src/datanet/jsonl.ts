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
 * caught. Rows are applied as they are read: a malformed line stops the import with `DATANET_JSONL_MALFORMED`
 * naming the line, and every row before it stays in the Datanet (`error.data.datanet`).
 *
 * A file without the header is read as bare rows (`{"input":…,"label":…}` per line) when `contribution` says whose
 * they are — the usual way to bring an existing data set in.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { ProvenantError, canonicalJson, isHex, type Hex } from '../core/index.js';
import {
  createDatanet,
  datanetInternals,
  normalizeContributionHeader,
  type ContributionHeader,
  type Datanet,
} from './datanet.js';
import { rowContentJson, type RowId } from './row-hash.js';
import { resolveSchema } from './schema.js';
import type { DatanetSnapshot } from './snapshot.js';
import type { Contribution, DatanetSchema, RowRejectionCode } from './types.js';

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
 * for (const line of exportJsonlLines(datanet)) stream.write(line + '\n');
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
 * const text = exportJsonl(datanet);
 * importJsonl(text).snapshot().root === datanet.snapshot().root; // true
 */
export function exportJsonl(source: Datanet | DatanetSnapshot): string {
  let out = '';
  for (const line of exportJsonlLines(source)) out += `${line}\n`;
  return out;
}

/** Writes the JSONL export to a file, streaming (respects back-pressure). */
export async function writeJsonlFile(source: Datanet | DatanetSnapshot, path: string | URL): Promise<void> {
  const stream = createWriteStream(path, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => undefined);
  for (const line of exportJsonlLines(source)) {
    if (!stream.write(`${line}\n`)) await Promise.race([once(stream, 'drain'), failed]);
  }
  stream.end();
  await Promise.race([once(stream, 'finish'), failed]);
}

export interface ImportJsonlOptions {
  /** Import into this Datanet (its schema must equal the file's) instead of a new one. */
  readonly into?: Datanet;
  /** For a file of bare rows (no header): the contribution they belong to. Required for such files. */
  readonly contribution?: Omit<Contribution, 'rows'>;
  /** For a file of bare rows imported into a new Datanet: its name and schema. */
  readonly name?: string;
  readonly schema?: DatanetSchema;
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
}

type Mode = 'start' | 'log' | 'bare' | 'ended';

/** The line-by-line importer shared by the string and streaming front ends. */
function createImporter(options: ImportJsonlOptions) {
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

  const malformed = (reason: string, line: string): ProvenantError =>
    new ProvenantError('DATANET_JSONL_MALFORMED', `JSONL line ${lineNumber} is malformed: ${reason}`, {
      metaMessages: [`line ${lineNumber}: ${line.length > 160 ? `${line.slice(0, 159)}…` : line}`],
      details: datanet
        ? `Everything before line ${lineNumber} was imported (${rows} rows); the Datanet is in error.data.datanet.`
        : 'Nothing was imported.',
      data: { line: lineNumber, rowsImported: rows, ...(datanet ? { datanet } : {}) },
    });

  const internals = () => datanetInternals(datanet!);

  const openContribution = (header: ContributionHeader): void => {
    contributionIndex = internals().openContribution(header);
  };

  const startBare = (line: string): void => {
    if (!options.contribution) {
      throw malformed('expected a provenant-datanet header line; to import bare rows, pass `contribution` (and `into` or `schema`).', line);
    }
    if (!datanet) {
      if (!options.schema) throw malformed('bare rows need `into` (a Datanet) or `schema` and `name` to create one.', line);
      datanet = createDatanet({ name: options.name ?? 'imported', schema: options.schema });
    }
    openContribution(normalizeContributionHeader(options.contribution));
    mode = 'bare';
  };

  const applyRowOutcome = (outcome: 'accepted' | 'duplicate' | 'rejected' | 'id-mismatch', line: string): void => {
    if (outcome === 'accepted') rows += 1;
    else if (outcome === 'duplicate') duplicates += 1;
    else if (outcome === 'rejected') rejections += 1;
    else throw malformed('the row content does not hash to its `id` (the file was edited or corrupted).', line);
  };

  const index = (record: Record<string, unknown>, line: string): number => {
    const i = record.i;
    if (!Number.isSafeInteger(i) || (i as number) < 0) throw malformed('`i` must be a non-negative integer.', line);
    return i as number;
  };

  const requireContribution = (line: string): void => {
    if (contributionIndex < 0) throw malformed('a row record appears before any contribution record.', line);
  };

  const onLine = (raw: string): void => {
    lineNumber += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      record = parsed as Record<string, unknown>;
    } catch (error) {
      throw malformed(`not a JSON object (${(error as Error).message}).`, line);
    }
    if (mode === 'ended') throw malformed('content after the end record.', line);
    if (mode === 'start') {
      if (record.t !== 'datanet') {
        startBare(line);
      } else {
        if (record.format !== DATANET_JSONL_FORMAT || record.formatVersion !== DATANET_JSONL_FORMAT_VERSION) {
          throw malformed(`unsupported format ${JSON.stringify(record.format)} version ${JSON.stringify(record.formatVersion)}.`, line);
        }
        let schema;
        try {
          schema = resolveSchema(record.schema as never);
        } catch (error) {
          throw malformed(`invalid schema (${(error as ProvenantError).shortMessage ?? String(error)}).`, line);
        }
        if (datanet) {
          if (canonicalJson(datanet.schema) !== canonicalJson(schema)) {
            throw new ProvenantError('DATANET_SCHEMA_INVALID', "The file's schema differs from the target Datanet's schema.", {
              metaMessages: [`file: ${canonicalJson(schema)}`, `datanet: ${canonicalJson(datanet.schema)}`],
              data: { line: lineNumber },
            });
          }
        } else {
          if (typeof record.name !== 'string') throw malformed('the header has no `name`.', line);
          datanet = createDatanet({ name: record.name, schema });
        }
        mode = 'log';
        return;
      }
    }
    if (mode === 'bare') {
      applyRowOutcome(internals().ingestOne(contributionIndex, bareIndex++, record), line);
      return;
    }
    switch (record.t) {
      case 'contribution': {
        let header: ContributionHeader;
        try {
          header = normalizeContributionHeader(record as unknown as Contribution);
        } catch (error) {
          throw malformed(`invalid contribution (${(error as ProvenantError).shortMessage ?? String(error)}).`, line);
        }
        openContribution(header);
        return;
      }
      case 'row': {
        requireContribution(line);
        if (!isHex(record.id, 32)) throw malformed('`id` must be a 32-byte hex hash.', line);
        const row: Record<string, unknown> = { input: record.input };
        if (record.label !== undefined) row.label = record.label;
        if (record.metadata !== undefined) row.metadata = record.metadata;
        applyRowOutcome(internals().ingestOne(contributionIndex, index(record, line), row, (record.id as string).toLowerCase() as RowId), line);
        return;
      }
      case 'duplicate': {
        requireContribution(line);
        const id = typeof record.id === 'string' ? (record.id.toLowerCase() as RowId) : undefined;
        const held = id ? datanet!.getRow(id) : undefined;
        if (!held) throw malformed('a duplicate refers to a row id that no earlier line holds.', line);
        const row = held.label === undefined ? { input: held.input } : { input: held.input, label: held.label };
        applyRowOutcome(internals().ingestOne(contributionIndex, index(record, line), row, id), line);
        return;
      }
      case 'rejected': {
        requireContribution(line);
        if (!REJECTION_CODES.has(record.code as RowRejectionCode) || typeof record.reason !== 'string') {
          throw malformed('a rejection needs a known `code` and a `reason`.', line);
        }
        internals().recordRejection(contributionIndex, { index: index(record, line), code: record.code as RowRejectionCode, reason: record.reason });
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
    if (expectedRoot !== undefined && !options.into) {
      internals().setNextVersion(expectedVersion!);
      const root = datanet.snapshot().root;
      if (root !== expectedRoot) {
        throw new ProvenantError('DATANET_SNAPSHOT_INVALID', 'The imported rows do not reproduce the root recorded in the file.', {
          metaMessages: [`recorded root: ${expectedRoot}`, `computed root: ${root}`],
          data: { datanet, expectedRoot, root },
        });
      }
    }
    return { datanet, lines: lineNumber, rows, duplicates, rejections, ...(expectedRoot ? { expectedRoot } : {}) };
  };

  return { onLine, finish, partial: () => ({ datanet, rows, lines: lineNumber }) };
}

/**
 * Imports JSONL text (the whole file in memory). For large files use {@link importJsonlStream}.
 * Throws `DATANET_JSONL_MALFORMED` naming the first bad line; rows before it are in `error.data.datanet`.
 *
 * @example
 * const { datanet } = importJsonl(exportJsonl(original));
 */
export function importJsonl(text: string, options: ImportJsonlOptions = {}): ImportJsonlResult {
  if (typeof text !== 'string') throw new ProvenantError('INVALID_ARGUMENT', 'importJsonl needs the JSONL text; for a file or stream use importJsonlStream.');
  const importer = createImporter(options);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) importer.onLine(line);
  return importer.finish();
}

/** Anything `importJsonlStream` reads: a file path or URL, a Node Readable, or any (async) iterable of lines. */
export type JsonlSource = string | URL | Readable | AsyncIterable<string> | Iterable<string>;

/**
 * Imports JSONL line by line from a file path, a Node Readable, or an (async) iterable of lines, so memory holds one
 * line at a time (plus the Datanet itself). A malformed line throws `DATANET_JSONL_MALFORMED` naming it; every row
 * before it has been applied — to `options.into` if given, otherwise to the new Datanet in `error.data.datanet`.
 *
 * @example
 * const { datanet, rows } = await importJsonlStream('security.jsonl');
 */
export async function importJsonlStream(source: JsonlSource, options: ImportJsonlOptions = {}): Promise<ImportJsonlResult> {
  const importer = createImporter(options);
  let lines: AsyncIterable<string> | Iterable<string>;
  let close: (() => void) | undefined;
  if (typeof source === 'string' || source instanceof URL) {
    const stream = createReadStream(source, { encoding: 'utf8' });
    const reader = createInterface({ input: stream, crlfDelay: Infinity });
    lines = reader;
    close = () => {
      reader.close();
      stream.destroy();
    };
  } else if (source instanceof Readable) {
    const reader = createInterface({ input: source, crlfDelay: Infinity });
    lines = reader;
    close = () => reader.close();
  } else if (source && (typeof (source as AsyncIterable<string>)[Symbol.asyncIterator] === 'function' || typeof (source as Iterable<string>)[Symbol.iterator] === 'function')) {
    lines = source;
  } else {
    throw new ProvenantError('INVALID_ARGUMENT', 'importJsonlStream needs a file path, a URL, a Readable or an iterable of lines.');
  }
  try {
    for await (const line of lines) {
      if (typeof line !== 'string') throw new ProvenantError('INVALID_ARGUMENT', 'An iterable JSONL source must yield strings (one line each).');
      importer.onLine(line);
    }
  } catch (error) {
    if (error instanceof ProvenantError) throw error;
    // An I/O failure (missing file, broken stream): typed, with the partial Datanet like a malformed line.
    const partial = importer.partial();
    throw new ProvenantError('INVALID_ARGUMENT', `Could not read the JSONL source: ${(error as Error).message}`, {
      details: partial.datanet ? `Rows read before the failure (${partial.rows}) are in error.data.datanet.` : undefined,
      data: { line: partial.lines, rowsImported: partial.rows, ...(partial.datanet ? { datanet: partial.datanet } : {}) },
      cause: error,
    });
  } finally {
    close?.();
  }
  return importer.finish();
}
