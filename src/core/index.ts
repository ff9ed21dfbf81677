export { ProvenantError, isProvenantError, assertArgument, describeValue } from './errors.js';
export type { ProvenantErrorCode, ProvenantErrorOptions } from './errors.js';
export { createRng, seedToUint32, shuffle, permutation, sampleIndices, randomSplit, apportion } from './rng.js';
export type { Rng, Seed } from './rng.js';
export {
  keccak256,
  keccak256Bytes,
  sha256,
  sha256Bytes,
  createSha256,
  bytesToHex,
  hexToBytes,
  isHex,
  utf8Bytes,
  concatBytes,
  compareBytes,
} from './hash.js';
export type { Hex } from './hash.js';
export { canonicalJson } from './canonical-json.js';
export { abiEncode, createAbiEncoder, parseAbiType } from './abi.js';
export type { AbiEncoder } from './abi.js';
export {
  merkleTree,
  standardLeafHash,
  standardLeafHashBytes,
  hashPair,
  processMerkleProof,
  processMerkleMultiProof,
  verifyMerkleProof,
} from './merkle.js';
export type { MerkleTree, MerkleMultiProof, MerkleTreeDump, MerkleTreeOptions } from './merkle.js';
export { createProgressReporter } from './progress.js';
export type { ProgressEvent, ProgressCallback } from './progress.js';
export { packageRequirers } from './package-requirers.js';
export { looksLikePrivateKey, isAccountLike, redactHexSecrets, redactingReplacer } from './redact.js';
export { writeFileAtomic, writeFileAtomicSync, writeFolderAtomic, committedFolder, readFileChecked, readTextFileChecked, fileError } from './atomic-write.js';
export type { FileContents } from './atomic-write.js';
export { findDuplicateJsonKey, parseJsonStrict } from './strict-json.js';
export { dict, entriesOf } from './dict.js';
export { resolve, describe, defaultOf, fieldPaths, nearestField, checks, withDefaults } from './params.js';
export type { ParamTable, ParamField, ParamLeaf, ParamGroup, ParamCheck, ParamRow } from './params.js';
export { scanJson } from './strict-json.js';
export type { JsonScanVisitor } from './strict-json.js';
export { embeddedWasm } from './embedded-wasm.js';
export type { EmbeddedWasm } from './embedded-wasm.js';
