/**
 * Kind 7 of issue 13: a write killed at any moment leaves the previous file (or folder of files) or the new one, never a
 * torn mix. The kill test SIGKILLs a child process that saves versions in a loop, at random moments, and checks what a
 * reader finds each time.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  committedFolder,
  isProvenantError,
  readFileChecked,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFolderAtomic,
} from '../../src/core/index.js';
import { createRng } from '../../src/core/rng.js';

const CHILD = join(__dirname, '../fixtures/core/atomic-writer-child.ts');
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Starts the child, waits until it has saved at least `minSaves` versions, kills it `delayMs` later; returns the last version it reported. */
function runAndKill(mode: 'folder' | 'file', target: string, first: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, target, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = -1;
    let buffer = '';
    let armed = false;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) last = Math.max(last, Number(line.slice(6)));
      if (!armed && last >= first) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

function checkVersion(config: string, weights: Uint8Array): number {
  const parsed = JSON.parse(config) as { version: number; sha: string };
  expect(parsed.sha).toBe(sha(weights));
  return parsed.version;
}

describe('atomic writes survive SIGKILL at random points', () => {
  it('a two-file folder is always a complete old or new set (20 kills)', { timeout: 120_000 }, async () => {
    const rng = createRng(13);
    const root = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    const dir = join(root, 'adapter');
    let next = 0;
    for (let run = 0; run < 20; run++) {
      const reported = await runAndKill('folder', dir, next, rng.nextInt(120));
      const from = await committedFolder(dir);
      const version = checkVersion(
        readFileSync(join(from, 'adapter_config.json'), 'utf8'),
        new Uint8Array(readFileSync(join(from, 'adapter_model.safetensors'))),
      );
      // Everything the child reported as saved is durable: the folder holds that version or a later one it was writing.
      expect(version).toBeGreaterThanOrEqual(reported);
      expect(version).toBeLessThanOrEqual(reported + 1);
      next = reported + 2;
    }
    // A later save finishes or discards whatever the kills left behind.
    await writeFolderAtomic(dir, { 'adapter_config.json': '{}', 'adapter_model.safetensors': new Uint8Array([1]) });
    expect(readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('a single file is always the old or the new bytes (6 kills)', { timeout: 60_000 }, async () => {
    const rng = createRng(7);
    const root = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    const file = join(root, 'nested', 'record.bin');
    let next = 0;
    for (let run = 0; run < 6; run++) {
      const reported = await runAndKill('file', file, next, rng.nextInt(60));
      const bytes = readFileSync(file);
      const newline = bytes.indexOf(10);
      const version = checkVersion(bytes.subarray(0, newline).toString('utf8'), new Uint8Array(bytes.subarray(newline + 1)));
      expect(version).toBeGreaterThanOrEqual(reported);
      next = reported + 2;
    }
  });
});

describe('atomic-write contracts', () => {
  it('replaces a file and leaves no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    const file = join(dir, 'a.json');
    writeFileSync(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    writeFileAtomicSync(file, new Uint8Array([65, 66]));
    expect(readFileSync(file, 'utf8')).toBe('AB');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('a failed write is FILE_WRITE_FAILED naming the path, and keeps the old file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const target = join(blocker, 'file.json');
    const error = await writeFileAtomic(target, 'y').catch((e: unknown) => e);
    expect(isProvenantError(error, 'FILE_WRITE_FAILED')).toBe(true);
    expect((error as Error).message).toContain(target);
    expect(() => writeFileAtomicSync(target, 'y')).toThrow(/FILE_WRITE_FAILED/);
    expect(readFileSync(blocker, 'utf8')).toBe('x');
  });

  it('a folder committed but not finished is read from its pending set, and the next save completes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    writeFileSync(join(dir, 'a'), 'old-a');
    writeFileSync(join(dir, 'b'), 'old-b');
    // The state a kill leaves after the commit rename and the first copy: `a` new, `b` old, pending complete.
    mkdirSync(join(dir, '.provenant-pending'));
    writeFileSync(join(dir, '.provenant-pending', 'a'), 'new-a');
    writeFileSync(join(dir, '.provenant-pending', 'b'), 'new-b');
    writeFileSync(join(dir, 'a'), 'new-a');
    const from = await committedFolder(dir);
    expect(readFileSync(join(from, 'b'), 'utf8')).toBe('new-b');
    await writeFolderAtomic(dir, { c: 'c' });
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('new-b');
    expect(existsSync(join(dir, '.provenant-pending'))).toBe(false);
    expect(await committedFolder(dir)).toBe(dir);
  });

  it('missing files and folders are typed errors, never raw ENOENT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    for (const [call, code] of [
      [() => readFileChecked(join(dir, 'missing.bin')), 'FILE_NOT_FOUND'],
      [() => readFileChecked(join(dir, 'missing-dir', 'x.bin'), { code: 'ADAPTER_NOT_FOUND' }), 'ADAPTER_NOT_FOUND'],
      [() => readFileChecked(dir), 'FILE_READ_FAILED'],
      [() => committedFolder(join(dir, 'nope')), 'FILE_NOT_FOUND'],
    ] as const) {
      const error = await call().catch((e: unknown) => e);
      expect(isProvenantError(error, code)).toBe(true);
    }
  });

  it('refuses file names that would escape the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-atomic-'));
    for (const name of ['../x', 'a/b', '', '..', '.provenant-pending']) {
      await expect(writeFolderAtomic(dir, { [name]: 'x' })).rejects.toThrow(/INVALID_ARGUMENT/);
    }
  });
});
