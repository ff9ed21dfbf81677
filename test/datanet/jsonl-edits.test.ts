/**
 * An edited export names what changed, and a header-less import lists the rows it rejected.
 *  - a `row` line whose content no longer matches the id it carries (its committed Merkle leaf) is refused naming the
 *    line, the row id and — when the schema's labels let the id tell — that the label was edited and to what it was
 *    committed; before, a label edited to a value outside the schema was silently recorded as a rejection and the
 *    import failed only at the end with a bare root mismatch;
 *  - rows rejected while importing bare rows are listed with line number, index, code and reason.
 */
import { describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../src/core/index.js';
import { createDatanet, exportJsonl, importJsonl, importJsonlStream, type Datanet } from './helpers.js';

function spamDatanet(): Datanet {
  const datanet = createDatanet({ name: 'mail', schema: { input: 'text', labels: ['ham', 'spam'] } });
  datanet.addContribution({
    contributor: 'alice',
    licence: 'CC0-1.0',
    source: 'inbox',
    timestamp: 0,
    rows: [{ input: 'hello', label: 'ham' }, { input: 'buy now', label: 'spam' }, { input: 'lunch?', label: 'ham' }],
  });
  return datanet;
}

/** The export's lines, and the number (1-based) of the line holding `input`. */
function exported(input: string): { lines: string[]; lineNumber: number } {
  const lines = exportJsonl(spamDatanet()).trimEnd().split('\n');
  const k = lines.findIndex((l) => l.includes(`"input":${JSON.stringify(input)}`));
  return { lines, lineNumber: k + 1 };
}

function importError(text: string): ProvenantError {
  try {
    importJsonl(text);
  } catch (error) {
    expect(isProvenantError(error)).toBe(true);
    return error as ProvenantError;
  }
  throw new Error('the edited file imported');
}

describe('JSONL: an edited export names the line and the row', () => {
  const cases: [string, string, string | null][] = [
    ['a label swapped for another known label', '"label":"ham"', 'spam'],
    ['a label outside the schema', '"label":"eggs"', 'spam'],
    ['a label with another case', '"label":"Spam"', 'spam'],
  ];
  for (const [name, replacement, committed] of cases) {
    it(`${name}: DATANET_JSONL_MALFORMED with line, row id, field 'label' and the committed label`, () => {
      const { lines, lineNumber } = exported('buy now');
      const id = /"id":"(0x[0-9a-f]{64})"/.exec(lines[lineNumber - 1]!)![1]!;
      lines[lineNumber - 1] = lines[lineNumber - 1]!.replace('"label":"spam"', replacement);
      const error = importError(`${lines.join('\n')}\n`);
      expect(error.code).toBe('DATANET_JSONL_MALFORMED');
      expect(error.data).toMatchObject({ line: lineNumber, rowId: id, field: 'label', committedLabel: committed });
      expect(error.shortMessage).toContain(`line ${lineNumber}`);
      expect(error.shortMessage).toContain(id);
      expect(error.shortMessage).toContain('label was edited');
      // Rows before the edited line stay imported; the edited one is not recorded as a rejection.
      const datanet = error.data.datanet as Datanet;
      expect(datanet.size).toBe(1);
      expect(datanet.contributions()[0]!.report.rejections).toEqual([]);
    });
  }

  it('a removed label is named as one (the id commits to "spam", the line has no label)', () => {
    const { lines, lineNumber } = exported('buy now');
    lines[lineNumber - 1] = lines[lineNumber - 1]!.replace(',"label":"spam"', '');
    const error = importError(lines.join('\n'));
    expect(error.data).toMatchObject({ line: lineNumber, field: 'label', committedLabel: 'spam' });
    expect(error.shortMessage).toContain('the line says no label');
  });

  it('an edited input: the line and row id, no field claimed (the id cannot say which part changed)', () => {
    const { lines, lineNumber } = exported('lunch?');
    lines[lineNumber - 1] = lines[lineNumber - 1]!.replace('"input":"lunch?"', '"input":"dinner?"');
    const error = importError(lines.join('\n'));
    expect(error.code).toBe('DATANET_JSONL_MALFORMED');
    expect(error.data.line).toBe(lineNumber);
    expect(error.data.field).toBeUndefined();
    expect(error.data.contentId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(error.shortMessage).toContain('does not hash to its `id`');
  });

  it('an input edited into an invalid one names the field from the validation code', () => {
    const { lines, lineNumber } = exported('lunch?');
    lines[lineNumber - 1] = lines[lineNumber - 1]!.replace('"input":"lunch?"', '"input":"  "');
    const error = importError(lines.join('\n'));
    expect(error.data).toMatchObject({ line: lineNumber, field: 'input', rejection: { code: 'TEXT_EMPTY' } });
  });

  it("onError 'skip' lists the edited line instead of failing at the end on the root", () => {
    const { lines, lineNumber } = exported('buy now');
    lines[lineNumber - 1] = lines[lineNumber - 1]!.replace('"label":"spam"', '"label":"eggs"');
    const result = importJsonl(lines.join('\n'), { onError: 'skip' });
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]).toMatchObject({ line: lineNumber, code: 'DATANET_JSONL_MALFORMED' });
    expect(result.skipped[0]!.reason).toContain('label was edited');
    expect([result.rows, result.rejections]).toEqual([2, 0]);
  });
});

describe('JSONL: rejected rows are listed, not only counted', () => {
  it('bare rows: each rejection with its line number, index, code and reason', async () => {
    const lines = [
      '{"input":"hello","label":"ham"}',
      '',
      '{"input":"","label":"ham"}',
      '{"input":"buy now","label":"eggs"}',
      '{"input":"hello","label":"ham"}',
      '{"input":"ok","label":"spam"}',
    ];
    const options = {
      schema: { input: 'text' as const, labels: ['ham', 'spam'] },
      contribution: { contributor: 'bob', licence: 'CC0-1.0', source: 'inbox.jsonl', timestamp: 0 },
    };
    for (const result of [importJsonl(lines.join('\n'), options), await importJsonlStream(lines, options)]) {
      expect(result.rejections).toBe(2);
      expect(result.rejected.map((r) => [r.line, r.index, r.code])).toEqual([
        [3, 1, 'TEXT_EMPTY'],
        [4, 2, 'LABEL_UNKNOWN'],
      ]);
      // The same rejections the contribution report records, with the reason a person can act on.
      const report = result.datanet.contributions()[0]!.report;
      expect(result.rejected.map((r) => [r.index, r.code, r.reason])).toEqual(report.rejections.map((r) => [r.index, r.code, r.reason]));
      expect(result.rejected[1]!.reason).toContain('eggs');
    }
  });

  it("a full export's rejected records are listed with their lines too", () => {
    const datanet = spamDatanet();
    datanet.addContribution({ contributor: 'bob', licence: 'CC0-1.0', source: 's', timestamp: 0, rows: [{ input: 'x', label: 'ham' }, { input: ' ', label: 'ham' }] });
    const text = exportJsonl(datanet);
    const lineNumber = text.split('\n').findIndex((l) => l.includes('"t":"rejected"')) + 1;
    const result = importJsonl(text);
    expect(result.rejected).toEqual([{ line: lineNumber, index: 1, code: 'TEXT_EMPTY', reason: expect.stringContaining('empty') }]);
  });
});
