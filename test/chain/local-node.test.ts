import { afterEach, describe, expect, it } from 'vitest';
import { privateKeyToAccount, mnemonicToAccount } from 'viem/accounts';
import { isProvenantError } from '../../src/core/index.js';
import { resolveAnvilBinary, startLocalNode, type LocalNode } from '../../src/chain/index.js';
import { ANVIL_MNEMONIC } from './helpers-node.js';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return ((await response.json()) as { result: unknown }).result;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const started: LocalNode[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.stop()));
});

describe('startLocalNode', () => {
  it('starts anvil on 127.0.0.1 with funded test accounts, and stop() closes the port and ends the process', async () => {
    const node = await startLocalNode({ accounts: 3, chainId: 4242 });
    started.push(node);
    expect(node.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.chainId).toBe(4242);
    expect(await rpc(node.rpcUrl, 'eth_chainId')).toBe('0x1092'); // 4242
    // Anvil's published first test key, and every key the one its mnemonic derives at that index.
    expect(node.accounts).toHaveLength(3);
    expect(node.accounts[0]).toBe('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    for (const [index, key] of node.accounts.entries()) {
      const address = privateKeyToAccount(key).address;
      expect(address).toBe(mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).address);
      expect(BigInt((await rpc(node.rpcUrl, 'eth_getBalance', [address, 'latest'])) as string)).toBe(10_000n * 10n ** 18n);
    }
    expect(isRunning(node.pid)).toBe(true);

    await node.stop();
    expect(isRunning(node.pid)).toBe(false);
    await expect(fetch(node.rpcUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    await node.stop(); // a second stop is a no-op
  });

  it('gives two nodes different ports', async () => {
    const [a, b] = await Promise.all([startLocalNode({ accounts: 1 }), startLocalNode({ accounts: 1 })]);
    started.push(a, b);
    expect(a.rpcUrl).not.toBe(b.rpcUrl);
    expect(a.chainId).toBe(31337);
    await a.stop();
    expect(await rpc(b.rpcUrl, 'eth_chainId')).toBe('0x7a69'); // stopping one leaves the other running
  });

  it('resolves the binary of @foundry-rs/anvil', () => {
    expect(resolveAnvilBinary()).toMatch(/@foundry-rs[\\/]anvil-[a-z0-9]+-[a-z0-9]+[\\/]bin[\\/]anvil(\.exe)?$/);
  });

  it('names the package when the anvil binary is missing', async () => {
    const previous = process.env.ANVIL_BIN;
    process.env.ANVIL_BIN = '/nonexistent/provenant-test/anvil';
    try {
      const error = await startLocalNode().catch((e: unknown) => e);
      expect(isProvenantError(error, 'OPTIONAL_DEPENDENCY_MISSING')).toBe(true);
      expect((error as Error).message).toContain('@foundry-rs/anvil');
    } finally {
      if (previous === undefined) delete process.env.ANVIL_BIN;
      else process.env.ANVIL_BIN = previous;
    }
  });

  it('reports an anvil that exits at start as CHAIN_NODE_FAILED with its output', async () => {
    const error = await startLocalNode({ args: ['--no-such-flag'] }).catch((e: unknown) => e);
    expect(isProvenantError(error, 'CHAIN_NODE_FAILED')).toBe(true);
    expect((error as Error).message).toContain('--no-such-flag');
  });

  it('rejects bad options', async () => {
    await expect(startLocalNode({ accounts: 0 })).rejects.toSatisfy((e) => isProvenantError(e, 'INVALID_ARGUMENT'));
    await expect(startLocalNode({ chainId: -1 })).rejects.toSatisfy((e) => isProvenantError(e, 'INVALID_ARGUMENT'));
  });
});
