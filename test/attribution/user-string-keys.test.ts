/**
 * Issue 13 kind 4: a contributor id or a label is any string. Ids such as `__proto__`, `constructor`, `toString`,
 * `hasOwnProperty` and `valueOf` go from a Datanet through the snapshot's tables, aggregation, shares, the reward split
 * and the audit record; every figure is checked against a brute-force computation over a Map.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateByContributor, contributorShares, splitReward, splitRewardDetailed } from '../../src/attribution/index.js';
import { readAuditRecord, writeAuditRecord } from '../../src/audit/index.js';
import { createDatanet } from '../../src/datanet/index.js';
import { sampleAuditRecord } from '../fixtures/audit/sample-record.js';

const TRAPS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf', 'prototype', 'length', '0', ''];

describe('user strings as keys', () => {
  it("cases README: splitRewardDetailed(1001n, { __proto__: 0.5, alice: 0.5 }) with a real '__proto__' key pays both, total 1001n", () => {
    const shares = JSON.parse('{"__proto__": 0.5, "alice": 0.5}') as Record<string, number>;
    const split = splitRewardDetailed(1001n, shares);
    expect(Object.keys(split.amounts).sort()).toEqual(['__proto__', 'alice']);
    expect(split.amounts['__proto__']! + split.amounts.alice!).toBe(1001n);
    // Ties go to the smaller key ('__proto__' < 'alice' in code-unit order).
    expect(split.amounts['__proto__']).toBe(501n);
    expect(splitReward(1001n, new Map([['__proto__', 0.5], ['alice', 0.5]]))).toEqual(split.amounts);
    expect(JSON.parse(JSON.stringify(split.amounts, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))).toEqual(JSON.parse('{"__proto__":"501","alice":"500"}'));
  });

  it('property: trap ids and labels survive Datanet → summary → aggregation → split → audit record', () => {
    const id = fc.oneof(fc.constantFrom(...TRAPS.filter((t) => t !== '')), fc.string({ minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 2 }), fc.double({ min: 0.01, max: 10, noNaN: true })), { minLength: 1, maxLength: 30 }),
        fc.bigInt({ min: 0n, max: 10n ** 21n }),
        (ids, rows, fee) => {
          const labels = ['__proto__', 'toString', 'constructor'];
          const datanet = createDatanet({ name: 'traps', schema: { input: 'text', labels } });
          const byContributor = new Map<string, { text: string; label: string; score: number }[]>();
          rows.forEach(([c, l, score], i) => {
            const contributor = ids[c % ids.length]!;
            const list = byContributor.get(contributor) ?? [];
            list.push({ text: `row ${i}`, label: labels[l]!, score });
            byContributor.set(contributor, list);
          });
          for (const [contributor, list] of byContributor) {
            datanet.addContribution({ contributor, licence: 'CC0-1.0', source: 'property test', timestamp: 0, rows: list.map((r) => ({ input: r.text, label: r.label })) });
          }
          const snapshot = datanet.snapshot();
          // Label counts: numbers, per label, equal to a brute-force count.
          const expectLabels = new Map<string, number>();
          for (const list of byContributor.values()) for (const r of list) expectLabels.set(r.label, (expectLabels.get(r.label) ?? 0) + 1);
          const summaryLabels = snapshot.summary().labels as Record<string, number>;
          expect(Object.keys(summaryLabels).sort()).toEqual([...expectLabels.keys()].sort());
          for (const [label, n] of expectLabels) expect(summaryLabels[label]).toBe(n);
          for (const c of snapshot.contributors) {
            const mine = byContributor.get(c.contributor)!;
            for (const [label, n] of Object.entries(c.labels)) expect(n).toBe(mine.filter((r) => r.label === label).length);
          }
          // Aggregation over the snapshot's rows.
          const scoreOf = new Map<string, number>();
          for (const list of byContributor.values()) for (const r of list) scoreOf.set(r.text, r.score);
          const scores = snapshot.rows.map((r) => scoreOf.get(String(r.input))!);
          const agg = aggregateByContributor(scores, snapshot.rows.map((r) => r.contributor));
          expect(Object.keys(agg.values).sort()).toEqual([...byContributor.keys()].sort());
          for (const [c, list] of byContributor) {
            expect(agg.counts[c]).toBe(list.length);
            expect(agg.values[c]).toBeCloseTo(list.reduce((a, r) => a + r.score, 0), 9);
          }
          // Shares and the split: every contributor paid a number, exact total.
          const shares = contributorShares(agg.values);
          const split = splitRewardDetailed(fee, shares);
          expect(Object.keys(split.amounts).sort()).toEqual([...byContributor.keys()].sort());
          expect(Object.values(split.amounts).reduce((a, b) => a + b, 0n)).toBe(fee);
          for (const amount of Object.values(split.amounts)) expect(typeof amount).toBe('bigint');
          // The audit record carries the same tables and survives write → read.
          const record = sampleAuditRecord();
          record.datanet.contributors = snapshot.contributors.map((c) => ({ id: c.contributor, rows: c.rows, bytes: c.bytes, labels: { ...c.labels }, duplicates: c.duplicates, rejections: c.rejections }));
          record.attribution.queries[0]!.contributorShares = Object.fromEntries(Object.entries(shares));
          record.rewards = { feeWei: String(fee), split: Object.entries(split.amounts).map(([contributor, a]) => ({ contributor, amountWei: String(a) })), flagged: [] };
          const back = readAuditRecord(writeAuditRecord(record));
          expect(back.datanet.contributors.map((c) => c.id).sort()).toEqual([...byContributor.keys()].sort());
          for (const c of back.datanet.contributors) expect(Object.keys(c.labels).sort()).toEqual([...new Set(byContributor.get(c.id)!.map((r) => r.label))].sort());
          expect(Object.keys(back.attribution.queries[0]!.contributorShares).sort()).toEqual([...byContributor.keys()].sort());
          expect(back.rewards.split.reduce((a, s) => a + BigInt(s.amountWei), 0n)).toBe(fee);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });
});
