// %% [markdown]
// # 1. A Datanet: contributor-owned rows under a Merkle root
//
// Provenant's first decision is *which data, owned by whom*. This notebook builds a small security Datanet from the
// SpamAssassin public corpus (each corpus group is a contributor), adds a noisy contributor (label-flipped copies) and a
// duplicate contributor (verbatim re-submissions), and shows what a snapshot commits to.
// %%
import { fromSpamAssassin, merkleTree, verifyDatanetRow } from 'provenant';
// %%
const built = await fromSpamAssassin({ limitPerGroup: 20, noisy: 8, duplicate: 6, seed: 7 });
const snapshot = built.datanet.snapshot();
const summary = snapshot.summary();
console.log(`version ${summary.version}, ${summary.rows} rows, root ${summary.root}`);
// %% [markdown]
// Every contribution was validated and deduplicated: the duplicate contributor's copies were reported, not kept, so they
// cannot earn rewards. The noisy contributor's rows differ in their label, so they *are* kept — attribution must catch them.
// %%
for (const c of summary.contributors) console.log(c.contributor.padEnd(14), c.rows, JSON.stringify(c.labels));
console.log('duplicates reported:', built.reports.reduce((n, r) => n + r.duplicates.length, 0));
console.log('noisy rows (ground truth):', built.groundTruth.noisyRowIds.length);
// %% [markdown]
// A row's inclusion proof verifies against the root alone — the same check OpenZeppelin's `MerkleProof.sol` does on chain.
// %%
const row = snapshot.rows[3];
const proof = snapshot.getProof(row.id);
if (!verifyDatanetRow(snapshot.root, row, proof)) throw new Error('proof failed');
console.log(`row ${row.id.slice(0, 12)}… of ${row.contributor}: proof of ${proof.length} hashes verifies`);
// %% [markdown]
// Seeded splits keep a contributor's rows together when asked, so a contributor's data never leaks between train and test.
// %%
const split = snapshot.split({ seed: 7, fractions: { train: 0.7, validation: 0.1, test: 0.2 }, groupBy: 'contributor' });
console.log({ train: split.train.rows.length, validation: split.validation.rows.length, test: split.test.rows.length });
// %%
const tree = merkleTree([['0x1111111111111111111111111111111111111111', 5n]], ['address', 'uint256']);
console.log('standalone tree root', tree.root);
