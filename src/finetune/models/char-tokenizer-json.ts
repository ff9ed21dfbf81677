/**
 * The character tokenizer (`tokenizer.ts`) as a Hugging Face `tokenizer.json`, so the shipped base model is a standard
 * folder that `AutoTokenizer` and `@huggingface/tokenizers` read: a normaliser sequence doing what `normalizeText` does
 * (CR/CRLF → LF, NFKD, combining marks dropped, typographic quotes, dashes and spaces mapped to ASCII), then a BPE model
 * with the 98-symbol vocabulary and no merges — which splits text into single characters, unknown ones to `<unk>` —
 * and the Fuse decoder, which joins characters back without spaces.
 */
import { CHAR_VOCABULARY, PAD_ID, UNK_ID, normalizationReplacements } from './tokenizer.js';


/** `tokenizer.json` for the character vocabulary. */
export function charTokenizerJson(): Record<string, unknown> {
  const replace = (pattern: { String: string } | { Regex: string }, content: string) => ({ type: 'Replace', pattern, content });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [PAD_ID, UNK_ID].map((id) => ({ id, content: CHAR_VOCABULARY[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        replace({ Regex: '\\r\\n?' }, '\n'),
        { type: 'NFKD' },
        replace({ Regex: '[\\u0300-\\u036f]' }, ''),
        ...Object.entries(normalizationReplacements()).map(([from, to]) => replace({ String: from }, to)),
        // Any other whitespace but the newline becomes one space, character for character.
        replace({ Regex: `[^\\S\\n]` }, ' '),
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: CHAR_VOCABULARY[UNK_ID],
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(CHAR_VOCABULARY.map((token, id) => [token, id])),
      merges: [],
    },
  };
}

/**
 * `tokenizer_config.json`: the special tokens, the tokenizer class transformers should use, and `model_max_length` (the
 * model's context, so transformers warns about longer inputs at the right length).
 */
export function charTokenizerConfigJson(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    pad_token: CHAR_VOCABULARY[PAD_ID],
    unk_token: CHAR_VOCABULARY[UNK_ID],
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: false,
  };
}

