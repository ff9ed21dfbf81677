/**
 * The README's model-folder examples run as written. A new user copies a ```ts block that loads a local Hugging Face
 * folder and prepares text; last session's reader found the quick path pointed at folders without a `tokenizer.json`
 * (the shared fixtures have none), so `prepareCausalLmExamples` threw `TOKENIZER_INVALID`. Here:
 * - every README ```ts block that calls `loadPretrained('<folder>')` names a folder that exists in the repository, and
 *   when the block prepares text or generates from a string, that folder has a `tokenizer.json`;
 * - every such block that is self-contained (imports from the package) is executed by tsx, with `provenant` mapped to
 *   src/ and a scratch working directory (so its outputs, e.g. `out/adapter`, land there), and must exit 0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const loading = blocks.filter((b) => /loadPretrained\(\s*['"]/.test(b));
const folderOf = (block: string) => /loadPretrained\(\s*['"]([^'"]+)['"]/.exec(block)![1]!;
const TEXT_USE = /prepareCausalLmExamples|prepareClassificationExamples|generate\(\s*\w+\s*,\s*['"`[]/;

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('README model-folder examples', () => {
  it('finds the blocks that load a local folder', () => {
    expect(loading.length).toBeGreaterThan(0);
  });

  it('every folder they load exists, and has a tokenizer.json where the block prepares or generates text', () => {
    const problems: string[] = [];
    for (const block of loading) {
      const folder = folderOf(block);
      const path = resolve(root, folder);
      if (!existsSync(join(path, 'config.json'))) problems.push(`${folder}: no config.json (not a model folder in this repository)`);
      else if (TEXT_USE.test(block) && !existsSync(join(path, 'tokenizer.json'))) problems.push(`${folder}: the block prepares text, but the folder has no tokenizer.json`);
    }
    expect(problems).toEqual([]);
  });

  it('the shared reference fixtures (test/fixtures/hf-shared) indeed have no tokenizer.json, as the README says', () => {
    for (const name of ['gpt2', 'llama', 'bert']) {
      expect(existsSync(join(root, 'test/fixtures/hf-shared', name, 'config.json'))).toBe(true);
      expect(existsSync(join(root, 'test/fixtures/hf-shared', name, 'tokenizer.json'))).toBe(false);
    }
    expect(readme).toContain('`test/fixtures/hf-shared`) carry none');
  });

  it('each self-contained block runs as written (tsx, `provenant` mapped to src/)', () => {
    const runnable = loading.filter((b) => /^import .* from 'provenant(\/\w+)?';$/m.test(b));
    expect(runnable.length).toBeGreaterThan(0);
    for (const block of runnable) {
      const dir = mkdtempSync(join(tmpdir(), 'provenant-readme-'));
      scratch.push(dir);
      // The block's relative folder paths resolve against the repository, as from its root.
      symlinkSync(join(root, folderOf(block).split('/')[0]!), join(dir, folderOf(block).split('/')[0]!));
      const source = block.replace(/from 'provenant(\/(\w+))?';/g, (_m, _s, room: string | undefined) => `from '${join(root, 'src', room ?? '', 'index.ts')}';`);
      writeFileSync(join(dir, 'example.mts'), source);
      const run = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'example.mts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, `README block loading ${folderOf(block)}:\n${run.stderr}${run.stdout}`).toBe(0);
      expect(existsSync(join(dir, 'out/adapter/adapter_config.json'))).toBe(/saveAdapterToDir\(.*'out\/adapter'/.test(block));
    }
  });
});
