import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { checksumAddress, createDatanet, normalizeContributor, resolveSchema, syntheticAddress, validateRow, type RowRejectionCode } from '../../src/datanet/index.js';

const contribution = (rows: unknown[], contributor = 'alice') => ({ contributor, licence: 'CC0-1.0', source: 'test', timestamp: '2024-01-01T00:00:00Z', rows: rows as never[] });

describe('row validation', () => {
  const text = resolveSchema({ input: 'text', labels: ['ham', 'spam'] });
  const vector = resolveSchema({ input: 'vector', vectorLength: 3, labels: [0, 1] });
  const image = resolveSchema({ input: 'image', imageShape: { width: 2, height: 1, channels: 1 } });
  const cases: [string, unknown, ReturnType<typeof resolveSchema>, RowRejectionCode][] = [
    ['null row', null, text, 'ROW_NOT_OBJECT'],
    ['array row', ['x'], text, 'ROW_NOT_OBJECT'],
    ['typo in a field', { input: 'x', lable: 'ham' }, text, 'FIELD_UNKNOWN'],
    ['no input', { label: 'ham' }, text, 'INPUT_MISSING'],
    ['number as text', { input: 5, label: 'ham' }, text, 'INPUT_TYPE'],
    ['empty text', { input: '', label: 'ham' }, text, 'TEXT_EMPTY'],
    ['whitespace text', { input: ' \n\t', label: 'ham' }, text, 'TEXT_EMPTY'],
    ['unknown label', { input: 'x', label: 'spamm' }, text, 'LABEL_UNKNOWN'],
    ['missing label', { input: 'x' }, text, 'LABEL_MISSING'],
    ['boolean label', { input: 'x', label: true }, text, 'LABEL_TYPE'],
    ['fractional label', { input: [1, 2, 3], label: 0.5 }, vector, 'LABEL_TYPE'],
    ['NaN element', { input: [1, Number.NaN, 3], label: 0 }, vector, 'INPUT_NON_FINITE'],
    ['Infinity element', { input: [1, 2, Number.POSITIVE_INFINITY], label: 0 }, vector, 'INPUT_NON_FINITE'],
    ['NaN in a typed array', { input: Float32Array.from([1, Number.NaN, 3]), label: 0 }, vector, 'INPUT_NON_FINITE'],
    ['string element', { input: [1, '2', 3], label: 0 }, vector, 'INPUT_TYPE'],
    ['text as vector', { input: 'abc', label: 0 }, vector, 'INPUT_TYPE'],
    ['wrong vector length', { input: [1, 2], label: 0 }, vector, 'VECTOR_LENGTH'],
    ['integer label not listed', { input: [1, 2, 3], label: 2 }, vector, 'LABEL_UNKNOWN'],
    ['image of wrong shape', { input: { width: 1, height: 2, channels: 1, data: [1, 2] } }, image, 'IMAGE_SHAPE'],
    ['image data too short', { input: { width: 2, height: 1, channels: 1, data: [1] } }, image, 'IMAGE_SHAPE'],
    ['image with NaN', { input: { width: 2, height: 1, channels: 1, data: [1, Number.NaN] } }, image, 'INPUT_NON_FINITE'],
    ['metadata with NaN', { input: 'x', label: 'ham', metadata: { score: Number.NaN } }, text, 'METADATA_INVALID'],
    ['metadata not an object', { input: 'x', label: 'ham', metadata: 'note' }, text, 'METADATA_INVALID'],
  ];
  it.each(cases)('rejects %s', (_name, row, schema, code) => {
    const result = validateRow(row, schema);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.reason.length).toBeGreaterThan(10);
    }
  });

  it('accepts valid rows and stores frozen copies the caller cannot change', () => {
    const input = [1, 2, 3];
    const result = validateRow({ input, label: 1, metadata: { note: ['a'] } }, vector);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    input[0] = 99;
    expect(result.row.input).toEqual([1, 2, 3]);
    expect(Object.isFrozen(result.row)).toBe(true);
    expect(Object.isFrozen(result.row.metadata!.note)).toBe(true);
  });

  it('a contribution keeps its valid rows and reports every invalid one by index', () => {
    const datanet = createDatanet({ name: 't', schema: { input: 'text', labels: ['ham', 'spam'] } });
    const report = datanet.addContribution(contribution([{ input: 'a', label: 'ham' }, { input: '', label: 'ham' }, { input: 'b', label: 'x' }, { input: 'c', label: 'spam' }]));
    expect(report.acceptedIndices).toEqual([0, 3]);
    expect(report.rejections.map((r) => [r.index, r.code])).toEqual([[1, 'TEXT_EMPTY'], [2, 'LABEL_UNKNOWN']]);
    expect(report.submitted).toBe(4);
    expect(datanet.size).toBe(2);
  });

  it("onInvalid: 'throw' adds nothing and lists the rejections", () => {
    const datanet = createDatanet({ name: 't', schema: { input: 'text' } });
    let caught: unknown;
    try {
      datanet.addContribution(contribution([{ input: 'a' }, { input: '' }]), { onInvalid: 'throw' });
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught, 'DATANET_ROW_INVALID')).toBe(true);
    expect((caught as { data: { rejections: { index: number }[] } }).data.rejections.map((r) => r.index)).toEqual([1]);
    expect(datanet.size).toBe(0);
    expect(datanet.contributions()).toHaveLength(0);
  });

  it('rejects malformed contributions as a whole', () => {
    const datanet = createDatanet({ name: 't', schema: { input: 'text' } });
    const base = contribution([{ input: 'a' }]);
    for (const bad of [
      { ...base, contributor: '' },
      { ...base, contributor: '0x1234' },
      { ...base, licence: ' ' },
      { ...base, source: undefined },
      { ...base, timestamp: 'not a date' },
      { ...base, rows: 'a' },
      { ...base, metadata: { x: Number.NaN } },
    ]) {
      expect(() => datanet.addContribution(bad as never)).toThrow(expect.objectContaining({ code: 'DATANET_CONTRIBUTION_INVALID' }));
    }
    expect(datanet.size).toBe(0);
  });

  it('rejects malformed schemas', () => {
    for (const schema of [
      { input: 'audio' },
      { input: 'text', vectorLength: 3 },
      { input: 'vector', vectorLength: 0 },
      { input: 'text', labels: [] },
      { input: 'text', labels: ['a', 'a'] },
      { input: 'text', labels: [-1] },
      { input: 'text', extra: 1 },
    ]) {
      expect(() => createDatanet({ name: 't', schema: schema as never })).toThrow(expect.objectContaining({ code: 'DATANET_SCHEMA_INVALID' }));
    }
  });
});

describe('contributor identities', () => {
  // The four test vectors of EIP-55 itself.
  const eip55 = [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
  ];
  it('computes EIP-55 checksums', () => {
    for (const address of eip55) expect(checksumAddress(address.toLowerCase())).toBe(address);
  });
  it('stores addresses lower-case and rejects a bad checksum', () => {
    expect(normalizeContributor(eip55[0]!)).toBe(eip55[0]!.toLowerCase());
    expect(normalizeContributor(eip55[0]!.toUpperCase().replace('0X', '0x'))).toBe(eip55[0]!.toLowerCase());
    const typo = eip55[0]!.replace('aAeb', 'AAeb');
    expect(() => normalizeContributor(typo)).toThrow(expect.objectContaining({ code: 'DATANET_CONTRIBUTION_INVALID' }));
    expect(normalizeContributor('easy-ham-1')).toBe('easy-ham-1');
    expect(() => normalizeContributor('tab\there')).toThrow();
  });
  it('one account in two spellings is one contributor', () => {
    const datanet = createDatanet({ name: 't', schema: { input: 'text' } });
    datanet.addContribution(contribution([{ input: 'a' }], eip55[1]!));
    const report = datanet.addContribution(contribution([{ input: 'a' }], eip55[1]!.toLowerCase()));
    expect(report.duplicates[0]!.keptBy).toBe(eip55[1]!.toLowerCase());
    expect(datanet.snapshot().contributors).toHaveLength(1);
    expect(datanet.snapshot().rowsOf(eip55[1]!)).toHaveLength(1);
  });
  it('synthetic addresses are valid, distinct and stable', () => {
    const a = syntheticAddress('noisy');
    expect(a).toMatch(/^0x[0-9a-f]{40}$/);
    expect(syntheticAddress('noisy')).toBe(a);
    expect(syntheticAddress('duplicate')).not.toBe(a);
  });
});
