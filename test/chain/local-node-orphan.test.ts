/**
 * A local anvil started by startLocalNode dies with the program that started it — when that program is killed outright
 * (SIGKILL, SIGTERM: no exit hooks run) and when it fails with an uncaught error after the wasm backend has loaded
 * (issue 10, item 6). Each case runs the program as a child process and watches the anvil pid it reports.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAnvilBinary } from '../../src/chain/index.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'local-node-child.ts');

let hasAnvil = true;
try {
  resolveAnvilBinary();
} catch {
  hasAnvil = false;
  console.warn('[local-node-orphan] skipped: @foundry-rs/anvil is not installed');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Starts the child program; resolves with it once it has printed its anvil's pid. */
function startChild(mode: string): Promise<{ child: ReturnType<typeof spawn>; anvil: number; exit: Promise<{ code: number | null; stderr: string }> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exit = new Promise<{ code: number | null; stderr: string }>((r) => child.once('close', (code) => r({ code, stderr })));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /\{"pid":(\d+)\}/.exec(stdout);
      if (match) resolve({ child, anvil: Number(match[1]), exit });
    });
    child.once('error', reject);
    void exit.then(({ code }) => reject(new Error(`child exited (${code}) before reporting its node: ${stderr.slice(-2000)}`)));
  });
}

describe.skipIf(!hasAnvil)('startLocalNode: no orphan node', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`the node stops when its program is killed with ${signal}`, { timeout: 60_000 }, async () => {
      const { child, anvil, exit } = await startChild('wait');
      expect(alive(anvil)).toBe(true);
      child.kill(signal);
      await exit;
      const stopped = await gone(anvil, 5_000);
      if (!stopped) process.kill(anvil, 'SIGKILL'); // never leave one behind, even when the check fails
      expect(stopped).toBe(true);
    });
  }

  it('the node stops, and the error surfaces as itself with exit code 1, when the program throws after wasm loaded', { timeout: 60_000 }, async () => {
    const { anvil, exit } = await startChild('throw');
    const { code, stderr } = await exit;
    const stopped = await gone(anvil, 5_000);
    if (!stopped) process.kill(anvil, 'SIGKILL');
    expect(stopped).toBe(true);
    expect(code).toBe(1);
    expect(stderr).toContain('Error: user program failed while a node ran');
    expect(stderr.length).toBeLessThan(4000);
  });
});
