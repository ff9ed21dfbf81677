/**
 * Vitest global setup: one real anvil node for the whole run (no mocked chain). It listens on 127.0.0.1 on a port the
 * OS picks (`--port 0`, read back from anvil's "Listening on" line, so two runs never race for a port), and is stopped
 * by its pid at teardown. Tests read the URL with `inject('anvilRpcUrl')`; child processes get `PROVENANT_ANVIL_RPC_URL`.
 *
 * Test files run in parallel against this one node, so each file signs with its own accounts (see
 * `test/chain/helpers.ts`): nonces of different files never collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** RPC URL of the shared anvil, or '' when it could not start (then `anvilError` says why). */
    anvilRpcUrl: string;
    anvilError: string;
  }
}

/** Number of funded accounts anvil derives from its default test mnemonic. */
export const ANVIL_ACCOUNTS = 40;

const PLATFORM_PACKAGES: Record<string, Record<string, string>> = {
  linux: { x64: '@foundry-rs/anvil-linux-amd64', arm64: '@foundry-rs/anvil-linux-arm64' },
  darwin: { x64: '@foundry-rs/anvil-darwin-amd64', arm64: '@foundry-rs/anvil-darwin-arm64' },
  win32: { x64: '@foundry-rs/anvil-win32-amd64' },
};

/**
 * Finds the anvil binary that `@foundry-rs/anvil` installs through its per-platform optional dependency
 * (`@foundry-rs/anvil-<os>-<arch>`), resolved from the wrapper package first (where npm puts it) and then from here.
 * `ANVIL_BIN` overrides, e.g. for a system-wide Foundry install.
 */
export function resolveAnvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const pkg = PLATFORM_PACKAGES[process.platform]?.[process.arch];
  if (!pkg) throw new Error(`No @foundry-rs/anvil binary package for ${process.platform}/${process.arch}; set ANVIL_BIN.`);
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const here = createRequire(import.meta.url);
  const resolvers = [() => createRequire(here.resolve('@foundry-rs/anvil/package.json')), () => here];
  for (const resolver of resolvers) {
    try {
      const path = join(dirname(resolver().resolve(`${pkg}/package.json`)), 'bin', binary);
      if (existsSync(path)) return path;
    } catch {
      // try the next place
    }
  }
  throw new Error(`anvil binary not found in ${pkg}; run npm install (it is an optional dependency of @foundry-rs/anvil) or set ANVIL_BIN.`);
}

/** Spawns anvil and resolves with its RPC URL once it answers `eth_chainId`. */
export async function startAnvil(args: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(resolveAnvilBinary(), ['--host', '127.0.0.1', '--port', '0', '--accounts', String(ANVIL_ACCOUNTS), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolvePromise, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`anvil did not start within 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining so anvil never blocks on a full pipe
        resolvePromise(`http://${match[1]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with code ${code}:\n${output}`));
    });
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (response.ok) break;
    } catch (error) {
      if (attempt > 100) throw error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child };
}

/** Stops anvil by its pid (never by name: other engineers' nodes may be running). */
export function stopAnvil(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
}

export default async function setup(project: TestProject): Promise<() => void> {
  // A node that cannot start fails the chain tests (through `anvilError`), never the other modules' tests.
  try {
    const { url, child } = await startAnvil();
    project.provide('anvilRpcUrl', url);
    project.provide('anvilError', '');
    process.env.PROVENANT_ANVIL_RPC_URL = url;
    return () => stopAnvil(child);
  } catch (error) {
    project.provide('anvilRpcUrl', '');
    project.provide('anvilError', (error as Error).message);
    return () => {};
  }
}
