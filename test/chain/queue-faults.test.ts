/**
 * Issue 13, kind 1 — "published is not the same as on chain" — proved on real anvil nodes (private ones: these tests
 * switch automine off, reorganise the chain and restart the node): a replaced transaction, a reorg deeper than the
 * confirmations, a node restarted from an older state, two processes on one queue file, a revert during gas
 * estimation, failed items retried, and an address that is not a registry.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createWalletClient, custom, encodeFunctionData, http, publicActions, type Address, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import type { HDAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, isProvenantError, type ProvenantError } from '../../src/core/index.js';
import {
  attributionRegistryAbi,
  buildAttributionBatch,
  deployRegistry,
  getRegistryEvents,
  openPublisherQueue,
  publishAttributionBatch,
  publishModel,
  readRecord,
  reconcile,
  sendReliably,
  setPublisher,
  startLocalNode,
  writeRegistry,
  type LocalNode,
  type QueueEvent,
  type QueueJob,
} from '../../src/chain/index.js';
import { randomAddresses, randomHashes, rpc, testAccount, testClient } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'provenant-queue-faults-'));
const workerBundle = join(dir, 'queue-worker.mjs');

type Client = ReturnType<typeof testClient>;
let node: LocalNode;
let owner: Client;
let publisher: Client;
let address: Address;
let model: Hex;
let seed = 5000;

function batchJob(modelRef: Hex = model): QueueJob & { kind: 'attributionBatch' } {
  seed += 10;
  const [queryHash] = randomHashes(seed, 1);
  const [contributor] = randomAddresses(seed + 1, 1);
  const batch = buildAttributionBatch([{ queryHash: queryHash!, contributor: contributor!, score: 0.5, rewardWei: 10n ** 15n, modelRef }]);
  return { kind: 'attributionBatch', batchId: batch.batchId, root: batch.root, recordCount: String(batch.recordCount), modelRef };
}

/** Mines a block every `ms` until stopped (automine off, or confirmations > 1 on an idle chain). */
function miner(url: string, ms = 100): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await rpc('evm_mine', [], url).catch(() => undefined);
      await new Promise((r) => setTimeout(r, ms));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

const logsOf = (client: Client, registry: Address, batchId: Hex) =>
  getRegistryEvents(client, { address: registry, eventName: 'AttributionBatchPublished', args: { batchId } });

async function setupRegistry(client: Client, publishers: Address[]): Promise<{ registry: Address; modelRef: Hex }> {
  const registry = (await deployRegistry(client, { publishers })).address;
  const [baseHash, adapterHash, snapshotRoot, configHash] = randomHashes(seed++, 4) as [Hex, Hex, Hex, Hex];
  const modelRef = (await publishModel(client, { address: registry, baseHash, adapterHash, snapshotRoot, configHash })).record.modelId;
  return { registry, modelRef };
}

async function rejection(promise: Promise<unknown>): Promise<ProvenantError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isProvenantError(error)) throw new Error(`expected a ProvenantError, got ${String(error)}`);
  return error;
}

describe('publisher queue under chain faults (issue 13, kind 1)', () => {
  beforeAll(async () => {
    await build({ entryPoints: [join(here, 'fixtures/queue-worker.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: workerBundle, logLevel: 'silent' });
    node = await startLocalNode({ accounts: 6 });
    owner = testClient(testAccount(0), node.rpcUrl);
    publisher = testClient(testAccount(1), node.rpcUrl);
    ({ registry: address, modelRef: model } = await setupRegistry(owner, [publisher.account.address, owner.account.address]));
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a transaction replaced by a same-nonce one with a higher fee is not confirmed; the job is re-sent', async () => {
    const job = batchJob();
    const queue = openPublisherQueue(join(dir, 'replaced.json'), address);
    queue.enqueue(job);
    await rpc('evm_setAutomine', [false], node.rpcUrl);
    let stopMiner: (() => Promise<void>) | undefined;
    const events: QueueEvent[] = [];
    let replacement: Hex | undefined;
    try {
      const result = await queue.process(publisher, {
        pollingInterval: 50,
        onEvent: async (event) => {
          events.push(event);
          if (event.type === 'sent' && !replacement) {
            // Another transaction of the same account, same nonce, twice the fee: a wallet "cancelling" it.
            const original = await publisher.getTransaction({ hash: event.item.txHash! });
            replacement = await publisher.sendTransaction({
              to: publisher.account.address,
              value: 0n,
              nonce: event.item.nonce!,
              maxFeePerGas: original.maxFeePerGas! * 2n,
              maxPriorityFeePerGas: original.maxPriorityFeePerGas! * 2n + 1n,
            });
            stopMiner = miner(node.rpcUrl, 100);
          }
        },
      });
      expect(result).toMatchObject({ confirmed: 1, failed: 0, alreadyOnChain: 0, requeued: 1 });
    } finally {
      await stopMiner?.();
      await rpc('evm_setAutomine', [true], node.rpcUrl);
    }
    const firstHash = events.find((e) => e.type === 'sent')!.item.txHash!;
    const replacementReceipt = await publisher.getTransactionReceipt({ hash: replacement! });
    expect(replacementReceipt.status).toBe('success'); // the receipt that used to be taken as confirmation
    expect(await publisher.getTransactionReceipt({ hash: firstHash }).catch(() => null)).toBeNull();
    expect(events.find((e) => e.type === 'requeued')).toMatchObject({ reason: 'nonce-consumed' });
    const item = queue.items()[0]!;
    expect(item).toMatchObject({ state: 'confirmed', confirmedBy: 'transaction', attempts: 2 });
    expect(item.txHash).not.toBe(firstHash);
    const logs = await logsOf(publisher, address, job.batchId);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.transactionHash).toBe(item.txHash);
  });

  it('a "speed up" (same call, higher fee) confirms from the registry: the record is there, written by the replacement', async () => {
    const job = batchJob();
    const queue = openPublisherQueue(join(dir, 'repriced.json'), address);
    queue.enqueue(job);
    await rpc('evm_setAutomine', [false], node.rpcUrl);
    let stopMiner: (() => Promise<void>) | undefined;
    let replacement: Hex | undefined;
    try {
      const result = await queue.process(publisher, {
        pollingInterval: 50,
        onEvent: async (event) => {
          if (event.type !== 'sent' || replacement) return;
          const original = await publisher.getTransaction({ hash: event.item.txHash! });
          replacement = await publisher.sendTransaction({
            to: original.to!,
            data: original.input,
            gas: original.gas,
            nonce: event.item.nonce!,
            maxFeePerGas: original.maxFeePerGas! * 2n,
            maxPriorityFeePerGas: original.maxPriorityFeePerGas! * 2n + 1n,
          });
          stopMiner = miner(node.rpcUrl, 100);
        },
      });
      expect(result).toMatchObject({ confirmed: 1, failed: 0, alreadyOnChain: 1, requeued: 0 });
    } finally {
      await stopMiner?.();
      await rpc('evm_setAutomine', [true], node.rpcUrl);
    }
    expect(queue.items()[0]).toMatchObject({ state: 'confirmed', confirmedBy: 'already-on-chain', attempts: 1 });
    const logs = await logsOf(publisher, address, job.batchId);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.transactionHash).toBe(replacement);
  });

  it('a direct publish whose transaction is replaced never reports success', async () => {
    const job = batchJob();
    await rpc('evm_setAutomine', [false], node.rpcUrl);
    let stopMiner: (() => Promise<void>) | undefined;
    try {
      const error = await rejection(
        publishAttributionBatch(publisher, {
          address,
          batch: { ...job, recordCount: Number(job.recordCount) },
          pollingInterval: 50,
          receiptTimeoutMs: 30_000,
          onSent: (tx) => {
            // After viem has seen the pending transaction (so it follows the replacement to its receipt).
            setTimeout(async () => {
              const original = await publisher.getTransaction({ hash: tx.hash });
              await publisher.sendTransaction({ to: publisher.account.address, value: 0n, nonce: tx.nonce, maxFeePerGas: original.maxFeePerGas! * 2n, maxPriorityFeePerGas: original.maxPriorityFeePerGas! * 2n + 1n });
              stopMiner = miner(node.rpcUrl, 100);
            }, 800);
          },
        }),
      );
      expect(error.code).toBe('CHAIN_TX_REPLACED');
      expect(error.data.replacementStatus).toBe('success');
    } finally {
      await stopMiner?.();
      await rpc('evm_setAutomine', [true], node.rpcUrl);
    }
    expect(await readRecord(publisher, { address, kind: 'attributionBatch', batchId: job.batchId })).toBeNull();
  });

  it('a reorg deeper than the confirmations: reconcile finds the lost records and the queue re-sends them', async () => {
    const confirmations = 2;
    const jobs = Array.from({ length: 6 }, () => batchJob());
    const queue = openPublisherQueue(join(dir, 'reorg.json'), address);
    for (const job of jobs) queue.enqueue(job);
    let stopMiner = miner(node.rpcUrl, 50);
    await queue.process(publisher, { confirmations, pollingInterval: 25 }).finally(stopMiner);
    expect(queue.items().map((i) => [i.state, i.confirmedBy])).toEqual(jobs.map(() => ['confirmed', 'transaction']));

    const head = await publisher.getBlockNumber();
    const depth = 10; // > confirmations
    const inReorgedBlocks = queue.items().filter((i) => BigInt(i.blockNumber!) > head - BigInt(depth)).map((i) => i.id);
    expect(inReorgedBlocks.length).toBeGreaterThanOrEqual(1);
    await rpc('anvil_reorg', [depth, []], node.rpcUrl);
    // Independent check of what the chain lost: the registry, read directly.
    const lost: string[] = [];
    for (const item of queue.items()) {
      if (!(await readRecord(publisher, { address, kind: 'attributionBatch', batchId: (item.job as { batchId: Hex }).batchId }))) lost.push(item.id);
    }
    expect(lost.sort()).toEqual([...inReorgedBlocks].sort());

    const reconciled = await reconcile(publisher, queue);
    expect(reconciled.checked).toBe(jobs.length);
    expect(reconciled.requeued.map((i) => i.id).sort()).toEqual(lost.sort());
    stopMiner = miner(node.rpcUrl, 50);
    const result = await queue.process(publisher, { confirmations, pollingInterval: 25 }).finally(stopMiner);
    expect(result.confirmed).toBe(lost.length);
    for (const job of jobs) {
      const logs = await logsOf(publisher, address, job.batchId);
      expect(logs).toHaveLength(1); // on the canonical chain: once
    }
    expect(queue.items().every((i) => i.state === 'confirmed')).toBe(true);
    console.info(`reorg depth ${depth} > confirmations ${confirmations}: ${lost.length} of ${jobs.length} records removed, ${result.confirmed} re-sent`);
  });

  it('a node restarted from an older state dump: lost records re-sent, the nonce gap healed, no stall', async () => {
    const a = await startLocalNode({ accounts: 3 });
    let b: LocalNode | undefined;
    try {
      const clientA = testClient(testAccount(1), a.rpcUrl);
      const { registry, modelRef } = await setupRegistry(clientA, [clientA.account.address]);
      const queue = openPublisherQueue(join(dir, 'restart.json'), registry);
      const early = [batchJob(modelRef), batchJob(modelRef)];
      for (const job of early) queue.enqueue(job);
      await queue.process(clientA, { pollingInterval: 25 });
      const dump = (await rpc('anvil_dumpState', [], a.rpcUrl)) as Hex;
      const nonceAtDump = await clientA.getTransactionCount({ address: clientA.account.address });

      const late = [batchJob(modelRef), batchJob(modelRef), batchJob(modelRef)];
      for (const job of late) queue.enqueue(job);
      await queue.process(clientA, { pollingInterval: 25 });
      // Two unrelated transactions, then one queue item left `sent`: its nonce is 5 above the dump's.
      await clientA.sendTransaction({ to: clientA.account.address, value: 1n });
      await clientA.sendTransaction({ to: clientA.account.address, value: 1n });
      const stranded = batchJob(modelRef);
      queue.enqueue(stranded);
      const stop = new Error('stop after sent');
      await queue.process(clientA, { pollingInterval: 25, onEvent: (e) => { if (e.type === 'sent') throw stop; } }).catch(() => undefined);
      const before = queue.items().find((i) => i.job === stranded || (i.job as { batchId: Hex }).batchId === stranded.batchId)!;
      expect(before).toMatchObject({ state: 'sent', nonce: nonceAtDump + 5 });

      await a.stop();
      b = await startLocalNode({ accounts: 3 });
      await rpc('anvil_loadState', [dump], b.rpcUrl);
      const clientB = testClient(testAccount(1), b.rpcUrl);
      expect(await clientB.getTransactionCount({ address: clientB.account.address })).toBe(nonceAtDump);

      const events: QueueEvent[] = [];
      const started = Date.now();
      const result = await queue.process(clientB, { pollingInterval: 25, receiptTimeoutMs: 20_000, onEvent: (e) => void events.push(e) });
      const reasons = events.filter((e): e is Extract<QueueEvent, { type: 'requeued' }> => e.type === 'requeued').map((e) => e.reason);
      expect(reasons.filter((r) => r === 'reorged')).toHaveLength(late.length);
      expect(reasons).toContain('nonce-gap');
      expect(result.confirmed).toBe(late.length + 1);
      for (const job of [...early, ...late, stranded]) {
        expect(await readRecord(clientB, { address: registry, kind: 'attributionBatch', batchId: job.batchId })).not.toBeNull();
        expect(await logsOf(clientB, registry, job.batchId)).toHaveLength(1);
      }
      console.info(`restart from an older state: ${late.length} lost records re-sent, 1 stranded nonce (gap of 2) re-signed, in ${Date.now() - started} ms`);
    } finally {
      await a.stop();
      await b?.stop();
    }
  });

  it('two processes × 50 jobs on one queue file: every job exactly once, nothing lost', async () => {
    const path = join(dir, 'shared.json');
    openPublisherQueue(path, address); // created once, then only the workers touch it
    const key = bytesToHex((testAccount(2) as HDAccount).getHdKey().privateKey!);
    await setPublisher(owner, { address, publisher: testAccount(2).address, allowed: true });
    const jobSets = [0, 1].map(() => Array.from({ length: 50 }, () => batchJob()));
    const runWorker = (jobs: QueueJob[], n: number): Promise<string[]> => {
      const jobsPath = join(dir, `jobs-${n}.json`);
      writeFileSync(jobsPath, JSON.stringify(jobs));
      const child = spawn(process.execPath, [workerBundle], {
        env: { ...process.env, RPC_URL: node.rpcUrl, QUEUE_PATH: path, REGISTRY: address, PRIVATE_KEY: key, JOBS: jobsPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      return new Promise((resolve, reject) =>
        child.once('exit', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`worker ${n} exited ${code}: ${err}`)))),
      );
    };
    const outputs = await Promise.all(jobSets.map((jobs, n) => runWorker(jobs, n)));
    const lines = outputs.flat().map((l) => l.split(' '));
    const items = openPublisherQueue(path, address).items();
    expect(items).toHaveLength(100);
    expect(items.filter((i) => i.state === 'confirmed')).toHaveLength(100);
    const confirmedEvents = lines.filter(([type]) => type === 'confirmed').map(([, id]) => id!);
    expect(confirmedEvents).toHaveLength(100);
    expect(new Set(confirmedEvents).size).toBe(100); // each confirmed by exactly one process, once
    const byWorker = outputs.map((o) => o.filter((l) => l.startsWith('confirmed ')).length);
    expect(byWorker.every((n) => n > 0)).toBe(true); // both really worked on the shared file
    for (const job of jobSets.flat()) expect(await logsOf(publisher, address, job.batchId)).toHaveLength(1);
    console.info(`2 processes × 50 jobs: ${new Set(confirmedEvents).size}/100 confirmed exactly once (split ${byWorker.join(' + ')}), ${lines.filter(([t]) => t === 'signed').length} transactions signed`);
  });

  it('an item claimed by another live process is left to it; an expired claim is taken over', async () => {
    const job = batchJob();
    const path = join(dir, 'claims.json');
    const queue = openPublisherQueue(path, address);
    queue.enqueue(job);
    const claimBy = (expiresAt: number): void => {
      const file = JSON.parse(readFileSync(path, 'utf8')) as { items: Record<string, unknown>[] };
      file.items[0]!.claim = { owner: 'another-worker', pid: process.ppid, host: hostname(), expiresAt: new Date(expiresAt).toISOString() };
      writeFileSync(path, JSON.stringify(file));
    };
    claimBy(Date.now() + 60_000);
    expect(await queue.process(publisher, { pollingInterval: 25 })).toMatchObject({ confirmed: 0, claimedElsewhere: 1 });
    expect(queue.items()[0]!.state).toBe('pending');
    claimBy(Date.now() - 1); // its lease ran out (a hung worker)
    expect(await queue.process(publisher, { pollingInterval: 25 })).toMatchObject({ confirmed: 1, claimedElsewhere: 0 });
    expect(queue.items()[0]).toMatchObject({ state: 'confirmed' });
    expect(queue.items()[0]!.claim).toBeUndefined();
  });

  it('a revert during gas estimation is decoded (BatchExists), and the queue then finds the record', async () => {
    // Direct: the transaction is estimated by the node, not simulated — the revert still comes back typed.
    const [b, c, d, e] = randomHashes(seed++, 4) as [Hex, Hex, Hex, Hex];
    await publishModel(publisher, { address, baseHash: b, adapterHash: c, snapshotRoot: d, configHash: e });
    const data = encodeFunctionData({ abi: attributionRegistryAbi, functionName: 'publishModel', args: [b, c, d, e] });
    const direct = await rejection(sendReliably(publisher, { to: address, data, action: 'publishModel' }));
    expect(direct.code).toBe('CHAIN_REVERTED');
    expect(direct.data.errorName).toBe('ModelExists');
    const unauthorised = await rejection(
      writeRegistry(testClient(testAccount(3), node.rpcUrl), { address, action: 'publish', functionName: 'publishModel', args: [b, c, e, d], simulate: false }),
    );
    expect(unauthorised.code).toBe('CHAIN_UNAUTHORIZED');
    expect(unauthorised.data.errorName).toBe('NotPublisher');

    // Queue: another publisher's transaction lands between our registry check and our gas estimate (viem asks the
    // node to fill the transaction — eth_fillTransaction — or to estimate it).
    const job = batchJob();
    const racer = publisher;
    let raced = false;
    const methods: string[] = [];
    const http1 = http(node.rpcUrl, { retryCount: 0 })({ chain: foundry });
    const racing = createWalletClient({
      account: testAccount(0),
      chain: foundry,
      transport: custom({
        async request({ method, params }) {
          methods.push(method);
          if ((method === 'eth_estimateGas' || method === 'eth_fillTransaction') && !raced) {
            raced = true;
            await publishAttributionBatch(racer, { address, batch: { ...job, recordCount: Number(job.recordCount) } });
          }
          return http1.request({ method, params } as never);
        },
      }),
    }).extend(publicActions);
    const queue = openPublisherQueue(join(dir, 'estimate.json'), address);
    queue.enqueue(job);
    const estimateErrors: string[] = [];
    const result = await queue.process(racing, { pollingInterval: 25, onEvent: (ev) => void estimateErrors.push(ev.type) });
    expect(raced, methods.join(",")).toBe(true);
    expect(result).toMatchObject({ confirmed: 1, alreadyOnChain: 1, failed: 0 });
    expect(queue.items()[0]).toMatchObject({ state: 'confirmed', confirmedBy: 'already-on-chain' });
    expect(estimateErrors).not.toContain('signed');
    // And the same revert met directly in estimation: typed BatchExists, never CHAIN_RPC_FAILED.
    const batchData = encodeFunctionData({ abi: attributionRegistryAbi, functionName: 'publishAttributionBatch', args: [job.batchId, job.root, BigInt(job.recordCount), job.modelRef] });
    const exists = await rejection(sendReliably(publisher, { to: address, data: batchData, action: 'publishAttributionBatch' }));
    expect(exists).toMatchObject({ code: 'CHAIN_REVERTED', data: expect.objectContaining({ errorName: 'BatchExists', args: [job.batchId] }) });
  });

  it('failed items can be retried: CHAIN_UNAUTHORIZED, then setPublisher, then retry()', async () => {
    const newcomer = testClient(testAccount(4), node.rpcUrl);
    const jobs = [batchJob(), batchJob()];
    const queue = openPublisherQueue(join(dir, 'retry.json'), address);
    for (const job of jobs) queue.enqueue(job);
    const first = await queue.process(newcomer, { pollingInterval: 25 });
    expect(first).toMatchObject({ confirmed: 0, failed: 2 });
    expect(queue.items().map((i) => i.error)).toEqual([
      expect.objectContaining({ code: 'CHAIN_UNAUTHORIZED', errorName: 'NotPublisher' }),
      expect.objectContaining({ code: 'CHAIN_UNAUTHORIZED', errorName: 'NotPublisher' }),
    ]);
    // Processing again does not touch failed items …
    expect(await queue.process(newcomer, { pollingInterval: 25 })).toMatchObject({ confirmed: 0, failed: 0 });
    await setPublisher(owner, { address, publisher: newcomer.account.address, allowed: true });
    // … until they are retried, explicitly.
    expect(queue.retry({ codes: ['CHAIN_REVERTED'] })).toHaveLength(0);
    const retried = queue.retry({ codes: ['CHAIN_UNAUTHORIZED'] });
    expect(retried.map((i) => i.state)).toEqual(['pending', 'pending']);
    expect(retried.every((i) => i.error === undefined && i.lastRequeue === 'retry')).toBe(true);
    expect(await queue.process(newcomer, { pollingInterval: 25 })).toMatchObject({ confirmed: 2, failed: 0 });
    for (const job of jobs) expect(await logsOf(publisher, address, job.batchId)).toHaveLength(1);
  });

  it('an address that is not a registry never confirms (a contract that accepts any call, an account without code)', async () => {
    // Runtime code that answers every call with 256 zero bytes: simulation passes, the receipt says success.
    const [fake, eoa] = randomAddresses(seed++, 2) as [Address, Address];
    await rpc('anvil_setCode', [fake, '0x6101006000f3'], node.rpcUrl);
    const job = batchJob();
    const nonce = await publisher.getTransactionCount({ address: publisher.account.address });
    for (const target of [fake, eoa]) {
      const queue = openPublisherQueue(join(dir, `fake-${target}.json`), target);
      queue.enqueue(job);
      const error = await rejection(queue.process(publisher, { pollingInterval: 25 }));
      expect(error.code).toBe('CHAIN_NOT_A_REGISTRY');
      expect(queue.items()[0]!.state).toBe('pending');
    }
    expect(await publisher.getTransactionCount({ address: publisher.account.address })).toBe(nonce); // nothing sent
    // A direct publish to the fake does send (it cannot know before), and then refuses to call it published.
    const direct = await rejection(publishAttributionBatch(publisher, { address: fake, batch: { ...job, recordCount: Number(job.recordCount) } }));
    expect(direct.code).toBe('CHAIN_NOT_A_REGISTRY');

    // A cleverer impostor answers owner() with a non-zero address (word 0 = 1) and every record read with a zero
    // publisher: it passes the up-front check, the queue sends, the receipt says success — and the item still fails,
    // because the registry read after the receipt finds nothing.
    const [impostor] = randomAddresses(seed++, 1) as [Address];
    await rpc('anvil_setCode', [impostor, '0x600160005260a06000f3'], node.rpcUrl);
    const queue = openPublisherQueue(join(dir, 'impostor.json'), impostor);
    queue.enqueue(job);
    const result = await queue.process(publisher, { pollingInterval: 25 });
    expect(result).toMatchObject({ confirmed: 0, failed: 1 });
    const item = queue.items()[0]!;
    expect(item).toMatchObject({ state: 'failed', error: expect.objectContaining({ code: 'CHAIN_NOT_A_REGISTRY' }) });
    expect((await publisher.getTransactionReceipt({ hash: item.txHash! })).status).toBe('success');
  });
});
