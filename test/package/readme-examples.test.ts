/**
 * The README's model-folder examples run as written. A new user copies a ```ts block that loads a local Hugging Face
 * folder and prepares text; last session's reader found the quick path pointed at folders without a `tokenizer.json`
 * (the shared fixtures have none), so `prepareCausalLmExamples` threw `TOKENIZER_INVALID`; trial 10's found it loading
 * `test/fixtures/hf/tiny-chat`, which the npm package does not ship. Here:
 * - a README ```ts block that calls `loadPretrained('<folder>')` with a literal names a folder the package ships
 *   (package.json `files`) that exists, with a `tokenizer.json` when the block prepares text or generates from a string;
 * - a block that takes its folder from the command line (`process.argv[2] ?? …`) runs without an argument (its
 *   fallback) and with `test/fixtures/hf/tiny-chat`, as the README tells a reader of the repository;
 * - every self-contained block (imports from the package) is executed by tsx, with `provenant` mapped to src/ and a
 *   scratch working directory (so its outputs, e.g. `out/adapter`, land there), and must exit 0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const loading = blocks.filter((b) => /loadPretrained\(/.test(b));
const literalFolderOf = (block: string) => /loadPretrained\(\s*['"]([^'"]+)['"]/.exec(block)?.[1] ?? null;
const fromArgv = (block: string) => /loadPretrained\(\s*process\.argv\[2\]/.test(block);
const TEXT_USE = /prepareCausalLmExamples|prepareClassificationExamples|generate\(\s*\w+\s*,\s*['"`[]/;
/** The repository folder the README tells a reader of the repository to pass to a command-line block. */
const REPO_FOLDER = 'test/fixtures/hf/tiny-chat';
const shipped = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] }).files;

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('README model-folder examples', () => {
  it('finds the blocks that load a local folder', () => {
    expect(loading.length).toBeGreaterThan(0);
  });

  it('every folder they load is shipped in the package and exists, with a tokenizer.json where the block prepares or generates text', () => {
    const problems: string[] = [];
    for (const block of loading) {
      const folder = literalFolderOf(block);
      if (folder === null) {
        if (!fromArgv(block)) problems.push(`a block loads neither a literal folder nor process.argv[2]:\n${block}`);
        continue;
      }
      const path = resolve(root, folder);
      if (!shipped.some((f) => folder === f || folder.startsWith(`${f}/`))) problems.push(`${folder}: not in the npm package (files: ${shipped.join(', ')}); a package user cannot run the block`);
      if (!existsSync(join(path, 'config.json'))) problems.push(`${folder}: no config.json (not a model folder in this repository)`);
      else if (TEXT_USE.test(block) && !existsSync(join(path, 'tokenizer.json'))) problems.push(`${folder}: the block prepares text, but the folder has no tokenizer.json`);
    }
    expect(problems).toEqual([]);
    // The repository folder offered to command-line blocks: a tokenizer and a chat template, named in the README.
    expect(existsSync(join(root, REPO_FOLDER, 'tokenizer.json'))).toBe(true);
    expect(readFileSync(join(root, REPO_FOLDER, 'tokenizer_config.json'), 'utf8')).toContain('chat_template');
    if (loading.some(fromArgv)) expect(readme).toContain(`npx tsx example.mts ${REPO_FOLDER}`);
  });

  it('the shared reference fixtures (test/fixtures/hf-shared) indeed have no tokenizer.json, as the README says', () => {
    for (const name of ['gpt2', 'llama', 'bert']) {
      expect(existsSync(join(root, 'test/fixtures/hf-shared', name, 'config.json'))).toBe(true);
      expect(existsSync(join(root, 'test/fixtures/hf-shared', name, 'tokenizer.json'))).toBe(false);
    }
    expect(readme).toContain('`test/fixtures/hf-shared`) carry none');
  });

  it('each self-contained block runs as written (tsx, `provenant` mapped to src/; a command-line block without and with an argument)', () => {
    const runnable = loading.filter((b) => /^import .* from 'provenant(\/\w+)?';$/m.test(b));
    expect(runnable.length).toBeGreaterThan(0);
    for (const block of runnable) {
      const folder = literalFolderOf(block);
      for (const args of folder === null ? [[], [join(root, REPO_FOLDER)]] : [[]]) {
        const dir = mkdtempSync(join(tmpdir(), 'provenant-readme-'));
        scratch.push(dir);
        // A literal folder path resolves against the repository, as from its root.
        if (folder !== null) symlinkSync(join(root, folder.split('/')[0]!), join(dir, folder.split('/')[0]!));
        const source = block.replace(/from 'provenant(\/(\w+))?';/g, (_m, _s, room: string | undefined) => `from '${join(root, 'src', room ?? '', 'index.ts')}';`);
        writeFileSync(join(dir, 'example.mts'), source);
        const run = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'example.mts', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
        expect(run.status, `README block loading ${folder ?? args[0] ?? 'its default folder'}:\n${run.stderr}${run.stdout}`).toBe(0);
        expect(existsSync(join(dir, 'out/adapter/adapter_config.json'))).toBe(/saveAdapterToDir\(.*'out\/adapter'/.test(block));
      }
    }
  });
});
