import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { createWalletClient, encodeAbiParameters, encodeFunctionData, http, publicActions, keccak256 as viemKeccak, type Address, type Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../src/core/index.js';
import {
  ATTRIBUTION_LEAF_TYPES,
  attributionLeafValues,
  attributionRegistryAbi,
  buildAttributionBatch,
  deployRegistry,
  getRecord,
  getRegistryEvents,
  modelId,
  normalizeAttributionRecord,
  openPublisherQueue,
  publishAttributionBatch,
  publishEvaluation,
  publishModel,
  publishSnapshot,
  recordAttributions,
  setPublisher,
  verifyAttributionOnChain,
  watchRegistryEvents,
  writeRegistry,
  type AttributionRecordInput,
} from '../../src/chain/index.js';
import { foundry } from 'viem/chains';
import { ACCOUNTS, anvilUrl, randomAddresses, randomHashes, testAccount, testClient } from './helpers.js';

const [ownerIndex, publisherIndex, strangerIndex, laterIndex] = ACCOUNTS.registry;
const owner = testClient(testAccount(ownerIndex));
const publisher = testClient(testAccount(publisherIndex));
const stranger = testClient(testAccount(strangerIndex));
const later = testClient(testAccount(laterIndex));

async function rejection(promise: Promise<unknown>): Promise<ProvenantError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isProvenantError(error)).toBe(true);
  return error as ProvenantError;
}

function records(seed: number, count: number, ref: Hex): AttributionRecordInput[] {
  const queries = randomHashes(seed, count);
  const contributors = randomAddresses(seed + 1, count);
  return queries.map((queryHash, i) => ({
    queryHash,
    contributor: contributors[i]!,
    score: (i % 3 === 0 ? -1 : 1) * (i + 1) * 0.0123,
    rewardWei: 10n ** 15n * BigInt(i + 1),
    modelRef: ref,
  }));
}

describe('AttributionRegistry on anvil', () => {
  let address: Address;
  let model: Hex;
  const [baseHash, adapterHash, snapshotRoot, configHash, datanetId, summaryHash] = randomHashes(11, 6) as [Hex, Hex, Hex, Hex, Hex, Hex];

  beforeAll(async () => {
    const deployed = await deployRegistry(owner, { publishers: [publisher.account.address] });
    address = deployed.address;
    expect(deployed.gasUsed).toBeGreaterThan(0n);
  });

  it('publishes a model under a content-derived id that equals the contract and an independent ABI hash', async () => {
    const result = await publishModel(publisher, { address, baseHash, adapterHash, snapshotRoot, configHash });
    expect(result.status).toBe('published');
    model = result.record.modelId;
    const independent = viemKeccak(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }], [baseHash, adapterHash, snapshotRoot, configHash]));
    expect(model).toBe(independent);
    expect(modelId({ baseHash, adapterHash, snapshotRoot, configHash })).toBe(independent);
    const onChain = await publisher.readContract({ address, abi: attributionRegistryAbi, functionName: 'modelIdOf', args: [baseHash, adapterHash, snapshotRoot, configHash] });
    expect(onChain).toBe(independent);
    const record = await getRecord(publisher, { address, kind: 'model', modelId: model });
    expect(record).toMatchObject({ baseHash, adapterHash, snapshotRoot, configHash, publisher: publisher.account.address });
  });

  it('is idempotent: republishing sends no transaction', async () => {
    const nonce = await publisher.getTransactionCount({ address: publisher.account.address });
    const again = await publishModel(publisher, { address, baseHash, adapterHash, snapshotRoot, configHash });
    expect(again.status).toBe('exists');
    expect(again.txHash).toBeUndefined();
    expect(await publisher.getTransactionCount({ address: publisher.account.address })).toBe(nonce);
  });

  it('publishes a snapshot, reads it back, and refuses different content under the same key', async () => {
    const root = randomHashes(12, 1)[0]!;
    const first = await publishSnapshot(publisher, { address, datanetId, version: 3n, root, rowCount: 6046n, uri: 'ipfs://snapshot-3' });
    expect(first.status).toBe('published');
    expect(first.record).toMatchObject({ root, rowCount: 6046n, uri: 'ipfs://snapshot-3', version: 3n });
    const block = await publisher.getBlock({ blockNumber: first.receipt!.blockNumber });
    expect(first.record.publishedAt).toBe(Number(block.timestamp));
    expect((await publishSnapshot(publisher, { address, datanetId, version: 3, root, rowCount: 6046, uri: 'ipfs://snapshot-3' })).status).toBe('exists');
    const conflict = await rejection(publishSnapshot(publisher, { address, datanetId, version: 3n, root, rowCount: 6047n, uri: 'ipfs://snapshot-3' }));
    expect(conflict.code).toBe('CHAIN_RECORD_CONFLICT');
  });

  it('publishes an evaluation; an unknown model is a decoded ModelNotFound revert', async () => {
    const result = await publishEvaluation(publisher, { address, modelId: model, summaryHash, uri: 'ipfs://eval' });
    expect(result.status).toBe('published');
    expect(result.record.modelId).toBe(model);
    const unknown = randomHashes(13, 1)[0]!;
    const error = await rejection(publishEvaluation(publisher, { address, modelId: unknown, summaryHash }));
    expect(error.code).toBe('CHAIN_REVERTED');
    expect(error.data.errorName).toBe('ModelNotFound');
    expect(error.data.args).toEqual([unknown]);
    expect(error.shortMessage).toContain('ModelNotFound');
  });

  it('commits a batch whose proofs verify on chain, for our tree and for OpenZeppelin’s', async () => {
    const input = records(100, 37, model);
    const batch = buildAttributionBatch(input);
    const oz = StandardMerkleTree.of(batch.records.map((r) => [...attributionLeafValues(r)]), [...ATTRIBUTION_LEAF_TYPES]);
    expect(batch.root).toBe(oz.root);
    const published = await publishAttributionBatch(publisher, { address, batch });
    expect(published.status).toBe('published');
    expect(published.record).toMatchObject({ root: batch.root, recordCount: 37n, modelRef: model });
    for (const i of [0, 1, 17, 36]) {
      const proof = batch.getProof(i);
      expect(proof).toEqual(oz.getProof(i));
      expect(await verifyAttributionOnChain(publisher, { address, batchId: batch.batchId, record: input[i]!, proof })).toBe(true);
    }
    const leafOnChain = await publisher.readContract({ address, abi: attributionRegistryAbi, functionName: 'attributionLeaf', args: [batch.records[5]!] });
    expect(leafOnChain).toBe(oz.leafHash([...attributionLeafValues(batch.records[5]!)]));
    // Any changed field, a proof for another leaf, or an unknown batch: false.
    const tampered = { ...batch.records[3]!, rewardWei: batch.records[3]!.rewardWei + 1n };
    expect(await verifyAttributionOnChain(publisher, { address, batchId: batch.batchId, record: tampered, proof: batch.getProof(3) })).toBe(false);
    expect(await verifyAttributionOnChain(publisher, { address, batchId: batch.batchId, record: batch.records[3]!, proof: batch.getProof(4) })).toBe(false);
    expect(await verifyAttributionOnChain(publisher, { address, batchId: randomHashes(14, 1)[0]!, record: batch.records[3]!, proof: batch.getProof(3) })).toBe(false);
    // Verifying one record stays far under 100k gas.
    const data = encodeFunctionData({ abi: attributionRegistryAbi, functionName: 'verifyAttribution', args: [batch.batchId, batch.records[0]!, batch.getProof(0)] });
    const gas = await publisher.estimateGas({ to: address, data });
    expect(gas).toBeLessThan(100_000n);
  });

  it('detects a batch id already on chain, and the chain itself rejects a forced duplicate', async () => {
    const batch = buildAttributionBatch(records(200, 5, model));
    expect((await publishAttributionBatch(publisher, { address, batch })).status).toBe('published');
    const nonce = await publisher.getTransactionCount({ address: publisher.account.address });
    expect((await publishAttributionBatch(publisher, { address, batch })).status).toBe('exists');
    expect(await publisher.getTransactionCount({ address: publisher.account.address })).toBe(nonce);
    const forced = await rejection(
      writeRegistry(publisher, {
        address,
        action: 'forced',
        functionName: 'publishAttributionBatch',
        args: [batch.batchId, batch.root, 5n, model],
        simulate: false,
        gas: 300_000n,
      }),
    );
    expect(forced.code).toBe('CHAIN_REVERTED');
    expect(forced.data).toMatchObject({ errorName: 'BatchExists', status: 'reverted-on-chain' });
    const receipt = await publisher.getTransactionReceipt({ hash: forced.data.txHash as Hex });
    expect(receipt.status).toBe('reverted');
    const logs = await getRegistryEvents(publisher, { address, eventName: 'AttributionBatchPublished', args: { batchId: batch.batchId } });
    expect(logs).toHaveLength(1);
    expect(logs[0]!.args.root).toBe(batch.root);
  });

  it('rejects an unauthorized sender on chain, and only the owner manages publishers', async () => {
    const batch = buildAttributionBatch(records(300, 3, model));
    const simulated = await rejection(publishAttributionBatch(stranger, { address, batch }));
    expect(simulated.code).toBe('CHAIN_UNAUTHORIZED');
    expect(simulated.data.errorName).toBe('NotPublisher');
    expect(simulated.data.args).toEqual([stranger.account.address]);
    // Skip the simulation: the transaction is mined and reverts; the reason is recovered from the chain.
    const onChain = await rejection(publishAttributionBatch(stranger, { address, batch, simulate: false, gas: 300_000n }));
    expect(onChain.code).toBe('CHAIN_UNAUTHORIZED');
    expect(onChain.data.status).toBe('reverted-on-chain');
    expect((await stranger.getTransactionReceipt({ hash: onChain.data.txHash as Hex })).status).toBe('reverted');
    await expect(getRecord(stranger, { address, kind: 'attributionBatch', batchId: batch.batchId })).rejects.toMatchObject({ code: 'CHAIN_RECORD_NOT_FOUND' });

    const notOwner = await rejection(setPublisher(publisher, { address, publisher: later.account.address, allowed: true }));
    expect(notOwner.code).toBe('CHAIN_UNAUTHORIZED');
    expect(notOwner.data.errorName).toBe('NotOwner');
    await setPublisher(owner, { address, publisher: later.account.address, allowed: true });
    expect((await publishAttributionBatch(later, { address, batch })).status).toBe('published');
    await setPublisher(owner, { address, publisher: later.account.address, allowed: false });
    const revoked = await rejection(publishAttributionBatch(later, { address, batch: buildAttributionBatch(records(301, 2, model)) }));
    expect(revoked.code).toBe('CHAIN_UNAUTHORIZED');
  });

  it('watches events as they are published, and emits per-event logs decodable by the ABI', async () => {
    const batch = buildAttributionBatch(records(400, 4, model));
    // From the current block on, so the log is delivered however late the watcher's first poll is.
    const fromBlock = await publisher.getBlockNumber();
    const seen = new Promise<Hex>((resolve, reject) => {
      const stop = watchRegistryEvents(publisher, {
        address,
        eventName: 'AttributionBatchPublished',
        fromBlock,
        pollingInterval: 50,
        onLogs: (logs) => {
          const match = logs.find((l) => l.args.batchId === batch.batchId);
          if (match) {
            stop();
            resolve(match.args.root);
          }
        },
        onError: reject,
      });
    });
    await publishAttributionBatch(publisher, { address, batch });
    expect(await seen).toBe(batch.root);

    const input = records(500, 3, model);
    const sent = await recordAttributions(publisher, { address, records: input });
    const logs = await getRegistryEvents(publisher, { address, eventName: 'AttributionRecorded', fromBlock: sent.receipt.blockNumber, toBlock: sent.receipt.blockNumber });
    expect(logs.map((l) => l.args.queryHash)).toEqual(input.map((r) => r.queryHash));
    expect(logs.map((l) => l.args.score)).toEqual(input.map((r) => normalizeAttributionRecord(r).score));
    expect(logs.map((l) => l.args.contributor?.toLowerCase())).toEqual(input.map((r) => r.contributor));
  });
});

describe('nonces', () => {
  it('parallel publishes from one account each get their own nonce', async () => {
    const [ownerAccount, publisherAccount] = [testAccount(ACCOUNTS.registry[0]), testAccount(ACCOUNTS.registry[3])];
    const admin = testClient(ownerAccount);
    const sender = testClient(publisherAccount);
    const { address } = await deployRegistry(admin, { publishers: [publisherAccount.address] });
    const [b, a, s, c] = randomHashes(900, 4) as [Hex, Hex, Hex, Hex];
    const model = (await publishModel(sender, { address, baseHash: b, adapterHash: a, snapshotRoot: s, configHash: c })).record.modelId;
    const nonce = await sender.getTransactionCount({ address: publisherAccount.address });
    const batches = [0, 1, 2, 3].map((i) => buildAttributionBatch(records(1000 + 10 * i, 2, model)));
    // All four read the same pending nonce; all but one find it taken at broadcast and re-sign (10 signatures for 4
    // transactions in a typical run).
    const results = await Promise.all(batches.map((batch) => publishAttributionBatch(sender, { address, batch })));
    expect(results.map((r) => r.status)).toEqual(['published', 'published', 'published', 'published']);
    expect(await sender.getTransactionCount({ address: publisherAccount.address })).toBe(nonce + 4);
    for (const batch of batches) expect((await getRecord(sender, { address, kind: 'attributionBatch', batchId: batch.batchId })).root).toBe(batch.root);
  });
});

describe('JSON-RPC accounts (the node signs)', () => {
  it('publish directly and through the queue, with the transaction hash recorded', async () => {
    const admin = testClient(testAccount(ACCOUNTS.registry[0]));
    const nodeSigner = testAccount(ACCOUNTS.jsonRpc[0]).address;
    const client = createWalletClient({ account: nodeSigner, chain: foundry, transport: http(anvilUrl()) }).extend(publicActions);
    const { address } = await deployRegistry(admin, { publishers: [nodeSigner] });
    const [b, a, s, c] = randomHashes(950, 4) as [Hex, Hex, Hex, Hex];
    const published = await publishModel(client, { address, baseHash: b, adapterHash: a, snapshotRoot: s, configHash: c });
    expect(published.status).toBe('published');
    expect((await client.getTransaction({ hash: published.txHash! })).from.toLowerCase()).toBe(nodeSigner.toLowerCase());
    const dir = mkdtempSync(join(tmpdir(), 'provenant-rpc-queue-'));
    try {
      const queue = openPublisherQueue(join(dir, 'queue.json'), address);
      const batch = buildAttributionBatch(records(960, 3, published.record.modelId));
      queue.enqueue({ kind: 'attributionBatch', batchId: batch.batchId, root: batch.root, recordCount: '3', modelRef: batch.modelRef });
      expect(await queue.process(client)).toMatchObject({ confirmed: 1, failed: 0, alreadyOnChain: 0 });
      const item = queue.items()[0]!;
      const logs = await getRegistryEvents(client, { address, eventName: 'AttributionBatchPublished', args: { batchId: batch.batchId } });
      expect(logs.map((l) => l.transactionHash)).toEqual([item.txHash]);
      expect(item.rawTx).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
