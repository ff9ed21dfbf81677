/**
 * A Hugging Face tokenizer folder (`tokenizer.json` + `tokenizer_config.json`) through `@huggingface/tokenizers`, and
 * chat templates through `@huggingface/jinja` — Provenant writes no tokenizer of its own. The special tokens (pad, bos,
 * eos, unk) come from `tokenizer_config.json`, as `AutoTokenizer` reads them.
 */
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ProvenantError, checks, describeValue, resolve, type ParamCheck, type ParamLeaf, type ParamTable } from '../../core/index.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** One chat message, as chat templates expect it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

const pairCheck: ParamCheck = (v) => (v === null || typeof v === 'string' ? null : `must be a string or null, got ${describeValue(v)}`);

/**
 * The options of a tokenizer's `encode` and `encodeWithTypes` (one parameter mechanism, `core/params.ts`): unknown names
 * are refused with the nearest field (transformers' `add_special_tokens`, `text_pair` map to theirs), so a typo never
 * silently encodes with the special tokens. Defaults are transformers' `tokenizer(text)`.
 */
export const TOKENIZER_ENCODE_PARAMS: ParamTable = Object.freeze({
  name: 'tokenizer.encode',
  fields: [
    { name: 'addSpecialTokens', default: true, meaning: "Add the post-processor's special tokens (BERT's [CLS] … [SEP], Llama's <s>).", check: checks.boolean(), aliases: ['add_special_tokens'] },
    { name: 'pair', default: null, meaning: 'Second text of a pair (BERT segment 1); null: a single text.', check: pairCheck, aliases: ['text_pair', 'textPair'] },
  ],
});

/**
 * `skipSpecialTokens`, shared by a tokenizer's `decode` (default false, as transformers' `decode`) and `generate` (which
 * restates only its default, true, as transformers' pipelines do).
 */
export const SKIP_SPECIAL_TOKENS_FIELD: ParamLeaf = Object.freeze({
  name: 'skipSpecialTokens',
  default: false,
  meaning: 'Leave special tokens out of the decoded text.',
  check: checks.boolean(),
  aliases: ['skip_special_tokens'],
});

/** The options of a tokenizer's `decode` (unknown names refused with the nearest field). */
export const TOKENIZER_DECODE_PARAMS: ParamTable = Object.freeze({ name: 'tokenizer.decode', fields: [SKIP_SPECIAL_TOKENS_FIELD] });

/** The options of a tokenizer's `applyChatTemplate` (unknown names refused; transformers' `add_generation_prompt` maps). */
export const CHAT_TEMPLATE_PARAMS: ParamTable = Object.freeze({
  name: 'tokenizer.applyChatTemplate',
  fields: [
    {
      name: 'addGenerationPrompt',
      default: true,
      meaning: "End with the template's assistant header, so the model's next tokens are the reply (transformers' add_generation_prompt).",
      check: checks.boolean(),
      aliases: ['add_generation_prompt'],
    },
  ],
});

export interface TokenizerEncodeOptions {
  /** Add the post-processor's special tokens; default true. */
  addSpecialTokens?: boolean;
  /** Second text of a pair; default none. */
  pair?: string | null;
}

export interface PretrainedTokenizer {
  /**
   * Ids of a text; special tokens (e.g. BERT's [CLS] … [SEP]) added by the post-processor unless `addSpecialTokens` is
   * false. Throws `INVALID_ARGUMENT` for an unknown option (nearest name given, see {@link TOKENIZER_ENCODE_PARAMS}).
   */
  encode(text: string, options?: TokenizerEncodeOptions): number[];
  /** BERT segment ids of a text (or pair) alongside its ids; options as `encode`. */
  encodeWithTypes(text: string, options?: TokenizerEncodeOptions): { ids: number[]; tokenTypeIds: number[] };
  /** The text of ids; throws `INVALID_ARGUMENT` for an unknown option (see {@link TOKENIZER_DECODE_PARAMS}). */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /**
   * The chat template (tokenizer_config.json `chat_template`) rendered over messages; throws TOKENIZER_INVALID without
   * one, `INVALID_ARGUMENT` for an unknown option (see {@link CHAT_TEMPLATE_PARAMS}).
   */
  applyChatTemplate(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  tokenToId(token: string): number | undefined;
  /** Vocabulary size including added tokens. */
  readonly vocabSize: number;
  readonly padTokenId: number | null;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  /** Special token strings by role (`pad_token`, `eos_token` …). */
  readonly specialTokens: Readonly<Record<string, string>>;
  readonly chatTemplate: string | null;
  /** The two files' parsed contents (copied as-is when a model folder is exported). */
  readonly files: { tokenizer: unknown; config: unknown };
}

const tokenContent = (value: unknown): string | null =>
  typeof value === 'string' ? value : value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string' ? (value as { content: string }).content : null;

/**
 * Builds a tokenizer from the parsed `tokenizer.json` and `tokenizer_config.json`. Its methods' options resolve through
 * {@link TOKENIZER_ENCODE_PARAMS}, {@link TOKENIZER_DECODE_PARAMS} and {@link CHAT_TEMPLATE_PARAMS}.
 *
 * @throws ProvenantError `TOKENIZER_INVALID` when tokenizer.json is not an object or `@huggingface/tokenizers` cannot
 *   read it; its methods throw `INVALID_ARGUMENT` for an unknown option (with the nearest name) or a bad value.
 *
 * @example
 * ```ts
 * import { createPretrainedTokenizer } from 'provenant/finetune';
 * declare const tokJson: string;
 * declare const cfgJson: string;
 * const tok = createPretrainedTokenizer(JSON.parse(tokJson), JSON.parse(cfgJson));
 * tok.encode('Hello world'); // [15496, 995] for GPT-2
 * ```
 */
export function createPretrainedTokenizer(tokenizerJson: unknown, configJson: unknown = {}): PretrainedTokenizer {
  if (!tokenizerJson || typeof tokenizerJson !== 'object') {
    throw new ProvenantError('TOKENIZER_INVALID', `tokenizer.json must hold an object, got ${describeValue(tokenizerJson)}.`);
  }
  const config = (configJson && typeof configJson === 'object' ? configJson : {}) as Record<string, unknown>;
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, config);
  } catch (cause) {
    throw new ProvenantError('TOKENIZER_INVALID', `tokenizer.json could not be read by @huggingface/tokenizers: ${(cause as Error).message}`, { cause });
  }
  const specialTokens: Record<string, string> = Object.create(null);
  for (const role of ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'sep_token', 'cls_token', 'mask_token']) {
    const content = tokenContent(config[role]);
    if (content !== null) specialTokens[role] = content;
  }
  const idOf = (role: string): number | null => {
    const token = specialTokens[role];
    return token === undefined ? null : (tokenizer.token_to_id(token) ?? null);
  };
  let chatTemplate: string | null = null;
  if (typeof config.chat_template === 'string') chatTemplate = config.chat_template;
  else if (Array.isArray(config.chat_template)) {
    const named = (config.chat_template as Array<{ name?: string; template?: string }>).find((t) => t.name === 'default') ?? config.chat_template[0];
    chatTemplate = typeof named?.template === 'string' ? named.template : null;
  }
  let compiled: Template | null = null;
  const encodeWithTypes = (text: string, options: TokenizerEncodeOptions = {}) => {
    const { addSpecialTokens, pair } = resolve<{ addSpecialTokens: boolean; pair: string | null }>(TOKENIZER_ENCODE_PARAMS, options);
    const encoding = tokenizer.encode(text, { add_special_tokens: addSpecialTokens, text_pair: pair, return_token_type_ids: true });
    return { ids: [...encoding.ids], tokenTypeIds: [...(encoding.token_type_ids ?? encoding.ids.map(() => 0))] };
  };
  return {
    encode: (text, options = {}) => {
      const { addSpecialTokens, pair } = resolve<{ addSpecialTokens: boolean; pair: string | null }>(TOKENIZER_ENCODE_PARAMS, options);
      return [...tokenizer.encode(text, { add_special_tokens: addSpecialTokens, text_pair: pair }).ids];
    },
    encodeWithTypes,
    decode: (ids, options = {}) => {
      const { skipSpecialTokens } = resolve<{ skipSpecialTokens: boolean }>(TOKENIZER_DECODE_PARAMS, options);
      // tokenizers.js throws on an empty list where transformers returns ''.
      return ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
    },
    applyChatTemplate(messages, options = {}) {
      const { addGenerationPrompt } = resolve<{ addGenerationPrompt: boolean }>(CHAT_TEMPLATE_PARAMS, options);
      if (!chatTemplate) {
        throw new ProvenantError('TOKENIZER_INVALID', 'This tokenizer has no chat_template in tokenizer_config.json.', {
          details: 'Format the prompt yourself, or add a chat_template to tokenizer_config.json.',
        });
      }
      compiled ??= new Template(chatTemplate);
      return compiled.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        bos_token: specialTokens.bos_token ?? '',
        eos_token: specialTokens.eos_token ?? '',
        pad_token: specialTokens.pad_token ?? '',
        unk_token: specialTokens.unk_token ?? '',
      });
    },
    tokenToId: (token) => tokenizer.token_to_id(token),
    vocabSize: tokenizer.get_vocab(true).size,
    padTokenId: idOf('pad_token'),
    bosTokenId: idOf('bos_token'),
    eosTokenId: idOf('eos_token'),
    specialTokens,
    chatTemplate,
    files: { tokenizer: tokenizerJson, config: configJson },
  };
}
