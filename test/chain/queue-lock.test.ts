/**
 * The publisher queue's file lock on its own: mutual exclusion across processes (no lost update), and recovery from a
 * lock left by a process killed while holding it, or held too long.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/chain/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'provenant-lock-'));
const bundle = join(dir, 'lock-worker.mjs');

function run(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; pid: number }> {
  const child = spawn(process.execPath, [bundle], { env: { ...process.env, ...env }, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, pid: child.pid! }));
  });
}

describe('file lock for the publisher queue', () => {
  beforeAll(() => build({ entryPoints: [join(here, 'fixtures/lock-worker.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('three processes × 300 locked read-modify-writes lose no update', async () => {
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    const results = await Promise.all([0, 1, 2].map(() => run({ COUNTER: counter, TIMES: '300' })));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(Number(readFileSync(counter, 'utf8'))).toBe(900);
    expect(existsSync(`${counter}.lock`)).toBe(false);
  });

  it('a lock left by a process killed while holding it is recovered', async () => {
    const counter = join(dir, 'killed');
    writeFileSync(counter, '0');
    const dead = await run({ COUNTER: counter, HOLD_AND_DIE: '1', TIMES: '0' });
    expect(dead.signal).toBe('SIGKILL');
    expect(JSON.parse(readFileSync(`${counter}.lock`, 'utf8'))).toMatchObject({ pid: dead.pid });
    const started = Date.now();
    expect(withFileLock(counter, () => 'got it', { timeoutMs: 5_000 })).toBe('got it');
    expect(Date.now() - started).toBeLessThan(5_000); // recovered, not timed out (dead pid on this host)
    expect(existsSync(`${counter}.lock`)).toBe(false);
  });

  it('a lock older than staleMs is broken even when its owner looks alive; a fresh one is waited for', () => {
    const path = join(dir, 'old');
    // Held by this very test runner's parent (alive), but an hour old.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), token: 'old', at: Date.now() - 3_600_000 }));
    expect(withFileLock(path, () => 1, { staleMs: 30_000, timeoutMs: 2_000 })).toBe(1);
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), token: 'fresh', at: Date.now() }));
    expect(() => withFileLock(path, () => 1, { staleMs: 30_000, timeoutMs: 300 })).toThrow(expect.objectContaining({ code: 'CHAIN_QUEUE_INVALID' }));
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).token).toBe('fresh'); // never broken
  });
});
