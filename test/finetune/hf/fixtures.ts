/** Reading the Hugging Face reference fixtures (made by transformers/peft in Python; see their README). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../../src/core/index.js';

export const SHARED_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf-shared');

export interface LogitsFixture {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids?: number[][];
  logits_shape: number[];
  logits: number[];
}

export const readLogitsFixture = (path: string): LogitsFixture => JSON.parse(readFileSync(path, 'utf8')) as LogitsFixture;

/** Largest |a − b| over the positions `keep(i)` selects (all by default). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, keep: (i: number) => boolean = () => true): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (keep(i)) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The ProvenantError `run` throws (sync or async), checked for its code; its message and meta lines joined. */
export async function caught(run: () => unknown, code: string): Promise<{ error: ProvenantError; text: string }> {
  try {
    await run();
  } catch (error) {
    if (!isProvenantError(error)) throw error;
    expect(error.code).toBe(code);
    return { error, text: `${error.message}\n${error.metaMessages.join('\n')}` };
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}
