/**
 * Issue 13 kind 5: every proof-verification entry point answers `false` or a typed ProvenantError for any input shape —
 * never a TypeError. The case from ../shared/cases/README.md, then fast-check over arbitrary values and over mutations
 * of valid proofs (which must still verify iff untouched).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProvenantError, merkleTree, processMerkleMultiProof, processMerkleProof, standardLeafHash, verifyMerkleProof, type Hex } from '../../src/core/index.js';
import { createDatanet, verifyDatanetRow } from '../../src/datanet/index.js';

const values = Array.from({ length: 9 }, (_, i) => [`0x${(i + 1).toString(16).padStart(40, '0')}`, BigInt(i * 1000)] as [string, bigint]);
const types = ['address', 'uint256'];
const tree = merkleTree(values, types);

/** Calls f; the outcome must be a boolean or a ProvenantError (any code). */
function typedOutcome(f: () => unknown): 'true' | 'false' | 'typed' {
  try {
    const r = f();
    expect(typeof r === 'boolean' || typeof r === 'string').toBe(true);
    return r === true ? 'true' : 'false';
  } catch (error) {
    if (!(error instanceof ProvenantError)) throw new Error(`untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    return 'typed';
  }
}

const anything = fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true, maxDepth: 2 });
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex);
const proofLike = fc.oneof(anything, fc.array(fc.oneof(hex32, anything), { maxLength: 6 }), fc.array(hex32, { maxLength: 6 }));
const flagsLike = fc.oneof(anything, fc.array(fc.boolean(), { maxLength: 8 }), fc.array(fc.oneof(fc.boolean(), anything), { maxLength: 8 }));

describe('multiproof verification never crashes', () => {
  it('cases README: leaves [], proof [leafHash, root], flags [false] is false, not a TypeError', () => {
    const leafHash = standardLeafHash(types, values[0]!);
    expect(tree.verifyMultiProof({ leaves: [], proof: [leafHash, tree.root], proofFlags: [false] })).toBe(false);
    expect(() => processMerkleMultiProof([], [leafHash, tree.root], [false])).toThrow(expect.objectContaining({ code: 'MERKLE_PROOF_INVALID' }));
  });

  it('fuzz: arbitrary multiproof shapes → false or typed', () => {
    fc.assert(
      fc.property(fc.oneof(anything, fc.record({ leaves: fc.oneof(anything, fc.array(anything, { maxLength: 3 }), fc.subarray(values)), proof: proofLike, proofFlags: flagsLike })), (mp) => {
        expect(typedOutcome(() => tree.verifyMultiProof(mp as never))).not.toBe('true');
        const m = (mp ?? {}) as { leaves?: unknown; proof?: unknown; proofFlags?: unknown };
        typedOutcome(() => processMerkleMultiProof(m.leaves as never, m.proof as never, m.proofFlags as never));
      }),
      { seed: 5, numRuns: 2000 },
    );
  });

  it('fuzz: mutations of valid multiproofs verify iff untouched', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: values.length - 1 }), { maxLength: values.length }), fc.nat(), fc.nat({ max: 4 }), (indices, at, kind) => {
        const mp = tree.getMultiProof(indices);
        expect(tree.verifyMultiProof(mp)).toBe(true);
        const proof = [...mp.proof];
        const flags = [...mp.proofFlags];
        const leaves = [...mp.leaves];
        if (kind === 0 && flags.length) flags[at % flags.length] = !flags[at % flags.length];
        else if (kind === 1 && proof.length) proof.splice(at % proof.length, 1);
        else if (kind === 2) proof.push(tree.root);
        else if (kind === 3 && leaves.length) leaves.splice(at % leaves.length, 1);
        else if (kind === 4) flags.push(false);
        else return;
        expect(typedOutcome(() => tree.verifyMultiProof({ leaves, proof, proofFlags: flags }))).not.toBe('true');
      }),
      { seed: 6, numRuns: 500 },
    );
  });
});

describe('single proofs and row proofs never crash', () => {
  it('fuzz: tree.verify, processMerkleProof, verifyMerkleProof, verifyDatanetRow and snapshot.verifyRow with any input', () => {
    const datanet = createDatanet({ name: 'd', schema: { input: 'text', labels: ['a', 'b'] } });
    datanet.addContribution({ contributor: 'x', licence: 'CC0-1.0', source: 's', timestamp: 0, rows: [{ input: 'one', label: 'a' }, { input: 'two', label: 'b' }] });
    const snapshot = datanet.snapshot();
    const row = snapshot.rows[0]!;
    expect(snapshot.verifyRow(row.id, snapshot.getProof(row.id))).toBe(true);
    fc.assert(
      fc.property(fc.oneof(anything, fc.nat({ max: 12 }), fc.constantFrom(...values)), proofLike, fc.oneof(anything, hex32, fc.constant(tree.root)), anything, (index, proof, root, rowish) => {
        typedOutcome(() => tree.verify(index as never, proof as never));
        typedOutcome(() => processMerkleProof(root as never, proof as never));
        expect(typedOutcome(() => verifyMerkleProof(root as never, types, values[0]!, proof as never))).not.toBe('true');
        typedOutcome(() => verifyMerkleProof(tree.root, types, rowish as never, proof as never));
        expect(typedOutcome(() => verifyDatanetRow(root as never, rowish as never, proof as never))).not.toBe('true');
        typedOutcome(() => snapshot.verifyRow(rowish as never, proof as never));
      }),
      { seed: 7, numRuns: 1500 },
    );
  });
});
