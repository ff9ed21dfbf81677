import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, type Address, type Hex } from 'viem';
import type { HDAccount } from 'viem/accounts';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import {
  buildAttributionBatch,
  deployRegistry,
  getRegistryEvents,
  openPublisherQueue,
  publishAttributionBatch,
  publishModel,
  type QueueFile,
  type QueueJob,
} from '../../src/chain/index.js';
import { ACCOUNTS, anvilUrl, randomAddresses, randomHashes, rpc, testAccount, testClient } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const [ownerIndex, publisherIndex] = ACCOUNTS.queue;
const owner = testClient(testAccount(ownerIndex));
const publisherAccount = testAccount(publisherIndex) as HDAccount;
const publisherKey = bytesToHex(publisherAccount.getHdKey().privateKey!);
const publisher = testClient(publisherAccount);
const dir = mkdtempSync(join(tmpdir(), 'provenant-queue-'));
const childBundle = join(dir, 'queue-child.mjs');

let address: Address;
let model: Hex;
let seed = 1000;

function batchJob(): QueueJob & { kind: 'attributionBatch' } {
  seed += 10;
  const [queryHash] = randomHashes(seed, 1);
  const [contributor] = randomAddresses(seed + 1, 1);
  const batch = buildAttributionBatch([
    { queryHash: queryHash!, contributor: contributor!, score: 0.5, rewardWei: 10n ** 16n, modelRef: model },
    { queryHash: randomHashes(seed + 2, 1)[0]!, contributor: contributor!, score: -0.25, rewardWei: 0n, modelRef: model },
  ]);
  return { kind: 'attributionBatch', batchId: batch.batchId, root: batch.root, recordCount: String(batch.recordCount), modelRef: model };
}

/** Runs the child; resolves with its stdout lines once it exits (killed or not). `killOn` kills it from here. */
function runChild(queuePath: string, env: { CRASH_AT?: string; CONFIRMATIONS?: number; killOn?: string }): Promise<{ lines: string[]; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [childBundle], {
    env: {
      ...process.env,
      RPC_URL: anvilUrl(),
      QUEUE_PATH: queuePath,
      REGISTRY: address,
      PRIVATE_KEY: publisherKey,
      CRASH_AT: env.CRASH_AT ?? '',
      CONFIRMATIONS: String(env.CONFIRMATIONS ?? 1),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      if (env.killOn && line.startsWith(`${env.killOn} `)) process.kill(child.pid!, 'SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child exited with ${code}:\n${stderr}`));
      else resolve({ lines, signal });
    });
  });
}

function freshQueue(name: string, jobs: QueueJob[]): string {
  const path = join(dir, `${name}.json`);
  const queue = openPublisherQueue(path, address);
  for (const job of jobs) queue.enqueue(job);
  return path;
}

const readFile = (path: string): QueueFile => JSON.parse(readFileSync(path, 'utf8')) as QueueFile;
const nonceOf = (): Promise<number> => publisher.getTransactionCount({ address: publisher.account.address });
const publishedLogs = (batchId: Hex) => getRegistryEvents(publisher, { address, eventName: 'AttributionBatchPublished', args: { batchId } });

describe('resumable publisher queue', () => {
  beforeAll(async () => {
    // Bundled once, so each child starts in well under a second (tsx plus viem's module graph takes seconds).
    await build({ entryPoints: [join(here, 'fixtures/queue-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: childBundle, logLevel: 'silent' });
    address = (await deployRegistry(owner, { publishers: [publisher.account.address] })).address;
    const [baseHash, adapterHash, snapshotRoot, configHash] = randomHashes(77, 4) as [Hex, Hex, Hex, Hex];
    model = (await publishModel(publisher, { address, baseHash, adapterHash, snapshotRoot, configHash })).record.modelId;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a process killed between send and confirm resumes without a duplicate record', async () => {
    const job = batchJob();
    const path = freshQueue('killed-after-send', [job]);
    const nonce = await nonceOf();
    // Three confirmations: anvil mines the transaction at once, but nothing mines the next blocks, so the child is
    // certainly waiting between send and confirm when it is killed.
    const { lines, signal } = await runChild(path, { CONFIRMATIONS: 3, killOn: 'sent' });
    expect(signal).toBe('SIGKILL');
    expect(lines.some((l) => l.startsWith('confirmed'))).toBe(false);
    const onDisk = readFile(path).items[0]!;
    expect(onDisk.state).toBe('sent');
    expect(lines).toContain(`sent ${onDisk.txHash}`);

    await rpc('anvil_mine', ['0x3']);
    const resumed = openPublisherQueue(path, address);
    const result = await resumed.process(publisher, { confirmations: 3, pollingInterval: 50 });
    expect(result).toMatchObject({ confirmed: 1, failed: 0, alreadyOnChain: 0 });
    const item = resumed.items()[0]!;
    expect(item).toMatchObject({ state: 'confirmed', txHash: onDisk.txHash, confirmedBy: 'transaction' });
    expect(item.rawTx).toBeUndefined();
    expect(await nonceOf()).toBe(nonce + 1);
    const logs = await publishedLogs(job.batchId);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.transactionHash).toBe(onDisk.txHash);
  });

  it('killed after signing, before broadcast: the same signed bytes are sent on resume', async () => {
    const job = batchJob();
    const path = freshQueue('killed-after-sign', [job]);
    const nonce = await nonceOf();
    const { signal } = await runChild(path, { CRASH_AT: 'signed' });
    expect(signal).toBe('SIGKILL');
    const onDisk = readFile(path).items[0]!;
    expect(onDisk.state).toBe('signed');
    expect(onDisk.rawTx).toMatch(/^0x/);
    await expect(publisher.getTransaction({ hash: onDisk.txHash! })).rejects.toThrow();
    const result = await openPublisherQueue(path, address).process(publisher, { pollingInterval: 50 });
    expect(result.confirmed).toBe(1);
    expect(await nonceOf()).toBe(nonce + 1);
    const logs = await publishedLogs(job.batchId);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.transactionHash).toBe(onDisk.txHash);
  });

  it('killed after broadcast, before "sent" was written: the resume finds the transaction and sends nothing new', async () => {
    const job = batchJob();
    const path = freshQueue('killed-after-broadcast', [job]);
    const nonce = await nonceOf();
    const { signal } = await runChild(path, { CRASH_AT: 'broadcast' });
    expect(signal).toBe('SIGKILL');
    const onDisk = readFile(path).items[0]!;
    expect(onDisk.state).toBe('signed');
    expect(await nonceOf()).toBe(nonce + 1); // it did reach the chain
    const result = await openPublisherQueue(path, address).process(publisher, { pollingInterval: 50 });
    expect(result).toMatchObject({ confirmed: 1, failed: 0, alreadyOnChain: 0 });
    expect(await nonceOf()).toBe(nonce + 1);
    expect(await publishedLogs(job.batchId)).toHaveLength(1);
  });

  it('a signed transaction whose nonce was taken by another one is re-signed after checking the chain', async () => {
    const job = batchJob();
    const path = freshQueue('nonce-consumed', [job]);
    // Stop in process right after signing (the child-process crash is covered above): the file says `signed`.
    const stop = new Error('stop after signing');
    const stopped = await openPublisherQueue(path, address)
      .process(publisher, { onEvent: (e) => { if (e.type === 'signed') throw stop; } })
      .catch((e: unknown) => e);
    expect((stopped as { walk: () => unknown }).walk()).toBe(stop);
    const onDisk = readFile(path).items[0]!;
    expect(onDisk.state).toBe('signed');
    // Another transaction from the same account uses the nonce first.
    await publisher.sendTransaction({ to: owner.account.address, value: 1n, nonce: onDisk.nonce });
    const events: string[] = [];
    const result = await openPublisherQueue(path, address).process(publisher, { pollingInterval: 50, onEvent: (e) => void events.push(e.type) });
    expect(result.confirmed).toBe(1);
    expect(events).toEqual(['requeued', 'signed', 'broadcast', 'sent', 'confirmed']);
    const logs = await publishedLogs(job.batchId);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.transactionHash).not.toBe(onDisk.txHash);
  });

  it('skips what is already on chain, records reverts as failed, and carries on', async () => {
    const published = batchJob();
    await publishAttributionBatch(publisher, { address, batch: { ...published, recordCount: Number(published.recordCount) } });
    const unknownModel = randomHashes(5, 1)[0]!;
    const next = batchJob();
    const path = freshQueue('mixed', [published, { kind: 'evaluation', modelId: unknownModel, summaryHash: randomHashes(6, 1)[0]!, uri: '' }, next]);
    const nonce = await nonceOf();
    const queue = openPublisherQueue(path, address);
    const result = await queue.process(publisher, { pollingInterval: 50 });
    expect(result).toMatchObject({ confirmed: 2, failed: 1, alreadyOnChain: 1 });
    const [a, b, c] = queue.items();
    expect(a).toMatchObject({ state: 'confirmed', confirmedBy: 'already-on-chain' });
    expect(a!.txHash).toBeUndefined();
    expect(b).toMatchObject({ state: 'failed', error: { code: 'CHAIN_REVERTED', errorName: 'ModelNotFound' } });
    expect(c).toMatchObject({ state: 'confirmed', confirmedBy: 'transaction' });
    expect(await nonceOf()).toBe(nonce + 1); // only the third item sent a transaction
    // Processing again does nothing.
    expect(await openPublisherQueue(path, address).process(publisher)).toEqual({ confirmed: 0, failed: 0, alreadyOnChain: 0, requeued: 0, claimedElsewhere: 0 });
  });

  it('validates the file and deduplicates jobs', () => {
    const job = batchJob();
    const path = freshQueue('validation', [job]);
    const queue = openPublisherQueue(path, address);
    expect(queue.enqueue(job).id).toBe(queue.items()[0]!.id);
    expect(queue.items()).toHaveLength(1);
    const clash = (() => {
      try {
        queue.enqueue({ ...job, root: randomHashes(9, 1)[0]! });
      } catch (error) {
        return error;
      }
    })();
    expect(isProvenantError(clash, 'CHAIN_QUEUE_INVALID')).toBe(true);
    expect(() => openPublisherQueue(path, owner.account.address)).toThrow(expect.objectContaining({ code: 'CHAIN_QUEUE_INVALID' }));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format": "provenant-publisher-queue/v1", "items": [');
    expect(() => openPublisherQueue(broken, address)).toThrow(expect.objectContaining({ code: 'CHAIN_QUEUE_INVALID' }));
    expect(() => queue.enqueue({ ...job, recordCount: '-1' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
