/**
 * A Merkle tree byte-for-byte compatible with OpenZeppelin's `StandardMerkleTree` (@openzeppelin/merkle-tree v1):
 *   leaf  = keccak256(keccak256(abi.encode(values)))   — double hashing prevents second-preimage attacks
 *   node  = keccak256(sort(a, b))                       — sorted pairs, so proofs need no left/right flags
 *   tree  = a complete binary tree in one array of 2n−1 nodes, leaves (sorted by hash) stored from the end.
 * Same root, same proofs, same multiproofs, so OpenZeppelin's `MerkleProof.sol` verifies ours on chain.
 *
 * Why not use their package: it hashes through a general ABI coder and hex strings; we encode into one buffer and keep
 * all nodes in a single Uint8Array (see `npm run bench:merkle` for the ratio).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { abiEncode, createAbiEncoder } from './abi.js';
import { createKeccakScratch, keccak256Into, keccakSingleBlockSupported, KECCAK_SINGLE_BLOCK_MAX } from './keccak-block.js';
import { ProvenantError, describeValue } from './errors.js';
import { bytesToHex, hexToBytes, isHex, type Hex } from './hash.js';

export interface MerkleMultiProof<T> {
  /** The proven leaves' values, in the order the proof consumes them. */
  leaves: T[];
  proof: Hex[];
  proofFlags: boolean[];
}

/** OpenZeppelin's `StandardMerkleTree.dump()` format, so either library can load the other's tree. */
export interface MerkleTreeDump<T> {
  format: 'standard-v1';
  leafEncoding: string[];
  tree: Hex[];
  values: { value: T; treeIndex: number }[];
}

export interface MerkleTreeOptions {
  /** Sort leaves by hash before building (OpenZeppelin's default). Required for multiproofs to be order-free. Default true. */
  sortLeaves?: boolean;
}

export interface MerkleTree<T extends readonly unknown[]> {
  readonly root: Hex;
  /** Number of leaves. */
  readonly length: number;
  readonly leafEncoding: readonly string[];
  /** The value at its original index. */
  at(index: number): T;
  /** keccak256(keccak256(abi.encode(value))) for these leaf types. */
  leafHash(value: T): Hex;
  /** Index of a value in the input order; throws MERKLE_LEAF_NOT_FOUND. */
  leafLookup(value: T): number;
  /** Sibling hashes from the leaf up to (not including) the root. */
  getProof(indexOrValue: number | T): Hex[];
  verify(indexOrValue: number | T, proof: readonly Hex[]): boolean;
  getMultiProof(indicesOrValues: readonly (number | T)[]): MerkleMultiProof<T>;
  verifyMultiProof(multiproof: MerkleMultiProof<T>): boolean;
  dump(): MerkleTreeDump<T>;
}

const NODE = 32;

/**
 * The standard leaf hash as 32 bytes: `keccak256(keccak256(abi.encode(value)))`, OpenZeppelin `StandardMerkleTree`'s
 * leaf (double hashing prevents second-preimage attacks with 64-byte inner nodes).
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` when `value` cannot be encoded with `leafTypes`.
 * @example
 * ```ts
 * import { standardLeafHashBytes } from 'provenant';
 *
 * const leaf = standardLeafHashBytes(['address', 'uint256'], ['0x1111111111111111111111111111111111111111', 5n]);
 * leaf.length; // 32
 * ```
 */
export function standardLeafHashBytes(leafTypes: readonly string[], value: readonly unknown[]): Uint8Array {
  return keccak_256(keccak_256(abiEncode(leafTypes, value)));
}

/**
 * The standard leaf hash as `0x`-hex: `keccak256(keccak256(abi.encode(value)))`, exactly OpenZeppelin
 * `StandardMerkleTree.leafHash(value)` (and what `MerkleProof.sol` callers compute on chain).
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` when `value` cannot be encoded with `leafTypes`.
 * @example
 * ```ts
 * import { standardLeafHash } from 'provenant';
 *
 * const leaf = standardLeafHash(['address', 'uint256'], ['0x1111111111111111111111111111111111111111', 5n]);
 * // '0x…' (32 bytes), equal to merkleTree([...], ['address', 'uint256']).leafHash([...])
 * ```
 */
export function standardLeafHash(leafTypes: readonly string[], value: readonly unknown[]): Hex {
  return bytesToHex(standardLeafHashBytes(leafTypes, value));
}

/**
 * keccak256 of the two 32-byte nodes in ascending byte order (OpenZeppelin's `_hashPair`): sorted pairs, so proofs need
 * no left/right flags. Returns 32 bytes; the inputs are not checked (use {@link processMerkleProof} for untrusted input).
 *
 * @example
 * ```ts
 * import { hashPair, hexToBytes } from 'provenant';
 *
 * const a = hexToBytes(`0x${'11'.repeat(32)}`);
 * const b = hexToBytes(`0x${'22'.repeat(32)}`);
 * hashPair(a, b).length; // 32; hashPair(b, a) gives the same bytes
 * ```
 */
export function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(64);
  if (lessOrEqual(a, 0, b, 0)) {
    buffer.set(a, 0);
    buffer.set(b, 32);
  } else {
    buffer.set(b, 0);
    buffer.set(a, 32);
  }
  return keccak_256(buffer);
}

function lessOrEqual(x: Uint8Array, xOffset: number, y: Uint8Array, yOffset: number): boolean {
  for (let i = 0; i < NODE; i++) {
    const d = x[xOffset + i]! - y[yOffset + i]!;
    if (d !== 0) return d < 0;
  }
  return true;
}

function toNode(value: Hex | Uint8Array, what: string): Uint8Array {
  const bytes = typeof value === 'string' ? (isHex(value, 32) ? hexToBytes(value) : null) : value instanceof Uint8Array ? value : null;
  if (!bytes || bytes.length !== NODE) {
    throw new ProvenantError('MERKLE_PROOF_INVALID', `${what} must be a 32-byte hash.`, { metaMessages: [`got: ${describeValue(value, 80)}`] });
  }
  return bytes;
}

/** A proof field must be an array: anything else (null, a string, an object with `length`) is MERKLE_PROOF_INVALID. */
function proofArray<T>(value: unknown, what: string): readonly T[] {
  if (!Array.isArray(value)) {
    throw new ProvenantError('MERKLE_PROOF_INVALID', `${what} must be an array.`, { metaMessages: [`got: ${describeValue(value)}`] });
  }
  return value as readonly T[];
}

/**
 * Runs a verification and turns every malformed-input failure into an answer: `false` for a proof that is wrong or
 * malformed (MERKLE_PROOF_INVALID), the typed error for anything else typed (an unencodable value), and a typed
 * MERKLE_PROOF_INVALID for an untyped crash on input of an unexpected shape — never a raw TypeError.
 */
function answer(run: () => boolean): boolean {
  try {
    return run();
  } catch (error) {
    if (error instanceof ProvenantError) {
      if (error.code === 'MERKLE_PROOF_INVALID') return false;
      throw error;
    }
    throw new ProvenantError('MERKLE_PROOF_INVALID', 'The proof or value has a shape that cannot be verified.', { cause: error });
  }
}

/**
 * Folds a proof onto a leaf hash (OpenZeppelin's `MerkleProof.processProof`): the result equals the root iff the proof
 * is valid. Leaf and siblings are 32-byte hashes (hex or bytes); returns the computed root as hex.
 *
 * @throws ProvenantError `MERKLE_PROOF_INVALID` when the leaf or a proof element is not a 32-byte hash, or the proof is
 *   not an array.
 * @example
 * ```ts
 * import { merkleTree, processMerkleProof } from 'provenant';
 *
 * const values: [string, bigint][] = [['0x1111111111111111111111111111111111111111', 5n], ['0x2222222222222222222222222222222222222222', 3n]];
 * const tree = merkleTree(values, ['address', 'uint256']);
 * processMerkleProof(tree.leafHash(values[0]!), tree.getProof(0)) === tree.root; // true
 * ```
 */
export function processMerkleProof(leaf: Hex | Uint8Array, proof: readonly (Hex | Uint8Array)[]): Hex {
  let node = toNode(leaf, 'Leaf');
  for (const sibling of proofArray<Hex | Uint8Array>(proof, 'Proof')) node = hashPair(node, toNode(sibling, 'Proof element'));
  return bytesToHex(node);
}

/**
 * Verifies a standard-tree proof for a value without building the tree (the counterpart of `StandardMerkleTree.verify`).
 * A malformed root or proof (any shape) is `false`; a value that cannot be ABI-encoded with `leafTypes` is
 * `ABI_ENCODING_INVALID`.
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` when `value` cannot be encoded with `leafTypes`.
 * @example
 * ```ts
 * import { verifyMerkleProof, type Hex } from 'provenant';
 *
 * declare const root: Hex;    // a published snapshot root
 * declare const proof: Hex[]; // tree.getProof(i) from the publisher
 * verifyMerkleProof(root, ['address', 'uint256'], ['0x1111111111111111111111111111111111111111', 5n], proof); // true or false
 * ```
 */
export function verifyMerkleProof(root: Hex, leafTypes: readonly string[], value: readonly unknown[], proof: readonly Hex[]): boolean {
  return answer(() => {
    if (!isHex(root, 32)) return false;
    return processMerkleProof(standardLeafHashBytes(leafTypes, proofArray(value, 'Value')), proof) === root.toLowerCase();
  });
}

/**
 * Reconstructs the root from a multiproof of leaf hashes (OpenZeppelin's `MerkleProof.processMultiProof`): leaves are
 * consumed first, then computed hashes, with `proofFlags[i]` choosing between the next leaf/hash (true) and the next
 * proof element (false). Returns the root as hex; compare it with the published root.
 *
 * @throws ProvenantError `MERKLE_PROOF_INVALID` for a malformed multiproof: non-array fields, a non-boolean flag,
 *   `leaves + proof ≠ flags + 1`, flags consuming more than given or leaving proof elements unused, or a non-32-byte hash.
 * @example
 * ```ts
 * import { merkleTree, processMerkleMultiProof } from 'provenant';
 *
 * const values: [string, bigint][] = [1n, 2n, 3n, 4n].map((v): [string, bigint] => [`0x${'1'.repeat(39)}${v}`, v]);
 * const tree = merkleTree(values, ['address', 'uint256']);
 * const { leaves, proof, proofFlags } = tree.getMultiProof([0, 2]);
 * processMerkleMultiProof(leaves.map((v) => tree.leafHash(v)), proof, proofFlags) === tree.root; // true
 * ```
 */
export function processMerkleMultiProof(leafHashes: readonly (Hex | Uint8Array)[], proof: readonly Hex[], proofFlags: readonly boolean[]): Hex {
  proofArray(leafHashes, 'Multiproof leaves');
  proofArray(proof, 'Multiproof proof');
  proofArray(proofFlags, 'Multiproof flags');
  const badFlag = proofFlags.findIndex((f) => typeof f !== 'boolean');
  if (badFlag >= 0) {
    throw new ProvenantError('MERKLE_PROOF_INVALID', `Multiproof flag ${badFlag} is not a boolean.`, { metaMessages: [`got: ${describeValue(proofFlags[badFlag])}`] });
  }
  if (leafHashes.length + proof.length !== proofFlags.length + 1) {
    throw new ProvenantError('MERKLE_PROOF_INVALID', 'Multiproof is malformed: leaves + proof must equal flags + 1.', {
      metaMessages: [`leaves: ${leafHashes.length}, proof: ${proof.length}, flags: ${proofFlags.length}`],
    });
  }
  const queue: Uint8Array[] = leafHashes.map((h) => toNode(h, 'Leaf'));
  let head = 0;
  let proofPos = 0;
  for (const flag of proofFlags) {
    // OpenZeppelin reads leaves first, then computed hashes; running out of either is a malformed proof, not a crash.
    const a = queue[head++];
    if (!a) throw new ProvenantError('MERKLE_PROOF_INVALID', 'Multiproof flags consume more leaves and hashes than there are.');
    const b = flag ? queue[head++] : proofPos < proof.length ? toNode(proof[proofPos++]!, 'Proof element') : undefined;
    if (!b) throw new ProvenantError('MERKLE_PROOF_INVALID', 'Multiproof flags consume more leaves or proof elements than were given.');
    queue.push(hashPair(a, b));
  }
  if (proofFlags.length > 0 && proofPos !== proof.length) {
    throw new ProvenantError('MERKLE_PROOF_INVALID', 'Multiproof has proof elements its flags never use.');
  }
  if (proofFlags.length > 0) return bytesToHex(queue[queue.length - 1]!);
  return bytesToHex(leafHashes.length > 0 ? queue[0]! : toNode(proof[0]!, 'Proof element'));
}

/**
 * Builds an OpenZeppelin-compatible standard Merkle tree over `values`, each ABI-encoded with `leafTypes`.
 *
 * @example
 * ```ts
 * import { merkleTree } from 'provenant';
 * const tree = merkleTree([['0x1111111111111111111111111111111111111111', 5000000000000000000n]], ['address', 'uint256']);
 * const proof = tree.getProof(0);
 * tree.verify(0, proof); // true
 * ```
 */
export function merkleTree<T extends readonly unknown[]>(
  values: readonly T[],
  leafTypes: readonly string[],
  options: MerkleTreeOptions = {},
): MerkleTree<T> {
  const n = values.length;
  if (n === 0) throw new ProvenantError('MERKLE_TREE_EMPTY', 'A Merkle tree needs at least one leaf.');
  const sortLeaves = options.sortLeaves ?? true;
  const leafEncoding = [...leafTypes];

  const leafHashes = new Uint8Array(n * NODE);
  const scratch = keccakSingleBlockSupported ? createKeccakScratch() : null;
  const encoder = createAbiEncoder(leafEncoding);
  // Static leaf types (the common case) reuse one zeroed buffer instead of allocating per leaf.
  const staticBuffer = encoder.staticSize !== null ? new Uint8Array(encoder.staticSize) : null;
  for (let i = 0; i < n; i++) {
    let encoded: Uint8Array;
    if (staticBuffer) {
      staticBuffer.fill(0);
      encoder.encodeInto(values[i]!, staticBuffer, 0);
      encoded = staticBuffer;
    } else {
      encoded = encoder.encode(values[i]!);
    }
    if (scratch && encoded.length <= KECCAK_SINGLE_BLOCK_MAX) {
      keccak256Into(scratch, encoded, 0, encoded.length, leafHashes, i * NODE);
      keccak256Into(scratch, leafHashes, i * NODE, NODE, leafHashes, i * NODE);
    } else {
      leafHashes.set(keccak_256(keccak_256(encoded)), i * NODE);
    }
  }

  // Order of leaves in the tree: by hash (stable, so equal values keep input order as OpenZeppelin's stable sort does).
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (sortLeaves) {
    const view = new DataView(leafHashes.buffer);
    const prefix = new Uint32Array(n);
    for (let i = 0; i < n; i++) prefix[i] = view.getUint32(i * NODE);
    const sorted = Array.from(order).sort((a, b) => {
      const pa = prefix[a]!;
      const pb = prefix[b]!;
      if (pa !== pb) return pa < pb ? -1 : 1;
      for (let k = 4; k < NODE; k++) {
        const d = leafHashes[a * NODE + k]! - leafHashes[b * NODE + k]!;
        if (d !== 0) return d;
      }
      return a - b;
    });
    order.set(sorted);
  }

  const size = 2 * n - 1;
  const tree = new Uint8Array(size * NODE);
  const treeIndexOfValue = new Uint32Array(n);
  const valueIndexOfTreeIndex = new Int32Array(size).fill(-1);
  for (let leafPos = 0; leafPos < n; leafPos++) {
    const valueIndex = order[leafPos]!;
    const treeIndex = size - 1 - leafPos;
    tree.set(leafHashes.subarray(valueIndex * NODE, valueIndex * NODE + NODE), treeIndex * NODE);
    treeIndexOfValue[valueIndex] = treeIndex;
    valueIndexOfTreeIndex[treeIndex] = valueIndex;
  }
  const pair = new Uint8Array(64);
  for (let i = size - 1 - n; i >= 0; i--) {
    const left = (2 * i + 1) * NODE;
    const right = left + NODE;
    const [first, second] = lessOrEqual(tree, left, tree, right) ? [left, right] : [right, left];
    for (let k = 0; k < NODE; k++) {
      pair[k] = tree[first + k]!;
      pair[NODE + k] = tree[second + k]!;
    }
    if (scratch) keccak256Into(scratch, pair, 0, 64, tree, i * NODE);
    else tree.set(keccak_256(pair), i * NODE);
  }

  const node = (i: number): Uint8Array => tree.subarray(i * NODE, i * NODE + NODE);
  const nodeHex = (i: number): Hex => bytesToHex(node(i));
  const root = nodeHex(0);
  let lookup: Map<string, number> | null = null;

  const checkIndex = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new ProvenantError('MERKLE_INDEX_OUT_OF_RANGE', `Leaf index ${index} is out of range [0, ${n}).`, { data: { index, length: n } });
    }
  };
  const leafLookup = (value: T): number => {
    if (!lookup) {
      lookup = new Map();
      // Last duplicate wins, as in OpenZeppelin's hash lookup.
      for (let i = 0; i < n; i++) lookup.set(bytesToHex(leafHashes.subarray(i * NODE, i * NODE + NODE)), i);
    }
    const index = lookup.get(standardLeafHash(leafEncoding, value));
    if (index === undefined) throw new ProvenantError('MERKLE_LEAF_NOT_FOUND', 'Value is not a leaf of this tree.');
    return index;
  };
  const toIndex = (indexOrValue: number | T): number => {
    const index = typeof indexOrValue === 'number' ? indexOrValue : leafLookup(indexOrValue);
    checkIndex(index);
    return index;
  };

  const getProof = (indexOrValue: number | T): Hex[] => {
    let t = treeIndexOfValue[toIndex(indexOrValue)]!;
    const proof: Hex[] = [];
    while (t > 0) {
      proof.push(nodeHex(t % 2 === 1 ? t + 1 : t - 1));
      t = Math.floor((t - 1) / 2);
    }
    return proof;
  };

  return {
    root,
    length: n,
    leafEncoding,
    at: (index) => {
      checkIndex(index);
      return values[index]!;
    },
    leafHash: (value) => standardLeafHash(leafEncoding, value),
    leafLookup,
    getProof,
    verify: (indexOrValue, proof) =>
      answer(() => {
        const index = toIndex(indexOrValue);
        return processMerkleProof(leafHashes.subarray(index * NODE, index * NODE + NODE), proof) === root;
      }),
    getMultiProof: (indicesOrValues) => {
      const treeIndices = indicesOrValues.map((v) => treeIndexOfValue[toIndex(v)]!).sort((a, b) => b - a);
      for (let i = 1; i < treeIndices.length; i++) {
        if (treeIndices[i] === treeIndices[i - 1]) {
          throw new ProvenantError('INVALID_ARGUMENT', 'A multiproof cannot prove the same leaf twice.', { data: { treeIndex: treeIndices[i] } });
        }
      }
      // Walk up from the deepest requested nodes; a sibling that is itself known is flagged instead of sent.
      const stack = treeIndices.slice();
      let head = 0;
      const proof: Hex[] = [];
      const proofFlags: boolean[] = [];
      while (head < stack.length && stack[head]! > 0) {
        const j = stack[head++]!;
        const sibling = j % 2 === 1 ? j + 1 : j - 1;
        if (head < stack.length && stack[head] === sibling) {
          proofFlags.push(true);
          head++;
        } else {
          proofFlags.push(false);
          proof.push(nodeHex(sibling));
        }
        stack.push(Math.floor((j - 1) / 2));
      }
      if (treeIndices.length === 0) proof.push(root);
      return { leaves: treeIndices.map((t) => values[valueIndexOfTreeIndex[t]!]!), proof, proofFlags };
    },
    verifyMultiProof: (multiproof) =>
      answer(() => {
        if (multiproof === null || typeof multiproof !== 'object') return false;
        const hashes = proofArray<T>(multiproof.leaves, 'Multiproof leaves').map((v) => standardLeafHashBytes(leafEncoding, proofArray(v, 'Leaf value')));
        return processMerkleMultiProof(hashes, multiproof.proof, multiproof.proofFlags) === root;
      }),
    dump: () => ({
      format: 'standard-v1',
      leafEncoding: [...leafEncoding],
      tree: Array.from({ length: size }, (_, i) => nodeHex(i)),
      values: values.map((value, i) => ({ value, treeIndex: treeIndexOfValue[i]! })),
    }),
  };
}
