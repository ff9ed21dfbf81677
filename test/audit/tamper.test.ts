/**
 * Tamper evidence: every leaf of a real, published record is edited in turn (a generated list over all leaf paths), and
 * `verifyAuditRecord` must catch each edit. Then the edits an interested party would make *and* re-seal (recomputing every
 * digest) must still be named by field: rewards moved, rewards summing to 10× the fee, a gate flipped, a proof that does
 * not verify claimed as verified.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachChainSection,
  keccak256,
  merkleTree,
  sealAuditRecord,
  verifyAuditRecord,
  type AuditChainPublished,
  type AuditRecord,
} from '../../src/index.js';
import { realAuditRecord } from '../fixtures/audit/real-record.js';

type Path = (string | number)[];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function leafPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
  return [path];
}
const getAt = (root: unknown, path: Path): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path.at(-1)!] = value;
}
/** A different value of the same kind (a hex string stays hex of the same length). */
function edited(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value + 1 : value * 1.5 + 0.125;
  if (typeof value === 'boolean') return !value;
  if (value === null) return 1;
  const s = String(value);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return s.slice(0, -1) + (s.at(-1) === '0' ? '1' : '0');
  if (/^[0-9]+$/.test(s)) return (BigInt(s) + 1n).toString();
  return `${s}x`;
}
const pathText = (path: Path) => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1);

/** The record with a published chain section built offline: a real Merkle batch over the contributor totals. */
function withChain(record: AuditRecord): AuditRecord {
  const types = ['bytes32', 'address', 'int256', 'uint256', 'bytes32'];
  const modelRef = keccak256('model');
  const reward = new Map(record.rewards.split.map((s) => [s.contributor, BigInt(s.amountWei)]));
  const leaves = record.attribution.contributorTotals.map((t) => [
    record.attribution.scoreDigest,
    `0x${keccak256(`provenant:contributor:${t.contributor}`).slice(26)}`,
    BigInt(Math.round(t.score * 1e18)),
    reward.get(t.contributor) ?? 0n,
    modelRef,
  ]);
  const tree = merkleTree(leaves, types);
  const chain: AuditChainPublished = {
    status: 'published',
    chainId: 31337,
    registry: `0x${'12'.repeat(20)}`,
    transactions: [{ kind: 'publishModel', txHash: keccak256('tx'), gasUsed: '96844' }],
    attributionBatch: {
      batchId: keccak256('batch'),
      root: tree.root,
      leafEncoding: types,
      leaf: leaves[0]!.map((v) => (typeof v === 'bigint' ? v.toString() : v)),
      proof: tree.getProof(0),
      verifiedOnChain: true,
      verifiedOffChain: true,
    },
  };
  return attachChainSection(record, chain);
}

let record: AuditRecord;

beforeAll(async () => {
  record = withChain(await realAuditRecord());
}, 120_000);

describe('verifyAuditRecord on a real record', () => {
  it('an untouched record verifies', async () => {
    expect(await verifyAuditRecord(record)).toEqual({ ok: true, failures: [] });
    expect(await verifyAuditRecord(clone(record))).toEqual({ ok: true, failures: [] });
  });

  it('catches an edit of every leaf field, and of every array element removed', async () => {
    const paths = leafPaths(record);
    expect(paths.length).toBeGreaterThan(300);
    const missed: string[] = [];
    for (const path of paths) {
      const copy = clone(record);
      setAt(copy, path, edited(getAt(copy, path)));
      if ((await verifyAuditRecord(copy)).ok) missed.push(pathText(path));
    }
    const arrays: Path[] = [];
    const walk = (v: unknown, path: Path) => {
      if (Array.isArray(v)) v.forEach((x, i) => (arrays.push([...path, i]), walk(x, [...path, i])));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(record, []);
    for (const path of arrays) {
      const copy = clone(record);
      (getAt(copy, path.slice(0, -1)) as unknown[]).splice(path.at(-1) as number, 1);
      if ((await verifyAuditRecord(copy)).ok) missed.push(`remove ${pathText(path)}`);
    }
    console.log(`tamper test: ${paths.length + arrays.length - missed.length} of ${paths.length + arrays.length} edits caught (${paths.length} leaf edits, ${arrays.length} removals)`);
    expect(missed).toEqual([]);
  });

  /** Edit, then re-seal every digest (what someone who rewrites the record would do), and name the failing fields. */
  const resealed = async (edit: (r: AuditRecord) => void) => {
    const copy = clone(record);
    edit(copy);
    copy.integrity = sealAuditRecord(copy);
    return (await verifyAuditRecord(copy)).failures.map((f) => f.field);
  };

  it('names the field of a re-sealed semantic edit', async () => {
    const split = record.rewards.split;
    const paid = split.findIndex((s) => BigInt(s.amountWei) > 1n);
    const other = split.findIndex((s, i) => i !== paid);
    // Rewards moved between contributors (the total unchanged).
    expect(
      await resealed((r) => {
        const amount = BigInt(r.rewards.split[paid]!.amountWei);
        r.rewards.split[paid]!.amountWei = (amount - 1n).toString();
        r.rewards.split[other]!.amountWei = (BigInt(r.rewards.split[other]!.amountWei) + 1n).toString();
      }),
    ).toContain('rewards.split');
    // Rewards summing to 10× the fee.
    expect(await resealed((r) => r.rewards.split.forEach((s) => (s.amountWei = (BigInt(s.amountWei) * 10n).toString())))).toContain('rewards.split');
    // A gate flipped, alone and with the overall verdict.
    expect(await resealed((r) => (r.evaluation.gate.checks[1]!.pass = !r.evaluation.gate.checks[1]!.pass))).toEqual(
      expect.arrayContaining(['evaluation.gate.checks[1].pass']),
    );
    expect(await resealed((r) => (r.evaluation.gate.pass = !r.evaluation.gate.pass))).toContain('evaluation.gate.pass');
    // A gate's number changed to make it pass.
    expect(await resealed((r) => (r.evaluation.gate.checks[1]!.observed = 0.99))).toContain('evaluation.gate.checks[1].observed');
    // A task verdict that its interval does not support.
    expect(await resealed((r) => (r.evaluation.tasks[0]!.verdict = r.evaluation.tasks[0]!.verdict === 'improved' ? 'regressed' : 'improved'))).toContain(
      'evaluation.tasks[0].verdict',
    );
    // verifiedOnChain: true on a proof that does not verify.
    expect(await resealed((r) => ((r.chain as AuditChainPublished).attributionBatch.proof[0] = keccak256('forged')))).toEqual(
      expect.arrayContaining(['chain.attributionBatch.verifiedOnChain', 'chain.attributionBatch.verifiedOffChain']),
    );
    expect(await resealed((r) => (r.datanet.proofExample.proof = [keccak256('forged')]))).toContain('datanet.proofExample.verified');
    // A flagged contributor's flag removed, and a share inflated.
    expect(await resealed((r) => (r.attribution.contributorTotals[0]!.share += 0.1))).toContain('attribution.contributorTotals[0].share');
    expect(await resealed((r) => (r.rewards.feeWei = (BigInt(r.rewards.feeWei) * 2n).toString()))).toContain('rewards.split');
  });

  it('reports a record without digests, and never throws on garbage', async () => {
    const { integrity: _, ...bare } = clone(record);
    expect((await verifyAuditRecord(bare as AuditRecord)).failures.map((f) => f.field)).toContain('integrity');
    const garbage = (await verifyAuditRecord({ schema: 'x' } as unknown as AuditRecord)).failures;
    expect(garbage.length).toBeGreaterThan(0);
  });
});
