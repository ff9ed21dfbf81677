/**
 * npm run bench:merkle — builds 1k / 10k / 100k-leaf standard Merkle trees with Provenant's `merkleTree` and with
 * OpenZeppelin's `StandardMerkleTree` in one run, checks the roots are identical, and prints the time ratio.
 * Leaves are attribution-record-like tuples (address, uint256, bytes32). Writes benchmarks/results/merkle.json.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { bytesToHex, createRng, merkleTree } from '../src/index.js';

type Leaf = [string, bigint, string];
const LEAF_TYPES = ['address', 'uint256', 'bytes32'];

function makeLeaves(n: number, seed: number): Leaf[] {
  const rng = createRng(seed);
  const bytes = (k: number) => {
    const b = new Uint8Array(k);
    for (let i = 0; i < k; i++) b[i] = rng.nextUint32() & 0xff;
    return bytesToHex(b);
  };
  return Array.from({ length: n }, () => [bytes(20), BigInt(rng.nextUint32()) * 1_000_000_007n, bytes(32)]);
}

function time<T>(fn: () => T, minRepeats: number, minMs = 1000): { ms: number; result: T } {
  let result!: T;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRepeats || performance.now() - start < minMs) {
    const t0 = performance.now();
    result = fn();
    samples.push(performance.now() - t0);
    if (samples.length >= 50) break;
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, result };
}

const rows: Record<string, unknown>[] = [];
for (const n of [1_000, 10_000, 100_000]) {
  const leaves = makeLeaves(n, n);
  const repeats = n >= 100_000 ? 1 : 3;
  const ours = time(() => merkleTree(leaves, LEAF_TYPES), repeats);
  const theirs = time(() => StandardMerkleTree.of(leaves, LEAF_TYPES), repeats, n >= 100_000 ? 0 : 1000);
  const ourProof = time(() => ours.result.getProof(n >> 1), 5, 200);
  const theirProof = time(() => theirs.result.getProof(n >> 1), 5, 200);
  const sameRoot = ours.result.root === theirs.result.root;
  const sameProof = JSON.stringify(ourProof.result) === JSON.stringify(theirProof.result);
  if (!sameRoot || !sameProof) throw new Error(`Mismatch at n=${n}: root ${sameRoot}, proof ${sameProof}`);
  rows.push({
    leaves: n,
    oursMs: +ours.ms.toFixed(1),
    openzeppelinMs: +theirs.ms.toFixed(1),
    buildSpeedup: +(theirs.ms / ours.ms).toFixed(1),
    proofOursUs: +(ourProof.ms * 1000).toFixed(1),
    proofOpenzeppelinUs: +(theirProof.ms * 1000).toFixed(1),
    root: ours.result.root,
    rootsIdentical: sameRoot,
    proofsIdentical: sameProof,
  });
}

console.log('Standard Merkle tree build: Provenant vs @openzeppelin/merkle-tree (same leaves, one run)\n');
console.log('leaves   | ours (ms) | OpenZeppelin (ms) | speed-up | proof ours/OZ (µs) | roots identical');
console.log('---------|-----------|-------------------|----------|--------------------|----------------');
for (const r of rows) {
  console.log(
    `${String(r.leaves).padEnd(8)} | ${String(r.oursMs).padStart(9)} | ${String(r.openzeppelinMs).padStart(17)} | ${String(r.buildSpeedup + '×').padStart(8)} | ${`${r.proofOursUs} / ${r.proofOpenzeppelinUs}`.padStart(18)} | ${r.rootsIdentical}`,
  );
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const out = {
  benchmark: 'merkle',
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  leafTypes: LEAF_TYPES,
  rows,
};
writeFileSync(new URL('./results/merkle.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log('\nwrote benchmarks/results/merkle.json');
