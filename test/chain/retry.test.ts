import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { backoffDelay, deployRegistry, getRecord, publishModel, withRetry } from '../../src/chain/index.js';
import { ACCOUNTS, anvilUrl, randomHashes, testAccount, testClient } from './helpers.js';

/**
 * A real HTTP hop in front of the real anvil that answers 503 to the next `failNext` requests — the shape of a
 * rate-limited or restarting RPC provider. Nothing about the chain is mocked.
 */
function flakyProxy(target: string): Promise<{ url: string; server: Server; failNext: (n: number) => void; failures: () => number }> {
  let remaining = 0;
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (remaining > 0) {
        remaining--;
        failures++;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('service unavailable');
        return;
      }
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, server, failNext: (n) => (remaining = n), failures: () => failures });
    }),
  );
}

describe('RPC retries with backoff', () => {
  const account = testAccount(ACCOUNTS.retry[0]);
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;
  let address: Address;

  beforeAll(async () => {
    proxy = await flakyProxy(anvilUrl());
    address = (await deployRegistry(testClient(account))).address;
  });
  afterAll(() => new Promise<void>((resolve) => proxy.server.close(() => resolve())));

  it('backoff doubles from the base delay up to the cap', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('a publish through an endpoint that fails with 503 retries and lands exactly once', async () => {
    const client = testClient(account, proxy.url);
    const [baseHash, adapterHash, snapshotRoot, configHash] = randomHashes(31, 4) as [Hex, Hex, Hex, Hex];
    const delays: number[] = [];
    proxy.failNext(3);
    const result = await publishModel(client, {
      address,
      baseHash,
      adapterHash,
      snapshotRoot,
      configHash,
      retry: { baseDelayMs: 10, onRetry: (_e, _attempt, delay) => void delays.push(delay) },
    });
    expect(proxy.failures()).toBe(3);
    expect(delays).toEqual([10, 20, 40]);
    expect(result.status).toBe('published');
    const record = await getRecord(testClient(account), { address, kind: 'model', modelId: result.record.modelId });
    expect(record.adapterHash).toBe(adapterHash);
  });

  it('gives up after the retries with CHAIN_RPC_FAILED (retryable), and never retries a revert', async () => {
    const client = testClient(account, proxy.url);
    proxy.failNext(100);
    const error = await getRecord(client, { address, kind: 'model', modelId: randomHashes(32, 1)[0]!, retry: { retries: 2, baseDelayMs: 5 } }).catch((e: unknown) => e);
    expect(isProvenantError(error, 'CHAIN_RPC_FAILED')).toBe(true);
    expect((error as { data: { retryable: boolean } }).data.retryable).toBe(true);
    proxy.failNext(0);

    let attempts = 0;
    const stranger = testClient(testAccount(ACCOUNTS.retry[1]));
    const [a, b, c, d] = randomHashes(33, 4) as [Hex, Hex, Hex, Hex];
    const revert = await withRetry(async () => {
      attempts++;
      return publishModel(stranger, { address, baseHash: a, adapterHash: b, snapshotRoot: c, configHash: d, retry: { retries: 0 } });
    }, { baseDelayMs: 5 }).catch((e: unknown) => e);
    expect(isProvenantError(revert, 'CHAIN_UNAUTHORIZED')).toBe(true);
    expect(attempts).toBe(1);
  });
});
