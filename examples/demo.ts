/**
 * Provenant demo: the whole pipeline on the embedded default, one clearly separated step at a time.
 *
 *   npm run demo                       # the full security Datanet (6,046 e-mails) + a noisy and a duplicate contributor
 *   npm run demo -- --limit 200        # at most 200 e-mails per corpus group (fast)
 *   npm run demo -- --noisy 300 --duplicate 150 --seed 7 --split-groups 4 --json
 *
 * Each step prints what it did and how long it took. Later steps (fine-tuning, evaluation, attribution, audit record,
 * chain) are added below the Datanet steps in the same shape.
 */
import { SPAM_ASSASSIN_GROUPS, fromSpamAssassin, type DatanetSnapshot, type DatanetSplit, type SpamAssassinDatanet } from '../src/index.js';

// ── flags ────────────────────────────────────────────────────────────────────────────────────────────────────────
interface Flags {
  limit?: number;
  noisy?: number;
  duplicate?: number;
  seed: number;
  splitGroups: number;
  json: boolean;
  help: boolean;
}

const FLAG_HELP: Record<string, string> = {
  '--limit N': 'at most N e-mails per SpamAssassin group (default: all 6,046 e-mails)',
  '--noisy N': 'label-flipped copies submitted by the noisy contributor (default: 1 in 30 e-mails, 200 for the full corpus)',
  '--duplicate N': 'verbatim re-submissions by the duplicate contributor (default: 1 in 40 e-mails, 151 for the full corpus)',
  '--seed N': 'seed for every random step (default 7)',
  '--split-groups N': 'split every corpus group into N contributors (default 1: one contributor per group)',
  '--json': 'also print the snapshot summary as JSON',
  '--help': 'show this help',
};

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { seed: 7, splitGroups: 1, json: false, help: false };
  const integer = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${String(value)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (name) {
      case '--limit': flags.limit = integer(name, value()); break;
      case '--noisy': flags.noisy = integer(name, value()); break;
      case '--duplicate': flags.duplicate = integer(name, value()); break;
      case '--seed': flags.seed = integer(name, value()); break;
      case '--split-groups': flags.splitGroups = Math.max(1, integer(name, value())); break;
      case '--json': flags.json = true; break;
      case '--help': case '-h': flags.help = true; break;
      default: throw new Error(`unknown flag ${arg} (try --help)`);
    }
  }
  return flags;
}

// ── printing ─────────────────────────────────────────────────────────────────────────────────────────────────────
const fmt = (n: number): string => n.toLocaleString('en-US');
const kib = (bytes: number): string => `${fmt(Math.round(bytes / 1024))} KiB`;

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = headers.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => r.map((c, j) => (j === 0 ? String(c).padEnd(widths[j]!) : String(c).padStart(widths[j]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function step<T>(title: string, work: () => Promise<T> | T): Promise<T> {
  console.log(`\n▶ ${title}`);
  const start = performance.now();
  const result = await work();
  console.log(`  (${((performance.now() - start) / 1000).toFixed(2)} s)`);
  return result;
}

// ── the pipeline ─────────────────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log('Usage: npm run demo -- [flags]\n');
    for (const [flag, help] of Object.entries(FLAG_HELP)) console.log(`  ${flag.padEnd(18)} ${help}`);
    return;
  }
  const total = performance.now();

  // Step 1: the security Datanet — five SpamAssassin groups as contributors, plus a noisy and a duplicate contributor.
  const built: SpamAssassinDatanet = await step('Step 1 · Build the security Datanet from the SpamAssassin corpus', async () => {
    const splitGroups = flags.splitGroups > 1 ? Object.fromEntries(SPAM_ASSASSIN_GROUPS.map((g) => [g, flags.splitGroups])) : undefined;
    // Corpus group sizes (see the package README): the synthetic contributors scale with the e-mails read.
    const emails = [2500, 1400, 250, 500, 1396].reduce((a, size) => a + Math.min(size, flags.limit ?? size), 0);
    const noisy = flags.noisy ?? Math.round(emails / 30);
    const duplicate = flags.duplicate ?? Math.round(emails / 40);
    const result = await fromSpamAssassin({ limitPerGroup: flags.limit, noisy, duplicate, splitGroups, seed: flags.seed });
    for (const report of result.reports) {
      console.log(
        `  ${report.contributor.padEnd(14)} submitted ${fmt(report.submitted).padStart(5)}  accepted ${fmt(report.accepted.length).padStart(5)}` +
          `  duplicates ${fmt(report.duplicates.length).padStart(4)}  rejected ${fmt(report.rejections.length).padStart(3)}`,
      );
    }
    return result;
  });

  // Step 2: snapshot — version, Merkle root over row ids, contributor table.
  const snapshot: DatanetSnapshot = await step('Step 2 · Snapshot: version, Merkle root, contributor table', () => built.datanet.snapshot());
  const summary = snapshot.summary();
  console.log(`  Datanet "${summary.name}"  version ${summary.version}  rows ${fmt(summary.rows)}  (${kib(summary.bytes)})`);
  console.log(`  root ${summary.root}  (OpenZeppelin StandardMerkleTree, leaf types [${summary.leafTypes.join(', ')}])`);
  console.log(`  submitted ${fmt(summary.submitted)}  duplicates removed ${fmt(summary.duplicatesRemoved)}  rejections ${fmt(summary.rejections)}` +
    (summary.rejections > 0 ? `  ${JSON.stringify(summary.rejectionsByCode)}` : ''));
  console.log(`  labels ${Object.entries(summary.labels).map(([l, n]) => `${l} ${fmt(n)}`).join(', ')}\n`);
  console.log(
    table(
      ['contributor', 'rows', 'bytes', 'ham', 'spam', 'duplicates', 'rejections'],
      summary.contributors.map((c) => [c.contributor, c.rows, kib(c.bytes), c.labels.ham ?? 0, c.labels.spam ?? 0, c.duplicates, c.rejections]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );

  // Step 3: a row's inclusion proof, checked against the root alone.
  await step('Step 3 · Inclusion proof for one row of the noisy contributor', () => {
    const noisyId = built.groundTruth.noisyRowIds[0] ?? snapshot.rows[0]!.id;
    const proof = snapshot.getProof(noisyId);
    const row = snapshot.getRow(noisyId);
    console.log(`  row ${noisyId.slice(0, 18)}… (${row.contributor}, label ${String(row.label)}): proof of ${proof.length} hashes verifies: ${snapshot.verifyRow(row, proof)}`);
    console.log(`  the same proof for the row with its label flipped back verifies: ${snapshot.verifyRow({ input: row.input, label: row.label === 'spam' ? 'ham' : 'spam' }, proof)}`);
  });

  // Step 4: seeded splits — stratified by label; and grouped by contributor (no contributor on both sides).
  await step('Step 4 · Seeded train/validation/test splits', () => {
    const show = (name: string, split: DatanetSplit) =>
      console.log(
        `  ${name.padEnd(26)} train ${fmt(split.train.indices.length).padStart(5)}  validation ${fmt(split.validation.indices.length).padStart(5)}` +
          `  test ${fmt(split.test.indices.length).padStart(5)}  digest ${split.digest.slice(0, 14)}…`,
      );
    const fractions = { train: 0.8, validation: 0.1, test: 0.1 };
    show('stratified by label', snapshot.split({ seed: flags.seed, fractions, stratifyBy: 'label' }));
    show('grouped by contributor', snapshot.split({ seed: flags.seed, fractions, groupBy: 'contributor', stratifyBy: 'label' }));
    // Drift: the "-2" groups were collected months later; train on the early mail, test on the late.
    const groupOf = built.groundTruth.contributorGroups;
    show('drift (2002 → 2003 mail)', snapshot.splitBy((row) => (String(groupOf[row.contributor]).endsWith('-2') ? 'test' : 'train'), { rule: 'test = groups easy-ham-2 and spam-2 (collected 2003-02)' }));
  });

  if (flags.json) console.log(`\n${JSON.stringify(summary, null, 2)}`);
  console.log(`\nDone in ${((performance.now() - total) / 1000).toFixed(2)} s.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
