/**
 * Contributor ids are data: `auditAttributionRecords` looks payout addresses up by own key (or in a Map), so ids such as
 * "toString", "constructor" or "__proto__" get their placeholder address instead of reading Object.prototype.
 */
import { keccak256, toHex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditAttributionRecords, contributorAddress } from '../../src/chain/index.js';
import type { AuditRecord } from '../../src/index.js';
import { realAuditRecord } from '../fixtures/audit/real-record.js';

const NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];
const modelRef = keccak256(toHex('model'));
let record: AuditRecord;

beforeAll(async () => {
  const real = await realAuditRecord();
  const rename = new Map(real.attribution.contributorTotals.map((t, i) => [t.contributor, NAMES[i % NAMES.length]! + (i >= NAMES.length ? String(i) : '')]));
  record = {
    ...real,
    attribution: { ...real.attribution, contributorTotals: real.attribution.contributorTotals.map((t) => ({ ...t, contributor: rename.get(t.contributor)! })) },
    rewards: { ...real.rewards, split: real.rewards.split.map((s) => ({ ...s, contributor: rename.get(s.contributor)! })) },
  };
}, 120_000);

describe('auditAttributionRecords with user-chosen contributor ids', () => {
  it('gives prototype-named ids their placeholder address when no address is given', () => {
    const records = auditAttributionRecords(record, modelRef, {});
    const ids = record.attribution.contributorTotals.map((t) => t.contributor);
    expect(ids.slice(0, 2)).toEqual(['toString', 'constructor']);
    records.forEach((r, i) => expect(r.contributor).toBe(contributorAddress(ids[i]!)));
  });

  it('uses a given address for a prototype-named id, from a Map or a null-prototype record', () => {
    const payout = '0x00000000000000000000000000000000000000aa' as const;
    const id = record.attribution.contributorTotals[0]!.contributor;
    const fromMap = auditAttributionRecords(record, modelRef, new Map([[id, payout]]));
    const dict = Object.assign(Object.create(null) as Record<string, `0x${string}`>, { [id]: payout });
    const fromDict = auditAttributionRecords(record, modelRef, dict);
    expect(fromMap[0]!.contributor).toBe(payout);
    expect(fromDict[0]!.contributor).toBe(payout);
    expect(fromMap[1]!.contributor).toBe(contributorAddress(record.attribution.contributorTotals[1]!.contributor));
  });
});
