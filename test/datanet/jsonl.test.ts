import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../src/core/index.js';
import { createDatanet, exportJsonl, exportJsonlLines, importJsonl, importJsonlStream, writeJsonlFile, type Datanet, type Row } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vectorRow = fc.record({
  input: fc.oneof(
    fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 }),
    fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 }).map((v) => Float32Array.from(v)),
    fc.constant([Number.NaN, 1, 2]), // rejected: exported as a rejection record
    fc.constant([1, 2]), // rejected: wrong length
  ),
  label: fc.constantFrom(0, 1, 2, 'cat' as const),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))), { nil: undefined }),
});
const contributions = fc.array(fc.tuple(fc.constantFrom('a', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'z z'), fc.array(vectorRow, { maxLength: 6 })), { maxLength: 5 });

function build(list: [string, Row[]][]): Datanet {
  const datanet = createDatanet({ name: 'vectors', schema: { input: 'vector', vectorLength: 3, labels: [0, 1, 2] } });
  for (const [contributor, rows] of list) {
    // Duplicates within and across contributions, on purpose.
    datanet.addContribution({ contributor, licence: 'CC-BY-4.0', source: 'fast-check', timestamp: 1_700_000_000_000, rows: [...rows, ...rows.slice(0, 1)], metadata: { n: rows.length } });
  }
  return datanet;
}

const state = (datanet: Datanet) => {
  const s = datanet.snapshot();
  return { root: s.root, version: s.version, summary: s.summary(), contributions: s.contributions, rows: s.rows };
};

describe('JSONL', () => {
  it('export → import round-trips exactly: root, version, log, contributor table, rows and metadata', () => {
    fc.assert(
      fc.property(contributions, fc.integer({ min: 0, max: 3 }), (list, extraSnapshots) => {
        const original = build(list as [string, Row[]][]);
        for (let k = 0; k < extraSnapshots; k++) {
          original.snapshot();
          original.addContribution({ contributor: 'late', licence: 'L', source: 's', timestamp: 0, rows: [{ input: [k, k, k], label: 0 }] });
        }
        const text = exportJsonl(original);
        const { datanet } = importJsonl(text);
        expect(state(datanet)).toEqual(state(original));
        // Exporting the import gives the same bytes.
        expect(exportJsonl(datanet)).toBe(text);
      }),
      { numRuns: 80 },
    );
  });

  it('stores -0 as 0, so a vector round-trips bit for bit', () => {
    const original = build([['a', [{ input: [-0, 0.1, -2.5e-310], label: 0 }]]]);
    const { datanet } = importJsonl(exportJsonl(original));
    expect(Object.is((original.snapshot().rows[0]!.input as readonly number[])[0], 0)).toBe(true);
    expect(datanet.snapshot().rows[0]!.input).toEqual([0, 0.1, -2.5e-310]);
  });

  it('streams from a file path, a Readable, an async iterable and an array of lines', async () => {
    const original = build([['a', [{ input: [1, 2, 3], label: 0 }, { input: [4, 5, 6], label: 1, metadata: { k: 'v' } }, { input: [1, 2], label: 0 }]], ['b', [{ input: [1, 2, 3], label: 0 }]]]);
    const path = join(dir, 'datanet.jsonl');
    await writeJsonlFile(original, path);
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(exportJsonl(original));
    const lines = [...exportJsonlLines(original)];
    async function* asyncLines() {
      for (const line of lines) yield line;
    }
    const sources = [path, Readable.from([text.slice(0, 17), text.slice(17)]), asyncLines(), lines];
    for (const source of sources) {
      const result = await importJsonlStream(source);
      expect(state(result.datanet)).toEqual(state(original));
      // `build` re-submits each contribution's first row: 1 duplicate in a, 2 in b (its only row was a's).
      expect([result.rows, result.duplicates, result.rejections]).toEqual([2, 3, 1]);
    }
  });

  it('a malformed line is named, and the rows before it are kept', async () => {
    const original = build([['a', [{ input: [1, 2, 3], label: 0 }, { input: [4, 5, 6], label: 1 }, { input: [7, 8, 9], label: 2 }]]]);
    const lines = exportJsonl(original).trimEnd().split('\n');
    // header, contribution, row, row, row, duplicate, end → break the 5th line (the third row).
    const broken = [...lines.slice(0, 4), '{"t":"row","i":2,', ...lines.slice(5)];
    const path = join(dir, 'broken.jsonl');
    writeFileSync(path, `${broken.join('\n')}\n`);

    let caught: unknown;
    try {
      await importJsonlStream(path);
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught, 'DATANET_JSONL_MALFORMED')).toBe(true);
    const error = caught as ProvenantError;
    expect(error.data.line).toBe(5);
    expect(error.shortMessage).toContain('line 5');
    expect((error.data.datanet as Datanet).size).toBe(2);

    // Importing into an existing Datanet: it keeps what came before the bad line.
    const into = createDatanet({ name: 'target', schema: original.schema });
    await expect(importJsonlStream(broken, { into })).rejects.toThrow(/line 5/);
    expect(into.size).toBe(2);
    expect(() => importJsonl(broken.join('\n'))).toThrow(expect.objectContaining({ code: 'DATANET_JSONL_MALFORMED' }));
  });

  it('catches an edited row (content no longer matches its id) and other structural errors', () => {
    const original = build([['a', [{ input: [1, 2, 3], label: 0 }]]]);
    const text = exportJsonl(original);
    const cases: [string, string][] = [
      ['edited content', text.replace('"input":[1,2,3]', '"input":[1,2,4]')],
      ['unknown record', text.replace('"t":"duplicate"', '"t":"dupe"')],
      ['duplicate of nothing', text.replace(/"id":"0x[0-9a-f]{64}","t":"duplicate"/, `"id":"0x${'1'.repeat(64)}","t":"duplicate"`)],
      ['content after end', `${text}{"t":"row"}\n`],
      ['not an object', text.replace(/\n/, '\n[1,2]\n')],
      ['no header, no contribution option', text.split('\n').slice(2).join('\n')],
      ['bad version', text.replace('"formatVersion":1', '"formatVersion":9')],
    ];
    for (const [name, bad] of cases) {
      expect(() => importJsonl(bad), name).toThrow(expect.objectContaining({ code: 'DATANET_JSONL_MALFORMED' }));
    }
    expect(() => importJsonl(text.replace(/"root":"0x[0-9a-f]{64}"/, `"root":"0x${'2'.repeat(64)}"`))).toThrow(expect.objectContaining({ code: 'DATANET_SNAPSHOT_INVALID' }));
    const other = createDatanet({ name: 'o', schema: { input: 'text' } });
    expect(() => importJsonl(text, { into: other })).toThrow(expect.objectContaining({ code: 'DATANET_SCHEMA_INVALID' }));
  });

  it('a missing file or a failing stream is a typed error', async () => {
    await expect(importJsonlStream(join(dir, 'missing.jsonl'))).rejects.toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    const lines = exportJsonl(build([['a', [{ input: [1, 2, 3], label: 0 }]]])).split('\n');
    async function* failing() {
      yield lines[0]!;
      yield lines[1]!;
      yield lines[2]!;
      throw new Error('connection reset');
    }
    let caught: unknown;
    try {
      await importJsonlStream(failing());
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught, 'FILE_READ_FAILED')).toBe(true);
    expect((caught as ProvenantError).message).toContain('connection reset');
    expect(((caught as ProvenantError).data.datanet as Datanet).size).toBe(1);
  });

  it('imports bare rows as one contribution, reporting bad rows instead of stopping', async () => {
    const lines = ['{"input":"hello","label":"ham"}', '', '{"input":"","label":"ham"}', '{"input":"buy now","label":"spam","metadata":{"n":1}}', '{"input":"hello","label":"ham"}'];
    const result = await importJsonlStream(lines, {
      schema: { input: 'text', labels: ['ham', 'spam'] },
      name: 'bare',
      contribution: { contributor: 'bob', licence: 'CC0-1.0', source: 'inbox.jsonl', timestamp: 0 },
    });
    expect([result.rows, result.duplicates, result.rejections, result.lines]).toEqual([2, 1, 1, 5]);
    const report = result.datanet.contributions()[0]!.report;
    expect(report.rejections.map((r) => [r.index, r.code])).toEqual([[1, 'TEXT_EMPTY']]);
  });
});
