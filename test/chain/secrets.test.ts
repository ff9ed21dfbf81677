/**
 * Kind 8 of issue 13: no error message, detail, meta message, cause, record or log line ever contains key material.
 * A known private key is passed where an address or account belongs at every chain entry point; its hex (with or
 * without 0x, any case) must appear nowhere in what the error carries — including the cause chain a logger prints.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeValue, isProvenantError, keccak256, ProvenantError } from '../../src/core/index.js';
import {
  buildAttributionBatch,
  deployRegistry,
  getRecord,
  getRegistryEvents,
  normalizeAttributionRecord,
  openPublisherQueue,
  publishAttributionBatch,
  publishAuditRecord,
  publishEvaluation,
  publishModel,
  publishSnapshot,
  readRecord,
  recordAttributions,
  resolveAccount,
  sendReliably,
  setPublisher,
  startLocalNode,
  toChainError,
  verifyAttributionOnChain,
  watchRegistryEvents,
  writeRegistry,
} from '../../src/chain/index.js';
import { ACCOUNTS, randomHashes, testAccount, testClient } from './helpers.js';

/** A real secp256k1 key (derived from a fixed phrase), never funded: the secret that must not leak. */
const KEY = keccak256('provenant secrets test key') as Hex;
const BARE = KEY.slice(2);
const VARIANTS: [string, string][] = [
  ['0x-prefixed', KEY],
  ['bare hex', BARE],
  ['upper case', `0x${BARE.toUpperCase()}`],
];

/** Every place an error's content can surface: message, fields, JSON, stack, and util.inspect (walks the causes). */
function surfaces(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 20 })];
  let current: unknown = error;
  for (let depth = 0; current && depth < 20; depth++) {
    const e = current as Partial<ProvenantError> & { stack?: string; message?: string };
    parts.push(String(e.message), String(e.stack), String(e.shortMessage), String(e.details), (e.metaMessages ?? []).join('\n'));
    try {
      parts.push(JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    } catch {
      parts.push(String(e));
    }
    if (e instanceof ProvenantError) parts.push(inspect(e.data, { depth: 20 }));
    current = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectNoKey(error: unknown): void {
  expect(isProvenantError(error), `not a ProvenantError: ${String(error)}`).toBe(true);
  expect(surfaces(error).toLowerCase()).not.toContain(BARE.toLowerCase());
}

describe('no key material in errors (issue 13, kind 8)', () => {
  const client = testClient(testAccount(ACCOUNTS.secrets[0]));
  const dir = mkdtempSync(join(tmpdir(), 'provenant-secrets-'));
  let address: Address;
  let model: Hex;
  beforeAll(async () => {
    address = (await deployRegistry(client)).address;
    const [baseHash, adapterHash, snapshotRoot, configHash] = randomHashes(808, 4) as [Hex, Hex, Hex, Hex];
    model = (await publishModel(client, { address, baseHash, adapterHash, snapshotRoot, configHash })).record.modelId;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const h = randomHashes(909, 4) as [Hex, Hex, Hex, Hex];

  for (const [label, secret] of VARIANTS) {
    const s = secret as Address;
    const entryPoints: [string, () => unknown][] = [
      ['getRecord address', () => getRecord(client, { address: s, kind: 'model', modelId: h[0] })],
      ['readRecord address', () => readRecord(client, { address: s, kind: 'attributionBatch', batchId: h[0] })],
      ['publishSnapshot address', () => publishSnapshot(client, { address: s, datanetId: h[0], version: 1, root: h[1], rowCount: 1 })],
      ['publishModel address', () => publishModel(client, { address: s, baseHash: h[0], adapterHash: h[1], snapshotRoot: h[2], configHash: h[3] })],
      ['publishModel account', () => publishModel(client, { address, account: s, baseHash: h[0], adapterHash: h[1], snapshotRoot: h[2], configHash: h[3] })],
      ['publishEvaluation account', () => publishEvaluation(client, { address, account: s, modelId: model, summaryHash: h[1] })],
      ['publishAttributionBatch address', () => publishAttributionBatch(client, { address: s, batch: { batchId: h[0], root: h[1], recordCount: 1, modelRef: model } })],
      ['publishAttributionBatch account', () => publishAttributionBatch(client, { address, account: s, batch: { batchId: h[0], root: h[1], recordCount: 1, modelRef: model } })],
      ['setPublisher publisher', () => setPublisher(client, { address, publisher: s, allowed: true })],
      ['setPublisher address', () => setPublisher(client, { address: s, publisher: client.account.address, allowed: true })],
      ['deployRegistry publishers', () => deployRegistry(client, { publishers: [s] })],
      ['deployRegistry account', () => deployRegistry(client, { account: s })],
      ['deployRegistry account object', () => deployRegistry(client, { account: { address: s, type: 'json-rpc' } })],
      ['verifyAttributionOnChain address', () => verifyAttributionOnChain(client, { address: s, batchId: h[0], record: { queryHash: h[1], contributor: client.account.address, score: 0.5, rewardWei: 1n, modelRef: model }, proof: [] })],
      ['getRegistryEvents address', () => getRegistryEvents(client, { address: s })],
      ['watchRegistryEvents address', () => watchRegistryEvents(client, { address: s, onLogs: () => {} })],
      ['recordAttributions address', () => recordAttributions(client, { address: s, records: [{ queryHash: h[1], contributor: client.account.address, score: 0.5, rewardWei: 1n, modelRef: model }] })],
      ['recordAttributions contributor', () => recordAttributions(client, { address, records: [{ queryHash: h[1], contributor: s, score: 0.5, rewardWei: 1n, modelRef: model }] })],
      ['normalizeAttributionRecord contributor', () => normalizeAttributionRecord({ queryHash: h[1], contributor: s, score: 0.5, rewardWei: 1n, modelRef: model })],
      ['buildAttributionBatch contributor', () => buildAttributionBatch([{ queryHash: h[1], contributor: s, score: 0.5, rewardWei: 1n, modelRef: model }])],
      ['writeRegistry address', () => writeRegistry(client, { address: s, action: 'test', functionName: 'setPublisher', args: [client.account.address, true] })],
      ['writeRegistry account', () => writeRegistry(client, { address, account: s, action: 'test', functionName: 'setPublisher', args: [client.account.address, true] })],
      ['sendReliably to', () => sendReliably(client, { to: s, data: '0x', action: 'test' })],
      ['sendReliably account', () => sendReliably(client, { to: address, account: s, data: '0x', action: 'test' })],
      ['resolveAccount', () => resolveAccount(client, s, 'test')],
      ['openPublisherQueue registry', () => openPublisherQueue(join(dir, `q-${label}.json`), s)],
      ['queue.process account', () => {
        const queue = openPublisherQueue(join(dir, `p-${label}.json`), address);
        queue.enqueue({ kind: 'attributionBatch', batchId: h[2], root: h[1], recordCount: '1', modelRef: model });
        return queue.process(client, { account: s });
      }],
      ['publishAuditRecord registry', () => publishAuditRecord({ publicClient: client, walletClient: client, registry: s }, { attribution: { contributorTotals: [] } } as never)],
      ['publishAuditRecord contributorAddresses', () => publishAuditRecord({ publicClient: client, walletClient: client, registry: address }, auditStub(), { contributorAddresses: { alice: s } })],
      ['toChainError context.address', () => {
        throw toChainError(new Error('boom'), { action: 'test', address: s });
      }],
    ];
    for (const [name, run] of entryPoints) {
      it(`${name} (${label})`, async () => expectNoKey(await caught(run)));
    }
  }

  it('queue files and events never carry the key either', async () => {
    const path = join(dir, 'events.json');
    const queue = openPublisherQueue(path, address);
    queue.enqueue({ kind: 'attributionBatch', batchId: h[3], root: h[1], recordCount: '1', modelRef: model });
    const lines: string[] = [];
    const error = await caught(() => queue.process(client, { account: KEY as Address, onEvent: (e) => void lines.push(JSON.stringify(e)) }));
    expectNoKey(error);
    expect(`${readFileSync(path, 'utf8')}\n${lines.join('\n')}`.toLowerCase()).not.toContain(BARE.toLowerCase());
  });

  it("startLocalNode's failure report never repeats the banner's keys or mnemonic", async () => {
    // A stand-in binary that prints an anvil-like banner (one key where two are expected), then listens nowhere.
    const fake = join(dir, 'fake-anvil.sh');
    writeFileSync(fake, `#!/bin/sh\nprintf 'Private Keys\\n==================\\n\\n(0) ${KEY}\\n\\nWallet\\n==================\\nMnemonic:          correct horse battery staple\\n\\nListening on 127.0.0.1:1\\n'\nsleep 5\n`);
    chmodSync(fake, 0o755);
    const error = await caught(() => startLocalNode({ binary: fake, accounts: 2, startTimeoutMs: 3_000 }));
    expect(isProvenantError(error, 'CHAIN_NODE_FAILED')).toBe(true);
    expect((error as ProvenantError).message).toContain('expected 2 private keys');
    expectNoKey(error);
    expect(surfaces(error)).not.toContain('correct horse');
  });

  it('describeValue redacts keys, secret-named fields and accounts, before truncating', () => {
    const account = privateKeyToAccount(KEY);
    for (const value of [KEY, BARE, { privateKey: 'hunter2' }, { nested: { key: KEY } }, account, [account], `prefix ${KEY} suffix`]) {
      const text = describeValue(value, 40);
      expect(text.toLowerCase()).not.toContain(BARE.slice(0, 16).toLowerCase());
      expect(text).not.toContain('hunter2');
    }
    expect(describeValue(KEY)).toBe('"<redacted: 64 hex digits>"');
    expect(describeValue(account)).toBe('"<account>"');
    // Addresses and short values are still shown: they are what the user needs to see.
    expect(describeValue(client.account.address)).toBe(JSON.stringify(client.account.address));
  });
});

/** The parts of an audit record publishAuditRecord reads before validating contributor addresses. */
function auditStub(): never {
  const [a, b, c] = randomHashes(4242, 3) as [Hex, Hex, Hex];
  return {
    datanet: { name: 'd', root: a },
    baseModel: { hash: b },
    fineTuning: { adapterHash: c, parameters: {} },
    evaluation: {},
    attribution: { contributorTotals: [{ contributor: 'alice', score: 1 }], scoreDigest: a },
    rewards: { split: [] },
  } as never;
}
