import { describe, expect, it } from 'vitest';
import { ProvenantError } from '../../../src/core/index.js';
import { bagOfWordsTokens, fitBagOfWords } from '../../../src/finetune/index.js';

describe('fitBagOfWords', () => {
  it('keeps the words in enough training texts, most frequent first, ties by the word', () => {
    const bag = fitBagOfWords(['Win money now', 'Meeting at noon', 'win a prize now', 'money money'], { minDocumentFrequency: 2 });
    // document frequencies: money 2, now 2, win 2; every other word 1
    expect(bag.vocabulary).toEqual(['money', 'now', 'win']);
    expect(fitBagOfWords(['a b c', 'c b', 'c'], { minDocumentFrequency: 1, maxFeatures: 2 }).vocabulary).toEqual(['c', 'b']);
  });

  it('features are log(1 + count), scaled to unit length; unseen words are dropped (hand-computed)', () => {
    const bag = fitBagOfWords(['Win money now', 'win a prize now'], { minDocumentFrequency: 2 });
    expect(bag.vocabulary).toEqual(['now', 'win']);
    const x = bag.features('WIN win now, unseen-word!');
    const a = Math.log(2);
    const b = Math.log(3);
    const norm = Math.hypot(a, b);
    expect(x[0]).toBeCloseTo(a / norm, 6);
    expect(x[1]).toBeCloseTo(b / norm, 6);
    expect(Array.from(bag.features('nothing known here'))).toEqual([0, 0]);
  });

  it('tokens are lower-cased runs of letters, digits and $', () => {
    expect(bagOfWordsTokens('FREE $$$ for 100% — Café_au-lait')).toEqual(['free', '$$$', 'for', '100', 'café', 'au', 'lait']);
  });

  it('words are data: "__proto__" and "constructor" are ordinary features', () => {
    const bag = fitBagOfWords(['__proto__ constructor', 'constructor __proto__ toString'], { minDocumentFrequency: 2 });
    expect(bag.vocabulary).toEqual(['constructor', 'proto']);
    expect(bag.features('constructor').reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
  });

  it('bad input is a typed error naming the offender', () => {
    expect(() => fitBagOfWords([])).toThrow(ProvenantError);
    expect(() => fitBagOfWords(['ok', 3 as unknown as string])).toThrow(/text 1 is not a string/);
    expect(() => fitBagOfWords(['ok'], { maxFeatures: 0 })).toThrow(/maxFeatures must be a positive integer/);
    expect(() => fitBagOfWords(['ok'], { minDocumentFrequency: 1.5 })).toThrow(/minDocumentFrequency/);
  });
});
