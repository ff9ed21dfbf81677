/**
 * A sealed record on a real node (anvil): published with its digest anchored, verified against the on-chain copy, a
 * tampered-and-re-sealed copy caught by that copy, and a second, different record of the same model refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, http } from 'viem';
import { foundry } from 'viem/chains';
import { attachChainSection, buildAuditRecord, sealAuditRecord, verifyAuditRecord, type AuditRecord } from '../../src/audit/index.js';
import { isProvenantError } from '../../src/core/index.js';
import { auditChainReader, publishAuditRecord } from '../../src/chain/index.js';
import { realAuditRecord } from '../fixtures/audit/real-record.js';
import { anvilUrl, testAccount } from './helpers.js';

// Account index of this file (see helpers.ts ACCOUNTS; publish-audit.test.ts uses 30).
const account = testAccount(37);

describe('verifyAuditRecord with a chain client', () => {
  let publicClient: ReturnType<typeof createPublicClient>;
  let walletClient: ReturnType<typeof createWalletClient>;
  let record: AuditRecord;
  let registry: `0x${string}`;

  beforeAll(async () => {
    const url = anvilUrl();
    publicClient = createPublicClient({ chain: foundry, transport: http(url) });
    walletClient = createWalletClient({ account, chain: foundry, transport: http(url) });
    const sealed = await realAuditRecord(9);
    const published = await publishAuditRecord({ publicClient, walletClient }, sealed);
    registry = published.chain.registry;
    record = attachChainSection(sealed, published.chain);
  }, 180_000);

  it('the published record matches its on-chain copy', async () => {
    expect(await verifyAuditRecord(record, { client: auditChainReader(publicClient, registry) })).toEqual({ ok: true, failures: [] });
  });

  it('an edit re-sealed offline still differs from the on-chain copy, by field', async () => {
    const copy = JSON.parse(JSON.stringify(record)) as AuditRecord;
    copy.fineTuning.parameters[0]!.value = 99;
    copy.integrity = sealAuditRecord(copy);
    const fields = (await verifyAuditRecord(copy, { client: auditChainReader(publicClient, registry) })).failures.map((f) => f.field);
    // The parameters' hash is part of the model id, so the edited record's model is not on chain at all.
    expect(fields).toEqual(expect.arrayContaining(['fineTuning.adapterHash', 'evaluation']));
    const moved = JSON.parse(JSON.stringify(record)) as AuditRecord;
    moved.datanet.rows += 1;
    moved.integrity = sealAuditRecord(moved);
    expect((await verifyAuditRecord(moved, { client: auditChainReader(publicClient, registry) })).failures.map((f) => f.field)).toContain('datanet.rows');
  });

  it('publishing the same record again sends nothing; a second, different record of the same model is refused', async () => {
    const again = await publishAuditRecord({ publicClient, walletClient, registry }, record);
    expect(again.status).toBe('exists');
    const { schema: _s, chain: _c, integrity: _i, ...parts } = record;
    const other = buildAuditRecord({ ...parts, createdAt: '2030-01-01T00:00:00.000Z' });
    const error = await publishAuditRecord({ publicClient, walletClient, registry }, other).catch((e: unknown) => e);
    expect(isProvenantError(error, 'CHAIN_RECORD_CONFLICT')).toBe(true);
  });
});
