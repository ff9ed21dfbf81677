/**
 * Vitest global setup: one real anvil node for the whole run (no mocked chain), started with the library's own
 * `startLocalNode` (127.0.0.1, a port the OS picks, stopped by pid at teardown). Tests read the URL with
 * `inject('anvilRpcUrl')`; child processes get `PROVENANT_ANVIL_RPC_URL`.
 *
 * Test files run in parallel against this one node, so each file signs with its own accounts (see
 * `test/chain/helpers.ts`): nonces of different files never collide.
 */
import type { TestProject } from 'vitest/node';
import { startLocalNode, type LocalNode } from '../../src/chain/local-node.js';

export { resolveAnvilBinary } from '../../src/chain/local-node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** RPC URL of the shared anvil, or '' when it could not start (then `anvilError` says why). */
    anvilRpcUrl: string;
    anvilError: string;
  }
}

/** Number of funded accounts anvil derives from its default test mnemonic. */
export const ANVIL_ACCOUNTS = 40;

/** Spawns anvil (extra `args` appended) and resolves with its RPC URL once it answers `eth_chainId`. */
export async function startAnvil(args: string[] = []): Promise<{ url: string; child: LocalNode }> {
  const node = await startLocalNode({ accounts: ANVIL_ACCOUNTS, args });
  return { url: node.rpcUrl, child: node };
}

/** Stops anvil by its pid (never by name: other engineers' nodes may be running). */
export function stopAnvil(child: LocalNode): Promise<void> {
  return child.stop();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A node that cannot start fails the chain tests (through `anvilError`), never the other modules' tests.
  try {
    const node = await startLocalNode({ accounts: ANVIL_ACCOUNTS });
    project.provide('anvilRpcUrl', node.rpcUrl);
    project.provide('anvilError', '');
    process.env.PROVENANT_ANVIL_RPC_URL = node.rpcUrl;
    return () => node.stop();
  } catch (error) {
    project.provide('anvilRpcUrl', '');
    project.provide('anvilError', (error as Error).message);
    return async () => {};
  }
}
