import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHAR_VOCABULARY, CHAR_VOCAB_SIZE, createCharTokenizer, normalizeText } from '../../../src/finetune/index.js';

describe('char tokenizer', () => {
  const tok = createCharTokenizer();

  it('has the documented 98-entry vocabulary', () => {
    expect(CHAR_VOCAB_SIZE).toBe(98);
    expect(CHAR_VOCABULARY.slice(0, 4)).toEqual(['<pad>', '<unk>', '\n', ' ']);
    expect(CHAR_VOCABULARY[97]).toBe('~');
    // id = code − 29 for printable ASCII, checked against the table by a loop.
    for (let code = 0x20; code <= 0x7e; code++) expect(CHAR_VOCABULARY.indexOf(String.fromCharCode(code))).toBe(code - 29);
    expect(tok.encode('Hi!')).toEqual([72 - 29, 105 - 29, 33 - 29]);
  });

  it('round-trips any printable-ASCII text with newlines', () => {
    const printable = fc.stringMatching(/^[\x20-\x7e\n]*$/);
    fc.assert(fc.property(printable, (text) => tok.decode(tok.encode(text)) === text));
  });

  it('normalises typography and accents, marks the rest unknown', () => {
    expect(normalizeText('“Naïve” — it’s…\tdone\r\n')).toBe('"Naive" - it\'s... done\n');
    expect(tok.decode(tok.encode('a€b'))).toBe('a\ufffdb');
    expect(tok.encode('日')).toEqual([1]);
  });

  it('encodeBatch right-pads and truncates', () => {
    const { ids, shape, lengths } = tok.encodeBatch(['abc', 'abcdefg'], 5);
    expect(shape).toEqual([2, 5]);
    expect(lengths).toEqual([3, 5]);
    expect(Array.from(ids)).toEqual([...tok.encode('abc'), 0, 0, ...tok.encode('abcde')]);
    expect(() => tok.encodeBatch(['a'], 0)).toThrow(/INVALID_ARGUMENT/);
    expect(() => tok.decode([98])).toThrow(/outside the vocabulary/);
  });
});
