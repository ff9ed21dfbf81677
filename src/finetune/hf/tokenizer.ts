/**
 * A Hugging Face tokenizer folder (`tokenizer.json` + `tokenizer_config.json`) through `@huggingface/tokenizers`, and
 * chat templates through `@huggingface/jinja` — Provenant writes no tokenizer of its own. The special tokens (pad, bos,
 * eos, unk) come from `tokenizer_config.json`, as `AutoTokenizer` reads them.
 */
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ProvenantError, describeValue } from '../../core/index.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** One chat message, as chat templates expect it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

export interface PretrainedTokenizer {
  /** Ids of a text; special tokens (e.g. BERT's [CLS] … [SEP]) added by the post-processor unless `addSpecialTokens` is false. */
  encode(text: string, options?: { addSpecialTokens?: boolean; pair?: string }): number[];
  /** BERT segment ids of a text (or pair) alongside its ids. */
  encodeWithTypes(text: string, options?: { addSpecialTokens?: boolean; pair?: string }): { ids: number[]; tokenTypeIds: number[] };
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The chat template (tokenizer_config.json `chat_template`) rendered over messages; throws TOKENIZER_INVALID without one. */
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
 * Builds a tokenizer from the parsed `tokenizer.json` and `tokenizer_config.json`.
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
  const encodeWithTypes = (text: string, options: { addSpecialTokens?: boolean; pair?: string } = {}) => {
    const encoding = tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true, text_pair: options.pair ?? null, return_token_type_ids: true });
    return { ids: [...encoding.ids], tokenTypeIds: [...(encoding.token_type_ids ?? encoding.ids.map(() => 0))] };
  };
  return {
    encode: (text, options = {}) => [...tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true, text_pair: options.pair ?? null }).ids],
    encodeWithTypes,
    // tokenizers.js throws on an empty list where transformers returns ''.
    decode: (ids, options = {}) => (ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false })),
    applyChatTemplate(messages, options = {}) {
      if (!chatTemplate) {
        throw new ProvenantError('TOKENIZER_INVALID', 'This tokenizer has no chat_template in tokenizer_config.json.', {
          details: 'Format the prompt yourself, or add a chat_template to tokenizer_config.json.',
        });
      }
      compiled ??= new Template(chatTemplate);
      return compiled.render({
        messages,
        add_generation_prompt: options.addGenerationPrompt ?? true,
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
