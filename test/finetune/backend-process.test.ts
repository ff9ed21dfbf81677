/**
 * The backend in a real Node process (child processes, since tfjs state is per process): without initBackend the first
 * library call moves off tfjs's default cpu to the fastest backend, tfjs's Node.js banner is never printed, and once
 * the wasm backend has started a user's uncaught error or unhandled rejection surfaces as itself with exit code 1 — not
 * exit code 7 and a dump of emscripten's minified source (issue 10, item 6).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CHILD = join(import.meta.dirname, 'fixtures', 'backend-child.ts');

function run(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the backend in a user process', () => {
  it('without initBackend, the first library call picks wasm over the default cpu, silently', { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await run('auto');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    // The user's own tensor (made on cpu) still reads back right after the switch.
    expect(result).toEqual({ before: 'cpu', after: 'wasm', chosen: 'wasm', sum: 6, again: 'wasm' });
    expect(stdout + stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  });

  for (const [mode, message] of [
    ['throw', 'user program failed: boom'],
    ['reject', 'user promise rejected: bang'],
  ] as const) {
    it(`after wasm starts, an ${mode === 'throw' ? 'uncaught exception' : 'unhandled rejection'} exits 1 with the user's own error`, { timeout: 60_000 }, async () => {
      const { code, stderr } = await run(mode);
      expect(stderr).toContain(`Error: ${message}`);
      expect(stderr).toContain('backend-child.ts');
      expect(code).toBe(1);
      // Node's own report of an error is a few lines; emscripten's re-throw printed its 38 KB minified source line.
      expect(stderr.length).toBeLessThan(4000);
      expect(stderr).not.toContain('ExitStatus');
    });
  }
});
