/**
 * A throwaway local EVM node for demos and tests: spawns the anvil binary of the optional peer dependency
 * `@foundry-rs/anvil` on 127.0.0.1, on a port the OS picks (`--port 0`, read back from anvil's "Listening on" line, so
 * two nodes never race for a port), and stops it by its pid — never by name, since other nodes may be running.
 *
 * Not for production: the accounts are anvil's well-known test keys (mnemonic "test test … junk"), which anyone can
 * spend on any chain that funds them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hex } from 'viem';
import { assertArgument, ProvenantError, packageRequirers, redactHexSecrets } from '../core/index.js';

/** The npm package that ships the anvil binary (through one optional dependency per platform). */
export const ANVIL_PACKAGE = '@foundry-rs/anvil';

const PLATFORM_PACKAGES: Record<string, Record<string, string>> = {
  linux: { x64: '@foundry-rs/anvil-linux-amd64', arm64: '@foundry-rs/anvil-linux-arm64' },
  darwin: { x64: '@foundry-rs/anvil-darwin-amd64', arm64: '@foundry-rs/anvil-darwin-arm64' },
  win32: { x64: '@foundry-rs/anvil-win32-amd64' },
};


function missing(details: string, cause?: unknown): ProvenantError {
  return new ProvenantError('OPTIONAL_DEPENDENCY_MISSING', `A local node needs the optional package "${ANVIL_PACKAGE}", and its anvil binary was not found.`, {
    details,
    data: { packageName: ANVIL_PACKAGE },
    cause,
  });
}

/**
 * Finds the anvil binary that `@foundry-rs/anvil` installs through its per-platform optional dependency
 * (`@foundry-rs/anvil-<os>-<arch>`): resolved from the wrapper package first (where npm puts it), then directly.
 * The `ANVIL_BIN` environment variable overrides (e.g. a system-wide Foundry install). Throws
 * OPTIONAL_DEPENDENCY_MISSING naming the package when it is not installed.
 *
 * @example
 * ```ts
 * import { resolveAnvilBinary } from 'provenant/chain';
 * resolveAnvilBinary(); // '/app/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil'
 * ```
 */
export function resolveAnvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const pkg = PLATFORM_PACKAGES[process.platform]?.[process.arch];
  if (!pkg) throw missing(`${ANVIL_PACKAGE} ships no binary for ${process.platform}/${process.arch}; install Foundry and set ANVIL_BIN.`);
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  let lastError: unknown;
  for (const base of packageRequirers()) {
    const candidates = [() => createRequire(base.resolve(`${ANVIL_PACKAGE}/package.json`)), () => base];
    for (const candidate of candidates) {
      try {
        const path = join(dirname(candidate().resolve(`${pkg}/package.json`)), 'bin', binary);
        if (existsSync(path)) return path;
      } catch (error) {
        lastError = error;
      }
    }
  }
  throw missing(`Install it: npm install --save-dev ${ANVIL_PACKAGE} (its ${pkg} optional dependency carries the binary), or set ANVIL_BIN.`, lastError);
}

export interface StartLocalNodeOptions {
  /** Funded accounts anvil derives from its test mnemonic. Default 10. */
  accounts?: number;
  /** Chain id. Default: anvil's 31337. */
  chainId?: number;
  /** Extra anvil arguments (e.g. `['--gas-limit', '30000000']`). */
  args?: readonly string[];
  /** Path of the anvil binary. Default: `resolveAnvilBinary()`. */
  binary?: string;
  /** Give up when the node has not answered within this many ms. Default 15,000. */
  startTimeoutMs?: number;
}

export interface LocalNode {
  /** HTTP JSON-RPC URL, e.g. `http://127.0.0.1:45393`. */
  rpcUrl: string;
  chainId: number;
  /** Private keys of anvil's funded test accounts, in derivation order (index 0 first). */
  accounts: Hex[];
  /** The anvil process id. */
  pid: number;
  /**
   * Stops the node (SIGTERM by pid, SIGKILL after 5 s) and resolves once it has exited. Safe to call twice. If this
   * process dies first — an uncaught error, or a signal that runs no hooks — the node is killed too.
   */
  stop(): Promise<void>;
}

async function rpcChainId(url: string): Promise<number | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    if (!response.ok) return null;
    const body = (await response.json()) as { result?: string };
    return typeof body.result === 'string' ? Number(BigInt(body.result)) : null;
  } catch {
    return null;
  }
}

/** anvil's output without key material: hex keys and the mnemonic line. */
function redactBanner(output: string): string {
  return redactHexSecrets(output).replace(/^(\s*Mnemonic:\s*).*$/gim, '$1<redacted>');
}

/**
 * A tiny Node process that SIGKILLs `pid` as soon as its stdin — a pipe from this process — closes, which the OS does
 * when this process dies for any reason (Node has no PR_SET_PDEATHSIG); it exits by itself once `pid` is gone. It holds
 * no reference on this process's event loop.
 */
const WATCHDOG_SOURCE = `
const pid = Number(process.argv[1]);
const kill = () => { try { process.kill(pid, 'SIGKILL'); } catch {} process.exit(0); };
process.stdin.on('end', kill);
process.stdin.on('close', kill);
process.stdin.on('error', kill);
process.stdin.resume();
setInterval(() => { try { process.kill(pid, 0); } catch { process.exit(0); } }, 1000);
`;

function startWatchdog(pid: number): ChildProcess | null {
  try {
    const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => undefined); // no watchdog (e.g. no usable execPath): the 'exit' hook still covers normal exits
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return watchdog;
  } catch {
    return null;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a local anvil node for demos and tests, and resolves once it answers `eth_chainId`. Always call `stop()` (the
 * node is also killed if this process exits first). Throws OPTIONAL_DEPENDENCY_MISSING when `@foundry-rs/anvil` is not
 * installed, CHAIN_NODE_FAILED when anvil exits or does not answer in time.
 *
 * @example
 * ```ts
 * import { createWalletClient, http } from 'viem';
 * import { deployRegistry, startLocalNode } from 'provenant/chain';
 * import { foundry } from 'viem/chains';
 * import { privateKeyToAccount } from 'viem/accounts';
 * const node = await startLocalNode();
 * try {
 *   const client = createWalletClient({ account: privateKeyToAccount(node.accounts[0]), chain: foundry, transport: http(node.rpcUrl) });
 *   await deployRegistry(client);
 * } finally {
 *   await node.stop();
 * }
 * ```
 */
export async function startLocalNode(options: StartLocalNodeOptions = {}): Promise<LocalNode> {
  const accounts = options.accounts ?? 10;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  assertArgument(Number.isInteger(accounts) && accounts >= 1, 'accounts', 'must be a positive integer', accounts);
  if (options.chainId !== undefined) {
    assertArgument(Number.isSafeInteger(options.chainId) && options.chainId > 0, 'chainId', 'must be a positive integer', options.chainId);
  }
  const binary = options.binary ?? resolveAnvilBinary();
  const args = ['--host', '127.0.0.1', '--port', '0', '--accounts', String(accounts)];
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));
  args.push(...(options.args ?? []));

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A crashed demo must not leave an orphan node behind: on a normal exit (an uncaught error included) the 'exit' hook
  // kills it; when this process dies without running hooks (SIGKILL, SIGTERM, a fatal signal), the watchdog does.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const watchdog = child.pid === undefined ? null : startWatchdog(child.pid);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', killOnExit);
      // The watchdog goes first, so it can never signal a pid the OS has reused after anvil exited.
      if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      process.kill(child.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 5_000)));
      if ((await Promise.race([done, forced])) === 'timeout' && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, 'SIGKILL');
        await done;
      }
      clearTimeout(timer);
    })();
    return stopping;
  };

  let output = '';
  const fail = async (message: string, cause?: unknown): Promise<never> => {
    await stop();
    throw new ProvenantError('CHAIN_NODE_FAILED', `startLocalNode: ${message}`, {
      // anvil's banner lists its private keys and mnemonic: never echoed, even though they are public test keys.
      metaMessages: output ? ['anvil output (last 2,000 characters, keys redacted):', redactBanner(output).slice(-2000)] : [],
      data: { binary, args },
      cause,
    });
  };

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`anvil did not listen within ${startTimeoutMs} ms`)), startTimeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /Listening on (127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stdout!.resume(); // keep draining so anvil never blocks on a full pipe
          resolve(`http://${match[1]}`);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // 'close', not 'exit': it comes after stdout/stderr are drained, so the error carries anvil's last words.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`anvil exited (${signal ?? `code ${code}`}) before listening`));
      });
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' && options.binary === undefined) {
      await stop();
      throw missing(`The anvil binary at ${binary} could not be run; reinstall ${ANVIL_PACKAGE} or set ANVIL_BIN.`, error);
    }
    return fail((error as Error).message, error);
  }

  // The "Private Keys" block of anvil's banner: "(0) 0xac09…".
  const keysSection = /Private Keys\s*=+\s*([\s\S]*?)(?:\n\s*\n[A-Z]|$)/.exec(output)?.[1] ?? '';
  const keys = [...keysSection.matchAll(/\((\d+)\)\s+(0x[0-9a-fA-F]{64})/g)].map((m) => m[2]!.toLowerCase() as Hex);
  if (keys.length !== accounts) return fail(`expected ${accounts} private keys in anvil's banner, found ${keys.length}`);

  const deadline = Date.now() + startTimeoutMs;
  let chainId: number | null = null;
  while ((chainId = await rpcChainId(url)) === null) {
    if (Date.now() > deadline) return fail(`anvil listens on ${url} but did not answer eth_chainId within ${startTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { rpcUrl: url, chainId, accounts: keys, pid: child.pid!, stop };
}
