/**
 * Crash-safe file writes. A plain `writeFile` killed midway leaves a truncated file where the previous good one was;
 * here every file is written to a temporary name in the same folder, flushed (`fsync`), renamed over the target (rename
 * within one file system is atomic on POSIX), and the folder itself is flushed so the rename survives a power cut. A
 * reader therefore sees the old bytes or the new bytes, never a mix.
 *
 * A folder of several files (a PEFT adapter: `adapter_config.json` + `adapter_model.safetensors`) cannot be replaced by
 * per-file renames alone: a kill between the two renames pairs the new weights with the old configuration. So
 * {@link writeFolderAtomic} stages the whole new set in a hidden sub-folder, commits it with one directory rename
 * (`.provenant-pending`), copies the files into place one by one, then retires the pending folder. Until it is retired,
 * {@link committedFolder} points readers at the complete pending set; before the commit they read the old set.
 * Node only (node:fs).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ProvenantError, type ProvenantErrorCode } from './errors.js';

/** Bytes or text (written as UTF-8). */
export type FileContents = Uint8Array | string;

const PENDING = '.provenant-pending';
const STAGING_PREFIX = '.provenant-staging-';
const RETIRED_PREFIX = '.provenant-retired-';

const tempName = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
const asBytes = (data: FileContents): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

async function fsyncDirectory(dir: string): Promise<void> {
  // Some platforms (Windows) cannot open a directory for fsync; there the rename is already as durable as it gets.
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    /* best effort */
  } finally {
    await handle?.close();
  }
}

function fsyncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* best effort, see fsyncDirectory */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function writeAndSync(path: string, data: FileContents): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(asBytes(data));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically: temporary file in the same folder → fsync → rename → fsync of the folder.
 * Creates missing parent folders. A crash at any point leaves either the previous file or the new one.
 *
 * @throws `FILE_WRITE_FAILED` naming the path when the write cannot complete (the temporary file is removed).
 * @example
 * ```ts
 * import { writeAuditRecord, writeFileAtomic, type AuditRecord } from 'provenant';
 * declare const record: AuditRecord;
 * await writeFileAtomic('out/audit.json', writeAuditRecord(record));
 * ```
 */
export async function writeFileAtomic(path: string, data: FileContents): Promise<void> {
  const dir = dirname(path);
  const temp = tempName(path);
  try {
    await mkdir(dir, { recursive: true });
    await writeAndSync(temp, data);
    await rename(temp, path);
    await fsyncDirectory(dir);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    throw writeFailed(path, cause);
  }
}

/**
 * Synchronous {@link writeFileAtomic} (for code that must not yield, such as a queue file written under a lock):
 * temporary file in the same folder → fsync → rename → fsync of the folder, so a crash leaves the previous file or the
 * new one. Unlike the async form it does not create missing parent folders.
 *
 * @throws ProvenantError `FILE_WRITE_FAILED` naming the path when the write cannot complete (the temporary file is
 *   removed, the previous file is intact).
 * @example
 * ```ts
 * import { writeFileAtomicSync } from 'provenant';
 *
 * writeFileAtomicSync('out/queue.json', JSON.stringify({ items: [] }));
 * ```
 */
export function writeFileAtomicSync(path: string, data: FileContents): void {
  const dir = dirname(path);
  const temp = tempName(path);
  try {
    const fd = openSync(temp, 'wx', 0o644);
    try {
      const bytes = asBytes(data);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    fsyncDirectorySync(dir);
  } catch (cause) {
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
    throw writeFailed(path, cause);
  }
}

function writeFailed(path: string, cause: unknown): ProvenantError {
  const code = (cause as { code?: string } | null)?.code;
  return new ProvenantError('FILE_WRITE_FAILED', `Could not write ${path}${code ? ` (${code})` : ''}.`, {
    cause,
    data: { path, errno: code },
    details: 'Nothing was replaced: the previous file, if any, is intact.',
  });
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Replaces the files named in `files` inside folder `dir` so that a crash at any point leaves a complete set — the
 * previous one or the new one — for readers that go through {@link committedFolder}. Other files in `dir` are kept.
 * Order: stage all files in a hidden sub-folder and fsync them → rename it to `.provenant-pending` (the commit point) →
 * copy each file into place atomically → retire the pending folder (rename, then delete).
 *
 * @throws `FILE_WRITE_FAILED` naming the folder.
 * @example
 * ```ts
 * import { writeFolderAtomic, type FileContents } from 'provenant';
 * declare const json: FileContents;
 * declare const bytes: FileContents;
 * await writeFolderAtomic('adapters/spam', { 'adapter_config.json': json, 'adapter_model.safetensors': bytes });
 * ```
 */
export async function writeFolderAtomic(dir: string, files: Readonly<Record<string, FileContents>>): Promise<void> {
  const names = Object.keys(files);
  for (const name of names) {
    if (name.includes('/') || name.includes('\\') || name === '' || name === '.' || name === '..' || name.startsWith('.provenant-')) {
      throw new ProvenantError('INVALID_ARGUMENT', `Invalid file name "${name}" for writeFolderAtomic.`, { data: { name } });
    }
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw writeFailed(dir, cause);
  }
  // A previous save killed after its commit point: finish it first so its files are not lost under the new set.
  await finishPending(dir);
  await removeLeftovers(dir);
  const staging = join(dir, `${STAGING_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(staging);
    for (const name of names) await writeAndSync(join(staging, name), files[name]!);
    await fsyncDirectory(staging);
    await rename(staging, join(dir, PENDING));
    await fsyncDirectory(dir);
  } catch (cause) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw writeFailed(dir, cause);
  }
  await finishPending(dir);
}

async function finishPending(dir: string): Promise<void> {
  const pending = join(dir, PENDING);
  if (!(await exists(pending))) return;
  try {
    for (const name of await readdir(pending)) {
      await writeFileAtomic(join(dir, name), await readFile(join(pending, name)));
    }
    const retired = join(dir, `${RETIRED_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    await rename(pending, retired);
    await fsyncDirectory(dir);
    await rm(retired, { recursive: true, force: true });
  } catch (cause) {
    throw writeFailed(dir, cause);
  }
}

async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(STAGING_PREFIX) || name.startsWith(RETIRED_PREFIX)) {
      await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    } else if (name.startsWith('.') && name.endsWith('.tmp')) {
      await unlink(join(dir, name)).catch(() => undefined);
    }
  }
}

/**
 * The folder a reader should load from: `dir/.provenant-pending` while a {@link writeFolderAtomic} committed but not yet
 * finished (the complete new set), else `dir` itself. Never writes.
 *
 * @throws ProvenantError `FILE_NOT_FOUND` (or `code`) when `dir` is missing or not a folder; `FILE_READ_FAILED` for any
 *   other read failure.
 * @example
 * ```ts
 * import { committedFolder, readFileChecked } from 'provenant';
 *
 * const dir = await committedFolder('adapters/spam', 'ADAPTER_NOT_FOUND');
 * const bytes = await readFileChecked(`${dir}/adapter_model.safetensors`);
 * ```
 */
export async function committedFolder(dir: string, code: ProvenantErrorCode = 'FILE_NOT_FOUND'): Promise<string> {
  const pending = join(dir, PENDING);
  if (await exists(pending)) return pending;
  try {
    await readdir(dir);
  } catch (cause) {
    throw fileError(dir, cause, code, 'folder');
  }
  return dir;
}

/**
 * `readFile` with a typed answer: a missing file or folder is `FILE_NOT_FOUND` (or the caller's `code`) naming the
 * path, any other failure `FILE_READ_FAILED` — never a raw `ENOENT`.
 *
 * @example
 * ```ts
 * import { readFileChecked } from 'provenant';
 * const bytes = await readFileChecked('adapters/spam/adapter_model.safetensors', { code: 'ADAPTER_NOT_FOUND' });
 * ```
 */
export async function readFileChecked(path: string, options: { code?: ProvenantErrorCode; what?: string } = {}): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw fileError(path, cause, options.code ?? 'FILE_NOT_FOUND', options.what ?? 'file');
  }
}

/**
 * {@link readFileChecked} decoded as UTF-8 text.
 *
 * @throws ProvenantError `FILE_NOT_FOUND` (or `options.code`) naming the path when it is missing; `FILE_READ_FAILED`
 *   for any other failure.
 * @example
 * ```ts
 * import { readTextFileChecked } from 'provenant';
 *
 * const json = await readTextFileChecked('adapters/spam/adapter_config.json', { code: 'ADAPTER_NOT_FOUND', what: 'adapter config' });
 * JSON.parse(json).r; // e.g. 8
 * ```
 */
export async function readTextFileChecked(path: string, options: { code?: ProvenantErrorCode; what?: string } = {}): Promise<string> {
  return Buffer.from(await readFileChecked(path, options)).toString('utf8');
}

/**
 * Maps a Node file-system error to a ProvenantError naming `path`: `ENOENT`/`ENOTDIR` become `notFoundCode`
 * (default `FILE_NOT_FOUND`), anything else `FILE_READ_FAILED`; the errno is kept in `data.errno` and the original error
 * as `cause`. Returns the error (does not throw it).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { fileError } from 'provenant';
 *
 * const text = await readFile('data/rows.jsonl', 'utf8').catch((cause: unknown) => {
 *   throw fileError('data/rows.jsonl', cause, 'FILE_NOT_FOUND', 'Datanet file');
 * });
 * ```
 */
export function fileError(path: string, cause: unknown, notFoundCode: ProvenantErrorCode = 'FILE_NOT_FOUND', what = 'file'): ProvenantError {
  const errno = (cause as { code?: string } | null)?.code;
  const missing = errno === 'ENOENT' || errno === 'ENOTDIR';
  return new ProvenantError(missing ? notFoundCode : 'FILE_READ_FAILED', missing ? `No ${what} at ${path}.` : `Could not read ${what} ${path}${errno ? ` (${errno})` : ''}.`, {
    cause,
    data: { path, errno },
  });
}
