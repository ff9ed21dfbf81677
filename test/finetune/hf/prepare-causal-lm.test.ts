/**
 * `prepareCausalLmExamples`' end token. Expected ids are transformers 5.18's (`AutoTokenizer.apply_chat_template(...,
 * tokenize=True)` on the tiny-chat fixture, and `tokenizer("abc.")` on models/base), and what TRL's SFTTrainer does with
 * them: a conversational example is left as the template rendered it (no EOS appended; trl/trainer/sft_trainer.py,
 * `_prepare_dataset`, `add_eos` runs only `if not is_conversational(...)`), a plain-text one gets `eos_token` appended.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import { initBackend, loadPretrained, prepareCausalLmExamples, resolveCausalLmOptions, type PretrainedModel } from '../../../src/finetune/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TINY_CHAT = join(HERE, '../../fixtures/hf/tiny-chat');
const SHIPPED_BASE = join(HERE, '../../../models/base');

// transformers 5.18, tiny-chat: apply_chat_template([user 'How are you?'], add_generation_prompt=True) and
// apply_chat_template([user, assistant 'Fine, thanks.']) — the latter decodes to
// '<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\nFine, thanks.<|im_end|>\n'.
const PROMPT_IDS = [2, 447, 271, 202, 43, 303, 471, 381, 34, 3, 202, 2, 297, 86, 472, 421, 202];
const FULL_IDS = [...PROMPT_IDS, 41, 263, 72, 15, 260, 439, 78, 86, 17, 3, 202];
// tokenizer('Fine, thanks.' + eos_token): TRL's language-modelling case.
const PLAIN_WITH_EOS = [41, 263, 72, 15, 260, 439, 78, 86, 17, 3];

let tinyChat: PretrainedModel;
let base: PretrainedModel;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tinyChat = await loadPretrained(TINY_CHAT);
  base = await loadPretrained(SHIPPED_BASE);
});

const expectCode = (fn: () => unknown, code: string, message: RegExp): void => {
  try {
    fn();
  } catch (e) {
    expect(isProvenantError(e, code as never), String(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
};

describe('prepareCausalLmExamples: the end token', () => {
  it('a chat example is the template as rendered, its end-of-turn trained on and no second EOS (as TRL SFT)', () => {
    const [example] = prepareCausalLmExamples(tinyChat, [{ input: 'Fine, thanks.' }], { chat: true, promptOf: () => 'How are you?' });
    expect(Array.from(example!.input)).toEqual(FULL_IDS);
    expect(example!.promptLength).toBe(PROMPT_IDS.length);
    const completion = Array.from(example!.input).slice(example!.promptLength);
    expect(completion.filter((id) => id === tinyChat.tokenizer!.eosTokenId)).toEqual([3]); // <|im_end|> once, in the loss
    expect(tinyChat.tokenizer!.decode(Array.from(example!.input))).toMatch(/assistant\nFine, thanks\.<\|im_end\|>\n$/);
    expect(resolveCausalLmOptions(tinyChat, { chat: true })).toMatchObject({ chat: true, addEosOption: 'auto', addEos: false, eosTokenId: 3 });
    // An explicit true is honoured (EOS after the template's trailing newline), for templates that end no turn.
    const [forced] = prepareCausalLmExamples(tinyChat, [{ input: 'Fine, thanks.' }], { chat: true, addEos: true, promptOf: () => 'How are you?' });
    expect(Array.from(forced!.input)).toEqual([...FULL_IDS, 3]);
  });

  it("'auto' (the default) appends the tokenizer's EOS to a plain example, and true does the same", () => {
    for (const addEos of [undefined, 'auto', true] as const) {
      const [example] = prepareCausalLmExamples(tinyChat, [{ input: 'Fine, thanks.' }], { addEos });
      expect(Array.from(example!.input)).toEqual(PLAIN_WITH_EOS);
    }
    expect(resolveCausalLmOptions(tinyChat)).toEqual({ chat: false, addEosOption: 'auto', addEos: true, eosTokenId: 3, maxLength: 64 });
    const [plain] = prepareCausalLmExamples(tinyChat, [{ input: 'Fine, thanks.' }], { addEos: false });
    expect(Array.from(plain!.input)).toEqual(PLAIN_WITH_EOS.slice(0, -1));
  });

  it('with no EOS token: the default resolves to no EOS (and says so); an explicit true is a typed error naming eos_token', () => {
    expect(base.tokenizer!.eosTokenId).toBeNull();
    const [example] = prepareCausalLmExamples(base, [{ input: 'abc.' }]);
    expect(Array.from(example!.input)).toEqual([68, 69, 70, 17]); // transformers: tokenizer('abc.') on models/base
    expect(resolveCausalLmOptions(base)).toMatchObject({ addEosOption: 'auto', addEos: false, eosTokenId: null });
    expectCode(() => prepareCausalLmExamples(base, [{ input: 'abc.' }], { addEos: true }), 'TRAINING_CONFIG_INVALID', /eos_token/);
    expectCode(() => resolveCausalLmOptions(base, { addEos: true }), 'TRAINING_CONFIG_INVALID', /tokenizer has no eos_token/);
    expectCode(() => resolveCausalLmOptions(tinyChat, { addEos: 'yes' as never }), 'TRAINING_CONFIG_INVALID', /Invalid resolveCausalLmOptions options: addEos\./);
  });
});
