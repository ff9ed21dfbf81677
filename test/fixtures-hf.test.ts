/**
 * The Hugging Face golden fixtures (test/fixtures/hf, written by scripts/hf-fixtures/make_fixtures.py with the real
 * Python stack) are intact, and the two libraries the loader builds on reproduce them: `@huggingface/tokenizers` gives
 * transformers' token ids on the trained BPE tokenizer, and `@huggingface/jinja` renders its chat template as
 * transformers' `apply_chat_template` does.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, 'fixtures', 'hf');
const json = <T>(rel: string): T => JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as T;

interface Manifest {
  versions: Record<string, string>;
  files: Record<string, { bytes: number; sha256: string; holds: string }>;
}

interface TokenizerExpected {
  special_tokens: Record<string, number>;
  cases: { text: string; input_ids: number[]; decoded: string; decoded_skip_special: string }[];
  chat: { messages: { role: string; content: string }[]; text_with_generation_prompt: string; input_ids_with_generation_prompt: number[]; text_without_generation_prompt: string };
}

describe('test/fixtures/hf', () => {
  const manifest = json<Manifest>('manifest.json');

  it('every file matches the sha256 and size in manifest.json, and says what it holds', () => {
    const entries = Object.entries(manifest.files);
    expect(entries.length).toBeGreaterThan(60);
    let total = 0;
    for (const [rel, entry] of entries) {
      const bytes = readFileSync(join(ROOT, rel));
      expect({ rel, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }).toEqual({ rel, sha256: entry.sha256, bytes: entry.bytes });
      expect(entry.holds.length, rel).toBeGreaterThan(10);
      total += bytes.length;
    }
    expect(total).toBeLessThan(3_000_000);
    expect(manifest.versions.transformers).toMatch(/^\d+\.\d+/);
    expect(manifest.versions.peft).toMatch(/^\d+\.\d+/);
  });

  it('every logits file has as many values as its shape says', () => {
    for (const rel of Object.keys(manifest.files).filter((f) => /logits[^/]*\.json$/.test(f))) {
      const data = json<Record<string, unknown>>(rel);
      const blocks: Record<string, unknown>[] = [data];
      for (const key of ['forward', 'generate']) if (data[key]) blocks.push(data[key] as Record<string, unknown>);
      let checked = 0;
      for (const block of blocks) {
        for (const [key, value] of Object.entries(block)) {
          if (!key.endsWith('_shape')) continue;
          const values = block[key.slice(0, -'_shape'.length)] as number[];
          expect(values.length, `${rel} ${key}`).toBe((value as number[]).reduce((a, b) => a * b, 1));
          expect(values.every(Number.isFinite), rel).toBe(true);
          checked++;
        }
      }
      expect(checked, rel).toBeGreaterThan(0);
    }
  });

  it('@huggingface/tokenizers encodes and decodes the trained BPE tokenizer exactly as transformers does', () => {
    const tokenizer = new Tokenizer(json('tiny-chat/tokenizer.json'), json('tiny-chat/tokenizer_config.json'));
    const expected = json<TokenizerExpected>('tiny-chat/tokenizer-expected.json');
    expect(expected.cases.some((c) => /[^\x00-\x7f]/.test(c.text))).toBe(true);
    for (const c of expected.cases) {
      expect({ text: c.text, ids: tokenizer.encode(c.text).ids }).toEqual({ text: c.text, ids: c.input_ids });
      // tokenizers.js refuses to decode an empty list (it throws); transformers returns ''. A wrapper must special-case it.
      if (c.input_ids.length === 0) {
        expect([c.decoded, c.decoded_skip_special]).toEqual(['', '']);
        continue;
      }
      expect(tokenizer.decode(c.input_ids, { skip_special_tokens: false })).toBe(c.decoded);
      expect(tokenizer.decode(c.input_ids, { skip_special_tokens: true })).toBe(c.decoded_skip_special);
    }
  });

  it("@huggingface/jinja renders the chat template as transformers' apply_chat_template", () => {
    const config = json<{ chat_template: string }>('tiny-chat/tokenizer_config.json');
    const expected = json<TokenizerExpected>('tiny-chat/tokenizer-expected.json');
    const template = new Template(config.chat_template);
    expect(template.render({ messages: expected.chat.messages, add_generation_prompt: true })).toBe(expected.chat.text_with_generation_prompt);
    expect(template.render({ messages: expected.chat.messages, add_generation_prompt: false })).toBe(expected.chat.text_without_generation_prompt);
    const tokenizer = new Tokenizer(json('tiny-chat/tokenizer.json'), json('tiny-chat/tokenizer_config.json'));
    expect(tokenizer.encode(expected.chat.text_with_generation_prompt).ids).toEqual(expected.chat.input_ids_with_generation_prompt);
  });
});
