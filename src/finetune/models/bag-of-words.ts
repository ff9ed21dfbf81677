/**
 * A vocabulary bag of words: the classic text-classification baseline (a logistic regression on word counts) that a
 * fine-tuned language model has to beat. Fitted on training texts only, so a test text's unseen words are simply dropped.
 */
import { ProvenantError } from '../../core/index.js';

export interface BagOfWordsOptions {
  /** Largest vocabulary: the words in the most training texts (ties broken by the word, so the fit is deterministic). Default 4096. */
  maxFeatures?: number;
  /** A word must occur in at least this many training texts. Default 2. */
  minDocumentFrequency?: number;
}

export interface BagOfWords {
  /** The words, in feature order. */
  readonly vocabulary: readonly string[];
  /**
   * Features of a text, length `vocabulary.length`: log(1 + count) of each vocabulary word, the vector scaled to unit
   * Euclidean length (sublinear term frequency, L2-normalised, as scikit-learn's `TfidfVectorizer(sublinear_tf=True,
   * use_idf=False)`); all zeros when the text has no vocabulary word.
   */
  features(text: string): Float32Array;
}

/**
 * Lower-cased runs of letters, digits and `$`, the words of the bag (`$` and digits carry spam signal: prices, amounts).
 * Everything else separates words. The tokenizer of {@link fitBagOfWords}.
 *
 * @example
 * ```ts
 * import { bagOfWordsTokens } from 'provenant/finetune';
 *
 * bagOfWordsTokens('WIN $500 now! Reply to claim.'); // ['win', '$500', 'now', 'reply', 'to', 'claim']
 * ```
 */
export function bagOfWordsTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}$]+/gu) ?? [];
}

/**
 * Fits a vocabulary bag of words on training texts.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for no texts, a non-string text (naming its index), or a `maxFeatures` /
 *   `minDocumentFrequency` that is not a positive integer
 * @example
 * ```ts
 * import { fitBagOfWords } from 'provenant/finetune';
 *
 * const bag = fitBagOfWords(['Win money now', 'Meeting at noon', 'win a prize now'], { minDocumentFrequency: 2 });
 * bag.vocabulary; // ['now', 'win']
 * bag.features('WIN win now'); // Float32Array [0.534, 0.846] (log 2 and log 3, scaled to unit length)
 * ```
 */
export function fitBagOfWords(texts: readonly string[], options: BagOfWordsOptions = {}): BagOfWords {
  const maxFeatures = options.maxFeatures ?? 4096;
  const minDf = options.minDocumentFrequency ?? 2;
  for (const [name, value] of [['maxFeatures', maxFeatures], ['minDocumentFrequency', minDf]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ProvenantError('INVALID_ARGUMENT', `fitBagOfWords: ${name} must be a positive integer, got ${JSON.stringify(value)}.`);
    }
  }
  if (!Array.isArray(texts) || texts.length === 0) throw new ProvenantError('INVALID_ARGUMENT', 'fitBagOfWords needs at least one training text.');
  const documentFrequency = new Map<string, number>();
  texts.forEach((text, i) => {
    if (typeof text !== 'string') throw new ProvenantError('INVALID_ARGUMENT', `fitBagOfWords: text ${i} is not a string (${typeof text}).`);
    for (const word of new Set(bagOfWordsTokens(text))) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  });
  const vocabulary = [...documentFrequency]
    .filter(([, df]) => df >= minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxFeatures)
    .map(([word]) => word);
  // A Map, never an object: a word such as "constructor" or "__proto__" is data.
  const index = new Map<string, number>(vocabulary.map((w, i) => [w, i]));
  return {
    vocabulary,
    features(text: string): Float32Array {
      const x = new Float32Array(vocabulary.length);
      for (const word of bagOfWordsTokens(text)) {
        const j = index.get(word);
        if (j !== undefined) x[j]! += 1;
      }
      let norm = 0;
      for (let j = 0; j < x.length; j++) {
        if (x[j]! > 0) x[j] = Math.log1p(x[j]!);
        norm += x[j]! * x[j]!;
      }
      if (norm > 0) for (let j = 0; j < x.length; j++) x[j]! /= Math.sqrt(norm);
      return x;
    },
  };
}
