/**
 * Shared by the chain tests: the anvil URL from the global setup, and deterministic accounts from anvil's default test
 * mnemonic. Test files run in parallel against one node, so each file takes its own account indices (see ACCOUNTS) and
 * nonces never collide.
 */
import { inject } from 'vitest';
import { createRng, bytesToHex, type Hex } from '../../src/core/index.js';
import { testClient as nodeTestClient } from './helpers-node.js';

export { ANVIL_MNEMONIC, testAccount } from './helpers-node.js';

/** Account indices owned by each test file (anvil funds 40). */
export const ACCOUNTS = {
  registry: [1, 2, 3, 4],
  queue: [5, 6, 7],
  retry: [8, 9],
  jsonRpc: [10],
  secrets: [30],
} as const;

export function anvilUrl(): string {
  const url = inject('anvilRpcUrl');
  if (!url) throw new Error(`anvil did not start in the global setup: ${inject('anvilError')}`);
  return url;
}

export function testClient(account: Parameters<typeof nodeTestClient>[0], url: string = anvilUrl()) {
  return nodeTestClient(account, url);
}

/** Seeded random 32-byte hex (tests never use Math.random). */
export function randomHashes(seed: number, count: number): Hex[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = rng.nextUint32() & 0xff;
    return bytesToHex(bytes);
  });
}

export function randomAddresses(seed: number, count: number): Hex[] {
  return randomHashes(seed, count).map((h) => `0x${h.slice(26)}` as Hex);
}

/** Sends a raw JSON-RPC call (anvil_mine etc.). */
export async function rpc(method: string, params: unknown[] = [], url: string = anvilUrl()): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
