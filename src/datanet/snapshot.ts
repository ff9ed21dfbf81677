/**
 * An immutable, versioned view of a Datanet: rows in content-hash order, an OpenZeppelin-compatible Merkle root over
 * the row ids, per-row inclusion proofs, the contributor table, and seeded splits. Everything downstream —
 * fine-tuning, attribution, the audit record, the chain — reads rows, ids, owners, the root and proofs from here.
 */
import {
  ProvenantError,
  dict,
  canonicalJson,
  createProgressReporter,
  isHex,
  keccak256,
  merkleTree,
  verifyMerkleProof,
  type Hex,
  type MerkleTree,
  type ProgressCallback,
  type Seed,
} from '../core/index.js';
import { isAddressLike } from './contributor.js';
import type { DatanetRow } from './datanet.js';
import { rowId, type RowId } from './row-hash.js';
import type { ResolvedSchema } from './schema.js';
import { resolveFractions, splitIndices, type SplitFractions } from './split.js';
import type { ContributionRecord, Label, Row, RowRejectionCode, StoredRow } from './types.js';

/**
 * ABI types of a snapshot's Merkle leaves: one `bytes32`, the row id. So a leaf is
 * keccak256(keccak256(abi.encode(rowId))) and OpenZeppelin's `MerkleProof.verify(proof, root, leaf)` accepts our proofs.
 * Owners are deliberately not in the leaf: the root must depend only on the set of rows.
 */
export const DATANET_LEAF_TYPES = Object.freeze(['bytes32'] as const);

/** The root of an empty snapshot (no tree can be built over zero leaves). */
export const EMPTY_DATANET_ROOT: Hex = `0x${'0'.repeat(64)}`;

/** A row in a snapshot: the stored row, its id, owner, size, and its position in `snapshot.rows`. */
export interface SnapshotRow extends DatanetRow {
  readonly index: number;
}

/** One line of the contributor table. */
export interface ContributorSummary {
  readonly contributor: string;
  /** Number of contributions this contributor made. */
  readonly contributions: number;
  /** Rows owned (accepted, after deduplication). */
  readonly rows: number;
  /** Bytes of owned rows' canonical content. */
  readonly bytes: number;
  /** Owned rows per label (keyed by `String(label)`); unlabelled rows are counted in `unlabelled`. */
  readonly labels: Readonly<Record<string, number>>;
  readonly unlabelled: number;
  /** Submitted rows that were copies of content someone (possibly this contributor) already held. */
  readonly duplicates: number;
  /** Submitted rows that failed validation. */
  readonly rejections: number;
  /** Distinct licences of this contributor's contributions, in first-seen order. */
  readonly licences: readonly string[];
}

/** A compact, JSON-ready description of a snapshot: the audit record and the demo print it. */
export interface DatanetSummary {
  readonly name: string;
  readonly version: number;
  readonly root: Hex;
  readonly leafTypes: readonly string[];
  readonly schema: ResolvedSchema;
  readonly rows: number;
  readonly bytes: number;
  readonly contributions: number;
  readonly submitted: number;
  readonly duplicatesRemoved: number;
  readonly rejections: number;
  readonly rejectionsByCode: Readonly<Partial<Record<RowRejectionCode, number>>>;
  readonly labels: Readonly<Record<string, number>>;
  readonly contributors: readonly {
    readonly contributor: string;
    readonly rows: number;
    readonly bytes: number;
    readonly labels: Readonly<Record<string, number>>;
    readonly duplicates: number;
    readonly rejections: number;
  }[];
}

export interface SnapshotSplitOptions {
  readonly seed: Seed;
  readonly fractions: SplitFractions;
  /** Keep each label's share equal across splits. */
  readonly stratifyBy?: 'label';
  /** Keep each contributor's rows in one split (no contributor leaks between train and test). */
  readonly groupBy?: 'contributor';
}

/** One part of a split. */
export interface SplitPart {
  /** Positions in `snapshot.rows`, ascending. */
  readonly indices: readonly number[];
  readonly rows: readonly SnapshotRow[];
}

export interface DatanetSplit {
  readonly train: SplitPart;
  readonly validation: SplitPart;
  readonly test: SplitPart;
  /** The seed of a seeded split (absent for `splitBy`). */
  readonly seed?: Seed;
  /** Requested fractions (seeded split) or the realised ones (`splitBy`). */
  readonly fractions: { readonly train: number; readonly validation: number; readonly test: number };
  readonly stratifyBy?: 'label';
  readonly groupBy?: 'contributor';
  /** For `splitBy`: the caller's description of the rule (a function cannot be hashed, its description can). */
  readonly rule?: string;
  /**
   * keccak256 of the canonical JSON {root, seed, fractions, stratifyBy, groupBy, train, validation, test} (seeded) or
   * {root, rule, train, validation, test} (`splitBy`): names this exact split in an audit record.
   */
  readonly digest: Hex;
}

/** Which part a row goes to in {@link DatanetSnapshot.splitBy}. */
export type SplitPartName = 'train' | 'validation' | 'test';

export interface DatanetSnapshot {
  readonly name: string;
  readonly schema: ResolvedSchema;
  /** 1 for the first snapshot of a Datanet, one more for each later state. */
  readonly version: number;
  /** Merkle root over the row ids (see {@link DATANET_LEAF_TYPES}); depends only on the set of rows. */
  readonly root: Hex;
  readonly leafTypes: readonly string[];
  /** Number of rows. */
  readonly size: number;
  /** Total bytes of the rows' canonical content. */
  readonly bytes: number;
  /** Rows in ascending id order, so the order (and any seeded split) depends only on the set of rows. */
  readonly rows: readonly SnapshotRow[];
  /** The contribution log with each contribution's report. */
  readonly contributions: readonly ContributionRecord[];
  /** The contributor table, in order of each contributor's first contribution. */
  readonly contributors: readonly ContributorSummary[];
  /** The label vocabulary: the schema's labels if it lists them, otherwise the distinct labels present, sorted. */
  readonly classes: readonly Label[];
  has(id: RowId): boolean;
  /** Position of a row in `rows`, or -1. */
  indexOf(id: RowId): number;
  /** The row with this id; throws `DATANET_ROW_NOT_FOUND`. */
  getRow(id: RowId): SnapshotRow;
  /** The rows a contributor owns, in snapshot order (empty for a contributor who owns none). */
  rowsOf(contributor: string): readonly SnapshotRow[];
  /** For each row, the position of its label in `classes` (-1 for an unlabelled row). */
  labelIndices(): Int32Array;
  /** Merkle inclusion proof of a row (by id or position); throws `DATANET_ROW_NOT_FOUND`. */
  getProof(idOrIndex: RowId | number): Hex[];
  /** True iff `proof` proves that the row (or row id) is in this snapshot. The row's id is recomputed from its content. */
  verifyRow(rowOrId: Row | StoredRow | RowId, proof: readonly Hex[]): boolean;
  /** Seeded train/validation/test split; the parts are disjoint and together cover every row. */
  split(options: SnapshotSplitOptions): DatanetSplit;
  /**
   * A split by an explicit rule, e.g. drift: train on the earlier-collected corpus groups, test on the later ones.
   * `rule` describes the rule in words for the audit record and the digest.
   *
   * @example
   * snapshot.splitBy((row) => (String(row.metadata?.group).endsWith('-2') ? 'test' : 'train'), { rule: 'test = groups collected in 2003' });
   */
  splitBy(assign: (row: SnapshotRow) => SplitPartName, options: { readonly rule: string }): DatanetSplit;
  summary(): DatanetSummary;
}

export interface SnapshotSource {
  readonly name: string;
  readonly schema: ResolvedSchema;
  readonly version: number;
  readonly rows: readonly DatanetRow[];
  readonly contributions: readonly ContributionRecord[];
  readonly onProgress?: ProgressCallback;
}

const labelKey = (label: Label): string => String(label);

/**
 * Verifies a row's inclusion proof against a snapshot root without the snapshot (what a third party or a contract does).
 *
 * @example
 * ```ts
 * import { verifyDatanetRow, type DatanetSnapshot } from 'provenant/datanet';
 * declare const snapshot: DatanetSnapshot;
 * const row = snapshot.rows[0];
 * const proof = snapshot.getProof(row.id);
 * verifyDatanetRow(snapshot.root, row, proof); // true
 * ```
 */
export function verifyDatanetRow(root: Hex, rowOrId: Row | StoredRow | RowId, proof: readonly Hex[]): boolean {
  let id: string;
  try {
    id = typeof rowOrId === 'string' ? rowOrId.toLowerCase() : rowId(rowOrId);
  } catch (error) {
    // Content JSON cannot carry (NaN, Infinity) is in no snapshot.
    if (error instanceof ProvenantError && error.code === 'JSON_NOT_CANONICAL') return false;
    throw error;
  }
  if (!isHex(id, 32) || !isHex(root, 32)) return false;
  try {
    return verifyMerkleProof(root, DATANET_LEAF_TYPES, [id], proof);
  } catch (error) {
    if (error instanceof ProvenantError && error.code === 'MERKLE_PROOF_INVALID') return false;
    throw error;
  }
}

/** Builds a snapshot (used by `Datanet.snapshot()`). */
export function buildSnapshot(source: SnapshotSource): DatanetSnapshot {
  const { name, schema, version, contributions } = source;
  const progress = createProgressReporter('snapshot', 3, source.onProgress);
  const sorted = source.rows.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: SnapshotRow[] = sorted.map((row, index) => Object.freeze({ ...row, index }));
  Object.freeze(rows);
  progress.tick(1, undefined, 'rows sorted');

  const position = new Map<RowId, number>();
  rows.forEach((row, i) => position.set(row.id, i));
  const tree: MerkleTree<readonly [Hex]> | null = rows.length > 0 ? merkleTree(rows.map((r) => [r.id] as const), DATANET_LEAF_TYPES) : null;
  const root = tree ? tree.root : EMPTY_DATANET_ROOT;
  progress.tick(2, undefined, 'Merkle tree built');

  const classes: readonly Label[] = Object.freeze(
    schema.labels
      ? [...schema.labels]
      : [...new Map(rows.filter((r) => r.label !== undefined).map((r) => [JSON.stringify(r.label), r.label!])).values()].sort((a, b) =>
          typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a === 'number' ? -1 : 1,
        ),
  );

  // Contributor table: ownership from the rows, duplicate and rejection counts from the log.
  const table = new Map<string, { contributions: number; rows: number; bytes: number; labels: Record<string, number>; unlabelled: number; duplicates: number; rejections: number; licences: string[] }>();
  const entryOf = (contributor: string) => {
    let entry = table.get(contributor);
    if (!entry) {
      entry = { contributions: 0, rows: 0, bytes: 0, labels: dict<number>(), unlabelled: 0, duplicates: 0, rejections: 0, licences: [] };
      table.set(contributor, entry);
    }
    return entry;
  };
  for (const record of contributions) {
    const entry = entryOf(record.contributor);
    entry.contributions += 1;
    entry.duplicates += record.report.duplicates.length;
    entry.rejections += record.report.rejections.length;
    if (!entry.licences.includes(record.licence)) entry.licences.push(record.licence);
  }
  const byContributor = new Map<string, SnapshotRow[]>();
  for (const row of rows) {
    const entry = entryOf(row.contributor);
    entry.rows += 1;
    entry.bytes += row.bytes;
    if (row.label === undefined) entry.unlabelled += 1;
    else entry.labels[labelKey(row.label)] = (entry.labels[labelKey(row.label)] ?? 0) + 1;
    const owned = byContributor.get(row.contributor);
    if (owned) owned.push(row);
    else byContributor.set(row.contributor, [row]);
  }
  const contributors: ContributorSummary[] = [...table.entries()].map(([contributor, e]) =>
    Object.freeze({ contributor, ...e, labels: Object.freeze(e.labels), licences: Object.freeze(e.licences) }),
  );
  Object.freeze(contributors);
  const bytes = rows.reduce((a, r) => a + r.bytes, 0);
  progress.tick(3, undefined, 'contributor table built');

  const classIndex = new Map(classes.map((c, i) => [JSON.stringify(c), i]));
  const rowById = (id: RowId): SnapshotRow => {
    const i = position.get(id);
    if (i === undefined) {
      throw new ProvenantError('DATANET_ROW_NOT_FOUND', 'No row with this id in the snapshot.', {
        metaMessages: [`id: ${id}`, `snapshot: ${name} v${version} (root ${root})`],
        data: { id, version, root },
      });
    }
    return rows[i]!;
  };

  const snapshot: DatanetSnapshot = {
    name,
    schema,
    version,
    root,
    leafTypes: DATANET_LEAF_TYPES,
    size: rows.length,
    bytes,
    rows,
    contributions: Object.freeze(contributions.slice()),
    contributors,
    classes,
    has: (id) => position.has(id),
    indexOf: (id) => position.get(id) ?? -1,
    getRow: rowById,
    rowsOf: (contributor) => Object.freeze((byContributor.get(contributor) ?? (isAddressLike(contributor) ? byContributor.get(contributor.toLowerCase()) : undefined) ?? []).slice()),
    labelIndices: () => Int32Array.from(rows, (r) => (r.label === undefined ? -1 : classIndex.get(JSON.stringify(r.label))!)),
    getProof(idOrIndex) {
      let index: number;
      if (typeof idOrIndex === 'number') {
        if (!Number.isInteger(idOrIndex) || idOrIndex < 0 || idOrIndex >= rows.length) {
          throw new ProvenantError('DATANET_ROW_NOT_FOUND', `Row position ${idOrIndex} is outside the snapshot [0, ${rows.length}).`, { data: { index: idOrIndex } });
        }
        index = idOrIndex;
      } else index = rowById(idOrIndex).index;
      return tree!.getProof(index);
    },
    verifyRow: (rowOrId, proof) => rows.length > 0 && verifyDatanetRow(root, rowOrId, proof),
    split(options) {
      if (options === null || typeof options !== 'object') throw new ProvenantError('DATANET_SPLIT_INVALID', 'split() needs { seed, fractions }.');
      const { seed, stratifyBy, groupBy } = options;
      if (stratifyBy !== undefined && stratifyBy !== 'label') {
        throw new ProvenantError('DATANET_SPLIT_INVALID', '`stratifyBy` must be "label" or undefined.', { metaMessages: [`stratifyBy: ${String(stratifyBy)}`] });
      }
      if (groupBy !== undefined && groupBy !== 'contributor') {
        throw new ProvenantError('DATANET_SPLIT_INVALID', '`groupBy` must be "contributor" or undefined.', { metaMessages: [`groupBy: ${String(groupBy)}`] });
      }
      const [train, validation, test] = resolveFractions(options.fractions);
      const parts = splitIndices({
        n: rows.length,
        seed,
        fractions: { train, validation, test },
        // JSON keys keep the label 7 and the label "7" in different strata.
        strata: stratifyBy ? rows.map((r) => (r.label === undefined ? '' : JSON.stringify(r.label))) : undefined,
        groups: groupBy ? rows.map((r) => r.contributor) : undefined,
      });
      const part = (indices: number[]): SplitPart => Object.freeze({ indices: Object.freeze(indices), rows: Object.freeze(indices.map((i) => rows[i]!)) });
      const fractions = Object.freeze({ train, validation, test });
      const digest = keccak256(
        canonicalJson({ root, seed, fractions, stratifyBy: stratifyBy ?? null, groupBy: groupBy ?? null, train: parts.train, validation: parts.validation, test: parts.test }),
      );
      return Object.freeze({
        train: part(parts.train),
        validation: part(parts.validation),
        test: part(parts.test),
        seed,
        fractions,
        ...(stratifyBy ? { stratifyBy } : {}),
        ...(groupBy ? { groupBy } : {}),
        digest,
      });
    },
    splitBy(assign, options) {
      if (typeof assign !== 'function' || typeof options?.rule !== 'string' || options.rule.trim() === '') {
        throw new ProvenantError('DATANET_SPLIT_INVALID', 'splitBy needs an assign(row) function and { rule } describing it.');
      }
      const parts: Record<SplitPartName, number[]> = { train: [], validation: [], test: [] };
      rows.forEach((row, i) => {
        const name = assign(row);
        if (name !== 'train' && name !== 'validation' && name !== 'test') {
          throw new ProvenantError('DATANET_SPLIT_INVALID', `splitBy's rule sent row ${i} to ${JSON.stringify(name)}; use "train", "validation" or "test".`, {
            data: { index: i, id: row.id },
          });
        }
        parts[name].push(i);
      });
      const n = Math.max(1, rows.length);
      const part = (indices: number[]): SplitPart => Object.freeze({ indices: Object.freeze(indices), rows: Object.freeze(indices.map((i) => rows[i]!)) });
      return Object.freeze({
        train: part(parts.train),
        validation: part(parts.validation),
        test: part(parts.test),
        fractions: Object.freeze({ train: parts.train.length / n, validation: parts.validation.length / n, test: parts.test.length / n }),
        rule: options.rule,
        digest: keccak256(canonicalJson({ root, rule: options.rule, train: parts.train, validation: parts.validation, test: parts.test })),
      });
    },
    summary() {
      const labels = dict<number>();
      for (const row of rows) if (row.label !== undefined) labels[labelKey(row.label)] = (labels[labelKey(row.label)] ?? 0) + 1;
      const rejectionsByCode: Partial<Record<RowRejectionCode, number>> = {};
      let submitted = 0;
      for (const record of contributions) {
        submitted += record.report.submitted;
        for (const r of record.report.rejections) rejectionsByCode[r.code] = (rejectionsByCode[r.code] ?? 0) + 1;
      }
      return {
        name,
        version,
        root,
        leafTypes: [...DATANET_LEAF_TYPES],
        schema,
        rows: rows.length,
        bytes,
        contributions: contributions.length,
        submitted,
        duplicatesRemoved: contributors.reduce((a, c) => a + c.duplicates, 0),
        rejections: contributors.reduce((a, c) => a + c.rejections, 0),
        rejectionsByCode,
        labels,
        contributors: contributors.map((c) => ({
          contributor: c.contributor,
          rows: c.rows,
          bytes: c.bytes,
          labels: { ...c.labels },
          duplicates: c.duplicates,
          rejections: c.rejections,
        })),
      };
    },
  };
  return Object.freeze(snapshot);
}
