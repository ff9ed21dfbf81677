import { beforeAll, describe, expect, it } from 'vitest';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { createPublicClient, createWalletClient, encodeAbiParameters, http, keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getTransactionCount, getTransactionReceipt } from 'viem/actions';
import { foundry } from 'viem/chains';
import { auditRecordViolations, type AuditRecord } from '../../src/audit/index.js';
import { isProvenantError } from '../../src/core/index.js';
import {
  contributorAddress,
  getRecord,
  publishAuditRecord,
  publishAuditRecordWithKey,
  startLocalNode,
  verifyAttributionOnChain,
  type PublishAuditRecordReturnType,
} from '../../src/chain/index.js';
import { sampleAuditRecord } from '../fixtures/audit/sample-record.js';
import { anvilUrl, testAccount } from './helpers.js';

// Account indices of this file (anvil funds 40; test/chain/helpers.ts ACCOUNTS uses 1-10).
const account = testAccount(30);

// Independent of core's canonicalJson: sorted keys, JSON.stringify for the (plain, finite) values of the fixture.
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('publishAuditRecord', () => {
  let url: string;
  let publicClient: ReturnType<typeof createPublicClient>;
  let walletClient: ReturnType<typeof createWalletClient>;
  let record: AuditRecord;
  let first: PublishAuditRecordReturnType;

  beforeAll(async () => {
    url = anvilUrl();
    publicClient = createPublicClient({ chain: foundry, transport: http(url) });
    walletClient = createWalletClient({ account, chain: foundry, transport: http(url) });
    record = sampleAuditRecord();
    first = await publishAuditRecord({ publicClient, walletClient }, record);
  });

  it('returns a chain section that makes the sample record schema-valid', () => {
    const published: AuditRecord = { ...record, chain: first.chain };
    expect(auditRecordViolations(JSON.parse(JSON.stringify(published)))).toEqual([]);
    expect(first.status).toBe('published');
    expect(first.chain.chainId).toBe(31337);
    expect(first.chain.transactions.map((t) => t.kind)).toEqual([
      'deployRegistry',
      'publishSnapshot',
      'publishModel',
      'publishEvaluation',
      'publishAttributionBatch',
    ]);
    expect(first.chain.attributionBatch.verifiedOnChain).toBe(true);
    expect(first.chain.attributionBatch.verifiedOffChain).toBe(true);
  });

  it('reports the hash and gas of transactions that succeeded on chain', async () => {
    for (const tx of first.chain.transactions) {
      const receipt = await getTransactionReceipt(publicClient, { hash: tx.txHash });
      expect(receipt.status).toBe('success');
      expect(tx.gasUsed).toBe(receipt.gasUsed.toString());
      expect(receipt.from.toLowerCase()).toBe(account.address.toLowerCase());
    }
    const deploy = await getTransactionReceipt(publicClient, { hash: first.chain.transactions[0]!.txHash });
    expect(deploy.contractAddress?.toLowerCase()).toBe(first.chain.registry);
  });

  it('publishes the values the record hashes to, recomputed independently', async () => {
    const address = first.chain.registry;
    const datanetId = keccak256(toHex('security'));
    const configHash = keccak256(toHex(sortedJson(record.fineTuning.parameters)));
    const summaryHash = keccak256(toHex(sortedJson(record.evaluation)));
    const modelId = keccak256(
      encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }], [record.baseModel.hash, record.fineTuning.adapterHash, record.datanet.root, configHash]),
    );
    expect([first.datanetId, first.configHash, first.summaryHash, first.modelId]).toEqual([datanetId, configHash, summaryHash, modelId]);

    const snapshot = await getRecord(publicClient, { address, kind: 'snapshot', datanetId, version: 1n });
    expect([snapshot.root, snapshot.rowCount]).toEqual([record.datanet.root, 120n]);
    const model = await getRecord(publicClient, { address, kind: 'model', modelId });
    expect(model.configHash).toBe(configHash);
    const evaluationId = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }], [modelId, summaryHash]));
    const evaluation = await getRecord(publicClient, { address, kind: 'evaluation', evaluationId });
    expect(evaluation.summaryHash).toBe(summaryHash);
    const batch = await getRecord(publicClient, { address, kind: 'attributionBatch', batchId: first.chain.attributionBatch.batchId });
    expect([batch.root, batch.recordCount, batch.modelRef]).toEqual([first.chain.attributionBatch.root, 3n, modelId]);

    // Leaf 0: easy-ham-1's total 3.2 and its 0.55 ETH reward, written out by hand.
    const placeholder = `0x${keccak256(toHex('provenant:contributor:easy-ham-1')).slice(26)}`;
    expect(contributorAddress('easy-ham-1')).toBe(placeholder);
    expect(first.chain.attributionBatch.leaf).toEqual([record.attribution.scoreDigest, placeholder, '3200000000000000000', '550000000000000000', modelId]);
  });

  it('builds the same tree as @openzeppelin/merkle-tree, and its proof verifies there', () => {
    const { leafEncoding, leaf, proof, root } = first.chain.attributionBatch;
    expect(StandardMerkleTree.verify(root, leafEncoding, leaf, proof)).toBe(true);
    const rewards: Record<string, string> = { 'easy-ham-1': '550000000000000000', 'spam-1': '450000000000000000', noisy: '0' };
    const scores: Record<string, string> = { 'easy-ham-1': '3200000000000000000', 'spam-1': '2600000000000000000', noisy: '-1100000000000000000' };
    const values = ['easy-ham-1', 'spam-1', 'noisy'].map((id) => [record.attribution.scoreDigest, contributorAddress(id), scores[id]!, rewards[id]!, first.modelId]);
    const oz = StandardMerkleTree.of(values, leafEncoding);
    expect(oz.root).toBe(root);
    expect(oz.getProof(0)).toEqual(proof);
  });

  it('verifies every leaf on chain, and rejects a changed one', async () => {
    const address = first.chain.registry;
    const { batch } = first;
    for (let i = 0; i < batch.recordCount; i++) {
      expect(await verifyAttributionOnChain(publicClient, { address, batchId: batch.batchId, record: batch.records[i]!, proof: batch.getProof(i) })).toBe(true);
    }
    const forged = { ...batch.records[2]!, rewardWei: 1n }; // the flagged contributor claiming a reward
    expect(await verifyAttributionOnChain(publicClient, { address, batchId: batch.batchId, record: forged, proof: batch.getProof(2) })).toBe(false);
  });

  it('is idempotent: the same record again sends nothing and reports exists with the same section', async () => {
    const nonce = await getTransactionCount(publicClient, { address: account.address });
    const again = await publishAuditRecord({ publicClient, walletClient, registry: first.chain.registry as Address }, record);
    expect(await getTransactionCount(publicClient, { address: account.address })).toBe(nonce);
    expect(again.status).toBe('exists');
    expect(again.steps.map((s) => s.status)).toEqual(['exists', 'exists', 'exists', 'exists', 'exists']);
    expect(again.chain).toEqual(first.chain);
  });

  it('proves the leaf it is asked for (a flagged contributor: negative score, no reward)', async () => {
    const other = await publishAuditRecord({ publicClient, walletClient, registry: first.chain.registry as Address }, record, { proofIndex: 2 });
    expect(other.status).toBe('exists');
    expect(other.chain.attributionBatch.leaf.slice(1, 4)).toEqual([contributorAddress('noisy'), '-1100000000000000000', '0']);
    expect(other.chain.attributionBatch.verifiedOnChain).toBe(true);
    expect(StandardMerkleTree.verify(other.chain.attributionBatch.root, other.chain.attributionBatch.leafEncoding, other.chain.attributionBatch.leaf, other.chain.attributionBatch.proof)).toBe(true);
  });

  it('uses given payout addresses', async () => {
    const payout = '0x00000000000000000000000000000000000000aa' as Address;
    const other = await publishAuditRecord({ publicClient, walletClient, registry: first.chain.registry as Address }, record, {
      contributorAddresses: { 'easy-ham-1': payout },
    });
    expect(other.status).toBe('published'); // a new batch (new leaves); snapshot, model and evaluation already there
    expect(other.steps.map((s) => s.status)).toEqual(['exists', 'exists', 'exists', 'exists', 'published']);
    expect(other.chain.attributionBatch.leaf[1]).toBe(payout);
    expect(other.chain.attributionBatch.verifiedOnChain).toBe(true);
  });

  it('refuses a record that reuses a Datanet version with another root (write-once)', async () => {
    const changed = sampleAuditRecord({ datanet: { ...record.datanet, root: `0x${'ac'.repeat(32)}` as Hex } });
    const error = await publishAuditRecord({ publicClient, walletClient, registry: first.chain.registry as Address }, changed).catch((e: unknown) => e);
    expect(isProvenantError(error, 'CHAIN_RECORD_CONFLICT')).toBe(true);
  });

  it('rejects an inconsistent record before sending anything', async () => {
    const nonce = await getTransactionCount(publicClient, { address: account.address });
    const bad = sampleAuditRecord({ rewards: { ...record.rewards, split: [{ contributor: 'stranger', amountWei: '1' }] } });
    await expect(publishAuditRecord({ publicClient, walletClient }, bad)).rejects.toSatisfy((e) => isProvenantError(e, 'AUDIT_RECORD_INVALID'));
    const empty = sampleAuditRecord({ attribution: { ...record.attribution, contributorTotals: [] } });
    await expect(publishAuditRecord({ publicClient, walletClient }, empty)).rejects.toSatisfy((e) => isProvenantError(e, 'AUDIT_RECORD_INVALID'));
    await expect(publishAuditRecord({ publicClient, walletClient }, record, { proofIndex: 3 })).rejects.toSatisfy((e) => isProvenantError(e, 'INVALID_ARGUMENT'));
    expect(await getTransactionCount(publicClient, { address: account.address })).toBe(nonce);
  });
});

describe('publishAuditRecordWithKey', () => {
  it('publishes to a node started by startLocalNode with its first key, and the section validates', async () => {
    const node = await startLocalNode({ accounts: 1, chainId: 777 });
    try {
      const record = sampleAuditRecord();
      record.chain = await publishAuditRecordWithKey(node, record);
      expect(auditRecordViolations(JSON.parse(JSON.stringify(record)))).toEqual([]);
      if (record.chain.status !== 'published') throw new Error('expected a published section');
      expect(record.chain.chainId).toBe(777);
      expect(record.chain.attributionBatch.verifiedOnChain).toBe(true);
      const client = createPublicClient({ transport: http(node.rpcUrl) });
      const receipt = await getTransactionReceipt(client, { hash: record.chain.transactions[1]!.txHash });
      expect(receipt.from).toBe(privateKeyToAccount(node.accounts[0]!).address.toLowerCase());
      // Republishing through the same registry sends nothing and yields the same section.
      const again = await publishAuditRecordWithKey({ ...node, registry: record.chain.registry }, record);
      expect(again).toEqual(record.chain);
    } finally {
      await node.stop();
    }
  });

  it('needs a key', async () => {
    await expect(publishAuditRecordWithKey({ rpcUrl: 'http://127.0.0.1:1' }, sampleAuditRecord())).rejects.toSatisfy((e) => isProvenantError(e, 'INVALID_ARGUMENT'));
  });
});
