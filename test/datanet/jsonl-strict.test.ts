/**
 * Issue 13, kinds 2, 3 and 9 at the JSONL entry points (importJsonl on text and bytes, importJsonlStream on a path, a
 * Readable and an iterable): strict UTF-8 unless an encoding is named, duplicate keys refused, a BOM skipped, size
 * limits, and `onError: 'skip'` reporting every skipped line. Cases from ../shared/cases/jsonl.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKey, isProvenantError, type ProvenantError } from '../../src/core/index.js';
import { createDatanet, exportJsonl, importJsonl, importJsonlStream, type Datanet, type ImportJsonlOptions, type ImportJsonlResult } from './helpers.js';

const CASES = join(__dirname, '../../../shared/cases/jsonl');
const dir = mkdtempSync(join(tmpdir(), 'provenant-jsonl-strict-'));
const schema = { input: 'text', labels: ['ham', 'spam'] } as const;
const bare: ImportJsonlOptions = { contribution: { contributor: 'alice', licence: 'CC0-1.0', source: 'test', timestamp: 0 }, schema: { ...schema, labels: [...schema.labels] } };

/** Every entry point over the same bytes: text is only possible when the bytes are UTF-8, so it is left out otherwise. */
async function viaAll(bytes: Uint8Array, options: ImportJsonlOptions): Promise<{ entry: string; result?: ImportJsonlResult; error?: unknown }[]> {
  const file = join(dir, `f-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, bytes);
  const run = async (entry: string, f: () => ImportJsonlResult | Promise<ImportJsonlResult>) => {
    try {
      return { entry, result: await f() };
    } catch (error) {
      return { entry, error };
    }
  };
  const lines = Buffer.from(bytes).toString('latin1').split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').map((l) => new Uint8Array(Buffer.from(l, 'latin1')));
  return [
    await run('importJsonl(bytes)', () => importJsonl(bytes, options)),
    await run('importJsonlStream(path)', () => importJsonlStream(file, options)),
    // A Readable in small chunks, so lines and multi-byte characters straddle chunk boundaries.
    await run('importJsonlStream(Readable)', () => importJsonlStream(Readable.from(chunk(bytes, 3)), options)),
    await run('importJsonlStream(byte lines)', () => importJsonlStream(lines, options)),
  ];
}
const chunk = (bytes: Uint8Array, size: number): Buffer[] => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => Buffer.from(bytes.subarray(i * size, (i + 1) * size)));

describe('JSONL: text is decoded strictly (kind 2)', () => {
  it('cases/jsonl/latin1-bare-rows.jsonl: a typed error naming line 1 at every entry point, nothing imported', async () => {
    const bytes = new Uint8Array(readFileSync(join(CASES, 'latin1-bare-rows.jsonl')));
    for (const { entry, error, result } of await viaAll(bytes, bare)) {
      expect(result, entry).toBeUndefined();
      expect(isProvenantError(error, 'DATANET_ENCODING_INVALID'), entry).toBe(true);
      expect((error as ProvenantError).data.line, entry).toBe(1);
      expect((error as ProvenantError).message).toMatch(/line 1 is not valid UTF-8/);
      expect((error as ProvenantError).data.rowsImported).toBe(0);
    }
  });

  it('cases/jsonl/latin1-bare-rows.jsonl with encoding latin1: two distinct rows café ok, cafè ok', async () => {
    const bytes = new Uint8Array(readFileSync(join(CASES, 'latin1-bare-rows.jsonl')));
    for (const { entry, result, error } of await viaAll(bytes, { ...bare, encoding: 'latin1' })) {
      expect(error, entry).toBeUndefined();
      expect(result!.rows, entry).toBe(2);
      expect(result!.duplicates).toBe(0);
      expect(result!.datanet.snapshot().rows.map((r) => r.input).sort()).toEqual(['cafè ok', 'café ok']);
    }
  });

  it('windows-1252, UTF-16LE and a bad byte in the middle of a long UTF-8 file', async () => {
    const cp1252 = iconv.encode('{"input":"\u201Cquoted\u201D \u20AC5","label":"spam"}\n', 'windows-1252');
    for (const { entry, result } of await viaAll(new Uint8Array(cp1252), { ...bare, encoding: 'windows-1252' })) {
      expect(result?.datanet.snapshot().rows[0]!.input, entry).toBe('\u201Cquoted\u201D \u20AC5');
    }
    const utf16 = iconv.encode('{"input":"naïve 日本","label":"ham"}\n{"input":"second","label":"ham"}\n', 'utf-16le');
    const a = importJsonl(new Uint8Array(utf16), { ...bare, encoding: 'utf-16le' });
    const b = await importJsonlStream(Readable.from(chunk(new Uint8Array(utf16), 5)), { ...bare, encoding: 'utf-16le' });
    for (const r of [a, b]) expect(r.datanet.snapshot().rows.map((x) => x.input).sort()).toEqual(['naïve 日本', 'second']);
    // 40 good UTF-8 lines (with multi-byte text), then a truncated 3-byte character on line 41.
    const good = Array.from({ length: 40 }, (_, i) => `{"input":"ligne ${i} — été","label":"ham"}`).join('\n');
    const bad = Buffer.concat([Buffer.from(`${good}\n{"input":"x`), Buffer.from([0xe2, 0x80]), Buffer.from('","label":"ham"}\n')]);
    for (const { entry, error } of await viaAll(new Uint8Array(bad), bare)) {
      expect(isProvenantError(error, 'DATANET_ENCODING_INVALID'), entry).toBe(true);
      expect((error as ProvenantError).data.line).toBe(41);
      expect(((error as ProvenantError).data.datanet as Datanet).size).toBe(40);
    }
  });

  it('text with a lone surrogate is refused; an unknown encoding is refused up front', async () => {
    expect(() => importJsonl('{"input":"a\uD800b","label":"ham"}\n', bare)).toThrow(expect.objectContaining({ code: 'DATANET_ENCODING_INVALID' }));
    expect(() => importJsonl('', { ...bare, encoding: 'klingon-8' })).toThrow(/Unknown encoding "klingon-8"/);
  });
});

describe('JSONL: duplicate keys (kind 3)', () => {
  it('a row with a key twice is refused naming the line and the key, in bare and in full files', async () => {
    const text = '{"input":"a","label":"ham"}\n{"input":"b","label":"ham","label":"spam"}\n';
    for (const { entry, error } of await viaAll(new Uint8Array(Buffer.from(text)), bare)) {
      expect(isProvenantError(error, 'DATANET_JSONL_MALFORMED'), entry).toBe(true);
      expect((error as ProvenantError).data).toMatchObject({ line: 2, key: 'label', path: '$' });
    }
    const datanet = createDatanet({ name: 'd', schema: { input: 'text', labels: ['ham', 'spam'] } });
    datanet.addContribution({ contributor: 'bob', licence: 'CC0-1.0', source: 's', timestamp: 0, rows: [{ input: 'hi', label: 'ham', metadata: { k: 1 } }] });
    const lines = exportJsonl(datanet).split('\n');
    lines[2] = lines[2]!.replace('"metadata":{"k":1}', '"metadata":{"k":1,"\\u006b":2}');
    expect(() => importJsonl(lines.join('\n'))).toThrow(expect.objectContaining({ data: expect.objectContaining({ line: 3, key: 'k', path: '$.metadata' }) }));
  });

  it('findDuplicateJsonKey agrees with a brute-force check on random JSON objects', () => {
    const key = fc.constantFrom('a', 'b', '__proto__', 'é', 'x"y', 'k');
    const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null));
    const obj = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('object'), fc.array(tie('value'), { maxLength: 3 })),
      object: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }),
    }));
    const render = (v: unknown): string =>
      Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && (e as unknown[]).length === 2) && (v as unknown[]).length > 0 && (v as [string, unknown][]).every(([k]) => ['a', 'b', '__proto__', 'é', 'x"y', 'k'].includes(k))
        ? `{${(v as [string, unknown][]).map(([k, x]) => `${JSON.stringify(k)}:${render(x)}`).join(',')}}`
        : Array.isArray(v)
          ? `[${v.map(render).join(',')}]`
          : JSON.stringify(v);
    const hasDup = (v: unknown): boolean => {
      if (!Array.isArray(v)) return false;
      const isObj = v.length > 0 && (v as [string, unknown][]).every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && ['a', 'b', '__proto__', 'é', 'x"y', 'k'].includes(e[0]));
      if (isObj) {
        const keys = (v as [string, unknown][]).map(([k]) => k);
        return new Set(keys).size !== keys.length || (v as [string, unknown][]).some(([, x]) => hasDup(x));
      }
      return v.some(hasDup);
    };
    fc.assert(
      fc.property(obj.object, (o) => {
        const text = render(o.length ? o : []);
        JSON.parse(text);
        expect(findDuplicateJsonKey(text) !== null).toBe(hasDup(o.length ? o : []));
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe('JSONL: long imports do not give up (kind 9)', () => {
  it('cases/jsonl/bom.jsonl: the byte-order mark is skipped and the file imports', async () => {
    const bytes = new Uint8Array(readFileSync(join(CASES, 'bom.jsonl')));
    const text = bytes.toString();
    for (const { entry, result, error } of [...(await viaAll(bytes, {})), { entry: 'importJsonl(text)', ...(await Promise.resolve().then(() => ({ result: importJsonl(Buffer.from(bytes).toString('utf8')) }))) }]) {
      expect(error, entry).toBeUndefined();
      expect(result!.datanet.name, entry).toBe('edge');
      expect(result!.rows, entry).toBeGreaterThan(0);
    }
    void text;
  });

  it("onError 'skip' imports every good line of a 12,000-line file and reports each bad one with its number and reason", async () => {
    const lines: string[] = [];
    const bad = new Map<number, string>();
    for (let i = 1; i <= 12_000; i++) {
      if (i % 997 === 0) {
        lines.push('{"input":"broken"');
        bad.set(i, 'not a JSON object');
      } else if (i % 1499 === 0) {
        lines.push(`{"input":"dup ${i}","label":"ham","label":"spam"}`);
        bad.set(i, 'appears twice');
      } else lines.push(JSON.stringify({ input: `row ${i}`, label: i % 2 ? 'ham' : 'spam' }));
    }
    const text = `${lines.join('\n')}\n`;
    const stop = await importJsonlStream(Readable.from([Buffer.from(text)]), bare).catch((e: ProvenantError) => e);
    expect(isProvenantError(stop, 'DATANET_JSONL_MALFORMED')).toBe(true);
    expect((stop as ProvenantError).data.line).toBe(997);
    for (const result of [importJsonl(text, { ...bare, onError: 'skip' }), await importJsonlStream(Readable.from(chunk(new Uint8Array(Buffer.from(text)), 4096)), { ...bare, onError: 'skip' })]) {
      expect(result.rows).toBe(12_000 - bad.size);
      expect(result.skipped.map((s) => s.line)).toEqual([...bad.keys()].sort((a, b) => a - b));
      for (const s of result.skipped) {
        expect(s.code).toBe('DATANET_JSONL_MALFORMED');
        expect(s.reason).toContain(bad.get(s.line)!);
      }
    }
  });

  it('a skipped contribution line takes its rows with it instead of giving them to the previous contributor', () => {
    const datanet = createDatanet({ name: 'd', schema: { input: 'text', labels: ['ham', 'spam'] } });
    datanet.addContribution({ contributor: 'alice', licence: 'CC0-1.0', source: 's', timestamp: 0, rows: [{ input: 'a1', label: 'ham' }] });
    datanet.addContribution({ contributor: 'bob', licence: 'CC0-1.0', source: 's', timestamp: 0, rows: [{ input: 'b1', label: 'ham' }, { input: 'b2', label: 'spam' }] });
    const lines = exportJsonl(datanet).trimEnd().split('\n');
    const bobLine = lines.findIndex((l) => l.includes('"contributor":"bob"'));
    lines[bobLine] = lines[bobLine]!.replace('"contributor":"bob"', '"contributor":""');
    const result = importJsonl(lines.join('\n'), { onError: 'skip' });
    expect(result.datanet.snapshot().rows.map((r) => [r.contributor, r.input])).toEqual([['alice', 'a1']]);
    expect(result.skipped.map((s) => s.line)).toEqual([bobLine + 1, bobLine + 2, bobLine + 3]);
    expect(result.skipped[1]!.reason).toContain(`contribution on line ${bobLine + 1}, which was skipped`);
  });

  it('size limits per line and per row: typed error or skip reason, and a huge line is never held whole', async () => {
    expect(importJsonl('{"input":"a","label":"ham"}\n', bare).rows).toBe(1);
    const big = JSON.stringify({ input: 'x'.repeat(5000), label: 'ham' });
    const text = `{"input":"small","label":"ham"}\n${big}\n{"input":"after","label":"spam"}\n`;
    expect(() => importJsonl(text, { ...bare, maxRowBytes: 1000 })).toThrow(expect.objectContaining({ data: expect.objectContaining({ line: 2, reason: 'row-too-large' }) }));
    const skippedRow = importJsonl(text, { ...bare, maxRowBytes: 1000, onError: 'skip' });
    expect([skippedRow.rows, skippedRow.skipped[0]!.line, skippedRow.skipped[0]!.reason]).toEqual([2, 2, expect.stringContaining('maxRowBytes')]);
    for (const { entry, result } of await viaAll(new Uint8Array(Buffer.from(text)), { ...bare, maxLineBytes: 1000, onError: 'skip' })) {
      expect(result?.rows, entry).toBe(2);
      expect(result!.skipped[0]!.reason, entry).toContain('maxLineBytes');
    }
    // A 64 MiB line without a newline, streamed: refused by the line limit without buffering it.
    const huge = (async function* () {
      yield Buffer.from('{"input":"ok","label":"ham"}\n{"input":"');
      const block = Buffer.alloc(1 << 20, 0x61);
      for (let i = 0; i < 64; i++) yield block;
      yield Buffer.from('","label":"ham"}\n{"input":"last","label":"ham"}\n');
    })();
    const r = await importJsonlStream(Readable.from(huge), { ...bare, onError: 'skip' });
    expect([r.rows, r.skipped.map((s) => s.line)]).toEqual([2, [2]]);
  });
});
