import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merkleTree, processMerkleProof, verifyMerkleProof, isProvenantError } from '../../src/core/index.js';

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

const leafArb = fc.tuple(address, uint256, bytes32, fc.string(), int64, fc.boolean(), fc.array(uint256, { maxLength: 3 }));
const leafTypes = ['address', 'uint256', 'bytes32', 'string', 'int64', 'bool', 'uint256[]'];

describe('merkleTree is byte-for-byte OpenZeppelin StandardMerkleTree', () => {
  it('same root, proofs and dump on random leaves of mixed static and dynamic types', () => {
    fc.assert(
      fc.property(fc.array(leafArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (values, sortLeaves) => {
        const ours = merkleTree(values, leafTypes, { sortLeaves });
        const theirs = StandardMerkleTree.of(values, leafTypes, { sortLeaves });
        expect(ours.root).toBe(theirs.root);
        expect(ours.dump().tree).toEqual(theirs.dump().tree);
        for (let i = 0; i < values.length; i++) {
          const proof = ours.getProof(i);
          expect(proof).toEqual(theirs.getProof(i));
          expect(ours.verify(i, proof)).toBe(true);
          expect(StandardMerkleTree.verify(theirs.root, leafTypes, values[i]!, proof)).toBe(true);
          expect(verifyMerkleProof(ours.root, leafTypes, values[i]!, proof)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('same multiproofs, which both libraries verify', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(address, uint256), { minLength: 1, maxLength: 30 }).chain((values) =>
          fc.tuple(fc.constant(values), fc.uniqueArray(fc.nat(values.length - 1), { maxLength: values.length })),
        ),
        ([values, indices]) => {
          const types = ['address', 'uint256'];
          const ours = merkleTree(values, types);
          const theirs = StandardMerkleTree.of(values, types);
          const mp = ours.getMultiProof(indices);
          const ozMp = theirs.getMultiProof(indices);
          expect(mp.proof).toEqual(ozMp.proof);
          expect(mp.proofFlags).toEqual(ozMp.proofFlags);
          expect(mp.leaves).toEqual(ozMp.leaves);
          expect(ours.verifyMultiProof(mp)).toBe(true);
          expect(theirs.verifyMultiProof(mp)).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a proof verifies iff the value is in the tree', () => {
    fc.assert(
      fc.property(fc.uniqueArray(uint256, { minLength: 2, maxLength: 30 }), fc.nat(), (numbers, pick) => {
        const inTree = numbers.slice(1).map((x) => [x] as const);
        const outside = [numbers[0]!] as const;
        const tree = merkleTree(inTree, ['uint256']);
        const i = pick % inTree.length;
        const proof = tree.getProof(i);
        expect(verifyMerkleProof(tree.root, ['uint256'], inTree[i]!, proof)).toBe(true);
        expect(verifyMerkleProof(tree.root, ['uint256'], outside, proof)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('a tampered proof is rejected', () => {
    const values = Array.from({ length: 9 }, (_, i) => [BigInt(i)] as const);
    const tree = merkleTree(values, ['uint256']);
    const proof = tree.getProof(3);
    const tampered = [...proof];
    tampered[1] = `0x${'00'.repeat(32)}`;
    expect(tree.verify(3, tampered)).toBe(false);
    expect(tree.verify(3, proof.slice(0, -1))).toBe(false);
    expect(tree.verify(3, ['0x1234'])).toBe(false);
    expect(processMerkleProof(tree.leafHash(values[3]!), proof)).toBe(tree.root);
  });

  it('a single leaf is its own root; lookups by value work', () => {
    const tree = merkleTree([['hello']], ['string']);
    expect(tree.getProof(0)).toEqual([]);
    expect(tree.root).toBe(tree.leafHash(['hello']));
    expect(tree.leafLookup(['hello'])).toBe(0);
    expect(StandardMerkleTree.of([['hello']], ['string']).root).toBe(tree.root);
  });

  it('typed errors for empty trees, bad indices, bad values, duplicate multiproof indices', () => {
    const expectCode = (fn: () => unknown, code: string) => {
      try {
        fn();
      } catch (e) {
        expect(isProvenantError(e)).toBe(true);
        expect((e as { code: string }).code).toBe(code);
        return;
      }
      throw new Error(`expected ${code}`);
    };
    expectCode(() => merkleTree([], ['uint256']), 'MERKLE_TREE_EMPTY');
    const tree = merkleTree([[1n], [2n]], ['uint256']);
    expectCode(() => tree.getProof(2), 'MERKLE_INDEX_OUT_OF_RANGE');
    expectCode(() => tree.getProof([3n]), 'MERKLE_LEAF_NOT_FOUND');
    expectCode(() => tree.getMultiProof([0, 0]), 'INVALID_ARGUMENT');
    expectCode(() => merkleTree([[-1n]], ['uint256']), 'ABI_ENCODING_INVALID');
    expectCode(() => merkleTree([['0x12']], ['address']), 'ABI_ENCODING_INVALID');
    expectCode(() => merkleTree([[1n]], ['tuple(uint256)']), 'ABI_ENCODING_INVALID');
  });
});
