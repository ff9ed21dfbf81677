import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { createDatanet, rowId, shuffleContributions, verifyDatanetRow, type Datanet, type Row } from './helpers.js';

const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const row = fc.record({ input: fc.constantFrom(...texts), label: fc.constantFrom('ham', 'spam') });
const rowSet = fc.uniqueArray(row, { minLength: 1, maxLength: 12, selector: (r) => `${r.input}|${r.label}` });

const build = (rows: readonly Row[], contributor = 'a'): Datanet => {
  const datanet = createDatanet({ name: 't', schema: { input: 'text', labels: ['ham', 'spam'] } });
  datanet.addContribution({ contributor, licence: 'CC0-1.0', source: 's', timestamp: 0, rows });
  return datanet;
};

describe('snapshot', () => {
  it('has the same root as OpenZeppelin StandardMerkleTree over the row ids, and its proofs', () => {
    fc.assert(
      fc.property(rowSet, (rows) => {
        const snapshot = build(rows).snapshot();
        const ids = rows.map((r) => rowId(r));
        const reference = StandardMerkleTree.of(ids.map((id) => [id]), ['bytes32']);
        expect(snapshot.root).toBe(reference.root);
        for (const id of ids) {
          expect(StandardMerkleTree.verify(reference.root, ['bytes32'], [id], snapshot.getProof(id))).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('root changes iff the set of rows changes (order, owners and metadata do not matter)', () => {
    fc.assert(
      fc.property(rowSet, rowSet, fc.integer({ min: 0, max: 1000 }), (a, b, seed) => {
        const key = (rows: readonly Row[]) => new Set(rows.map((r) => `${String(r.input)}|${String(r.label)}`));
        const sameSet = key(a).size === key(b).size && [...key(a)].every((k) => key(b).has(k));
        const rootA = build(a).snapshot().root;
        const rootB = build(b, 'b').snapshot().root;
        expect(rootA === rootB).toBe(sameSet);
        // A shuffled copy of `a`, split between two contributors and with metadata, has the same root.
        const shuffled = shuffleContributions(a, seed).map((r, i) => ({ ...r, metadata: { i } }));
        const other = createDatanet({ name: 'u', schema: { input: 'text', labels: ['ham', 'spam'] } });
        other.addContribution({ contributor: 'x', licence: 'L', source: 's', rows: shuffled.slice(0, 3) });
        other.addContribution({ contributor: 'y', licence: 'L', source: 's', rows: shuffled.slice(3) });
        expect(other.snapshot().root).toBe(rootA);
        expect(other.snapshot().rows.map((r) => r.id)).toEqual(build(a).snapshot().rows.map((r) => r.id));
      }),
      { numRuns: 80 },
    );
  });

  it('a proof verifies iff the row is in the snapshot', () => {
    fc.assert(
      fc.property(rowSet, row, (rows, probe) => {
        const snapshot = build(rows).snapshot();
        const inSnapshot = rows.some((r) => r.input === probe.input && r.label === probe.label);
        // Try every proof the snapshot can give: only a member's own proof may verify it.
        const verifies = snapshot.rows.some((r) => snapshot.verifyRow(probe, snapshot.getProof(r.id)));
        expect(verifies).toBe(inSnapshot);
        if (inSnapshot) {
          const proof = snapshot.getProof(rowId(probe));
          expect(verifyDatanetRow(snapshot.root, probe, proof)).toBe(true);
          expect(verifyDatanetRow(snapshot.root, rowId(probe), proof)).toBe(true);
          if (proof.length > 0) {
            const tampered = [...proof];
            tampered[0] = `0x${'ab'.repeat(32)}`;
            expect(snapshot.verifyRow(probe, tampered)).toBe(false);
          }
        } else {
          expect(() => snapshot.getProof(rowId(probe))).toThrow(expect.objectContaining({ code: 'DATANET_ROW_NOT_FOUND' }));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('versions increase with each change and a snapshot never changes after the fact', () => {
    const datanet = build([{ input: 'a', label: 'ham' }]);
    const first = datanet.snapshot();
    expect(first.version).toBe(1);
    expect(datanet.snapshot()).toBe(first);
    datanet.addContribution({ contributor: 'b', licence: 'L', source: 's', rows: [{ input: 'b', label: 'spam' }, { input: '', label: 'ham' }] });
    const second = datanet.snapshot();
    expect(second.version).toBe(2);
    expect(first.size).toBe(1);
    expect(first.contributors.map((c) => c.contributor)).toEqual(['a']);
    expect(second.root).not.toBe(first.root);
    // A contribution of only rejected rows changes the log (version) but not the row set (root).
    datanet.addContribution({ contributor: 'c', licence: 'L', source: 's', rows: [{ input: ' ', label: 'ham' }] });
    const third = datanet.snapshot();
    expect([third.version, third.root]).toEqual([3, second.root]);
    expect(Object.isFrozen(third.rows)).toBe(true);
    expect(Object.isFrozen(third.rows[0])).toBe(true);
  });

  it('the contributor table matches a brute-force count', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.array(fc.oneof(row, fc.constant({ input: '', label: 'ham' })), { maxLength: 8 })), { minLength: 1, maxLength: 6 }), (contributions) => {
        const datanet = createDatanet({ name: 't', schema: { input: 'text', labels: ['ham', 'spam'] } });
        for (const [contributor, rows] of contributions) datanet.addContribution({ contributor, licence: 'L', source: 's', rows });
        const snapshot = datanet.snapshot();
        // Brute force: walk the submissions in order.
        const owner = new Map<string, string>();
        const expected = new Map<string, { rows: number; bytes: number; ham: number; spam: number; duplicates: number; rejections: number }>();
        for (const [contributor, rows] of contributions) {
          const e = expected.get(contributor) ?? { rows: 0, bytes: 0, ham: 0, spam: 0, duplicates: 0, rejections: 0 };
          expected.set(contributor, e);
          for (const r of rows) {
            if (r.input === '') e.rejections += 1;
            else if (owner.has(`${r.input}|${r.label}`)) e.duplicates += 1;
            else {
              owner.set(`${r.input}|${r.label}`, contributor);
              e.rows += 1;
              e.bytes += Buffer.byteLength(JSON.stringify({ input: r.input, label: r.label }));
              e[r.label as 'ham' | 'spam'] += 1;
            }
          }
        }
        expect(snapshot.contributors.map((c) => c.contributor)).toEqual([...expected.keys()]);
        for (const c of snapshot.contributors) {
          const e = expected.get(c.contributor)!;
          expect([c.rows, c.bytes, c.labels.ham ?? 0, c.labels.spam ?? 0, c.duplicates, c.rejections]).toEqual([e.rows, e.bytes, e.ham, e.spam, e.duplicates, e.rejections]);
          expect(snapshot.rowsOf(c.contributor).map((r) => `${String(r.input)}|${String(r.label)}`).sort()).toEqual(
            [...owner.entries()].filter(([, o]) => o === c.contributor).map(([k]) => k).sort(),
          );
        }
        const summary = snapshot.summary();
        expect(summary.rows).toBe(owner.size);
        expect(summary.submitted).toBe(contributions.reduce((a, [, rows]) => a + rows.length, 0));
        expect(summary.duplicatesRemoved + summary.rejections + summary.rows).toBe(summary.submitted);
        expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
      }),
      { numRuns: 60 },
    );
  });

  it('labelIndices and classes index the schema labels', () => {
    const snapshot = build([{ input: 'a', label: 'spam' }, { input: 'b', label: 'ham' }]).snapshot();
    expect(snapshot.classes).toEqual(['ham', 'spam']);
    const indices = snapshot.labelIndices();
    snapshot.rows.forEach((r, i) => expect(snapshot.classes[indices[i]!]).toBe(r.label));
  });

  it('an empty Datanet has the zero root and no proofs', () => {
    const snapshot = createDatanet({ name: 'e', schema: { input: 'text' } }).snapshot();
    expect(snapshot.root).toBe(`0x${'0'.repeat(64)}`);
    expect(snapshot.size).toBe(0);
    let caught: unknown;
    try {
      snapshot.getProof(0);
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught, 'DATANET_ROW_NOT_FOUND')).toBe(true);
    expect(snapshot.verifyRow({ input: 'x' }, [])).toBe(false);
  });

  it('a row JSON cannot carry verifies against nothing, without throwing', () => {
    const snapshot = createDatanet({ name: 'v', schema: { input: 'vector' } });
    snapshot.addContribution({ contributor: 'a', licence: 'L', source: 's', rows: [{ input: [1] }] });
    const s = snapshot.snapshot();
    expect(s.verifyRow({ input: [Number.NaN] }, s.getProof(0))).toBe(false);
    expect(s.verifyRow({ input: [1] }, s.getProof(0))).toBe(true);
    expect(s.verifyRow(s.rows[0]!.id.toUpperCase().replace('0X', '0x') as never, s.getProof(0))).toBe(true);
  });
});

describe('deduplication', () => {
  it('the set of rows kept does not depend on the order of contributions or rows; the first submitter keeps each', () => {
    const sub = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.array(row, { maxLength: 6 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(sub, fc.integer({ min: 0, max: 10_000 }), (contributions, seed) => {
        const run = (list: readonly (readonly [string, readonly Row[]])[]) => {
          const datanet = createDatanet({ name: 't', schema: { input: 'text', labels: ['ham', 'spam'] } });
          for (const [contributor, rows] of list) datanet.addContribution({ contributor, licence: 'L', source: 's', rows });
          return datanet.snapshot();
        };
        const reordered = shuffleContributions(contributions, seed).map(([c, rows], i) => [c, shuffleContributions(rows, seed + i)] as [string, Row[]]);
        const a = run(contributions);
        const b = run(reordered);
        expect(b.rows.map((r) => r.id)).toEqual(a.rows.map((r) => r.id));
        expect(b.root).toBe(a.root);
        // Owner of each row = first contributor (in submission order) who submitted its content.
        const firstOwner = new Map<string, string>();
        for (const [contributor, rows] of reordered) for (const r of rows) if (!firstOwner.has(rowId(r))) firstOwner.set(rowId(r), contributor);
        for (const r of b.rows) expect(r.contributor).toBe(firstOwner.get(r.id));
      }),
      { numRuns: 100 },
    );
  });

  it('a label-flipped copy is a new row, a verbatim copy is a duplicate naming the keeper', () => {
    const datanet = build([{ input: 'Cheap meds', label: 'spam' }], 'honest');
    const report = datanet.addContribution({
      contributor: 'copycat',
      licence: 'L',
      source: 's',
      rows: [{ input: 'Cheap meds', label: 'spam', metadata: { different: true } }, { input: 'Cheap meds', label: 'ham' }],
    });
    expect(report.duplicates).toEqual([{ index: 0, rowHash: rowId({ input: 'Cheap meds', label: 'spam' }), keptBy: 'honest' }]);
    expect(report.acceptedIndices).toEqual([1]);
  });
});
