/**
 * Datanets: contributor-owned rows, validated, deduplicated by content, snapshotted under a Merkle root, split,
 * exported, and built from real public data sets.
 */
export type {
  ContributionRecord,
  ContributionReport,
  Contribution,
  DatanetSchema,
  ImageInput,
  InputKind,
  JsonValue,
  Label,
  Row,
  RowDuplicate,
  RowInput,
  RowRejection,
  RowRejectionCode,
  StoredRow,
} from './types.js';
export { resolveSchema, isLabel } from './schema.js';
export type { ResolvedSchema } from './schema.js';
export { validateRow, normalizeMetadata } from './validate-row.js';
export type { RowValidation } from './validate-row.js';
export { rowId, rowContentJson } from './row-hash.js';
export type { RowId } from './row-hash.js';
export { normalizeContributor, checksumAddress, isAddressLike, syntheticAddress } from './contributor.js';
export { createDatanet, normalizeTimestamp } from './datanet.js';
export type { AddContributionOptions, CreateDatanetOptions, Datanet, DatanetRow } from './datanet.js';
export { DATANET_LEAF_TYPES, EMPTY_DATANET_ROOT, verifyDatanetRow } from './snapshot.js';
export type {
  ContributorSummary,
  DatanetSnapshot,
  DatanetSplit,
  DatanetSummary,
  SnapshotRow,
  SnapshotSplitOptions,
  SplitPart,
  SplitPartName,
} from './snapshot.js';
export { splitIndices } from './split.js';
export type { SplitFractions, SplitIndices, SplitIndicesOptions } from './split.js';
export {
  DATANET_JSONL_FORMAT,
  DATANET_JSONL_FORMAT_VERSION,
  exportJsonl,
  exportJsonlLines,
  importJsonl,
  importJsonlStream,
  writeJsonlFile,
} from './jsonl.js';
export type { ImportJsonlOptions, ImportJsonlResult, JsonlSource, JsonlSkippedLine } from './jsonl.js';
export { fromSpamAssassin, SPAM_ASSASSIN_GROUPS, SPAM_ASSASSIN_PACKAGE, spamAssassinLabel } from './spam-assassin.js';
export type { FromSpamAssassinOptions, SpamAssassinDatanet, SpamAssassinGroundTruth, SpamAssassinGroup, SpamLabel } from './spam-assassin.js';
export { fromMnist, MNIST_PACKAGE, MNIST_PIXELS, MNIST_SIDE } from './mnist.js';
export type { FromMnistOptions, MnistDatanet, MnistExample } from './mnist.js';
export { fromText, chunkText, normalizeProse, TEXT_SOURCES } from './text.js';
export type { ChunkOptions, FromTextOptions, Passage, TextDatanet, TextSource } from './text.js';
export { parseEmail, htmlToText, decodeQuotedPrintable, decodeEncodedWords } from './email.js';
export type { ParsedEmail } from './email.js';
export { toMatrix } from './matrix.js';
export type { RowMatrix, RowMatrixOptions } from './matrix.js';
export { JSONL_DEFAULT_MAX_LINE_BYTES, JSONL_DEFAULT_MAX_ROW_BYTES } from './jsonl.js';
export { decodeCharset, charsetSupported } from './charset.js';
export type { JsonlRejectedRow } from './jsonl.js';

// The error class and its guard, so a user of this entry alone can branch on `code` without importing the root (which loads tfjs).
export { ProvenantError, isProvenantError, type ProvenantErrorCode } from '../core/index.js';
