/**
 * A cross-process lock on a file: `<path>.lock`, created with O_CREAT|O_EXCL (exactly one process succeeds), holding
 * the owner's pid, host and a random token. Critical sections are short and synchronous (read, change, atomic write),
 * so the lock is synchronous too and never held across an `await`.
 *
 * Stale-lock recovery: a lock whose owner is a dead process on this host, or which is older than `staleMs` (an owner on
 * another host, or a hung one), is broken by renaming it to a unique name — rename is atomic, so of two processes
 * breaking the same stale lock only one gets it; the other finds a *fresh* lock under the renamed name (its token
 * differs from the stale one it judged) and puts it back.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ProvenantError } from '../core/index.js';

export interface FileLockOptions {
  /** A lock older than this is stale whoever holds it. Default 30,000 ms (critical sections take milliseconds). */
  staleMs?: number;
  /** Give up acquiring after this long (CHAIN_QUEUE_INVALID). Default 60,000 ms. */
  timeoutMs?: number;
}

interface LockContent {
  pid: number;
  host: string;
  token: string;
  at: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * True when a process with this pid exists on this host (EPERM: it exists but is not ours).
 *
 * @example
 * ```ts
 * import { processAlive } from 'provenant/chain';
 * processAlive(process.pid); // true
 * ```
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockContent | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockContent;
  } catch {
    return null; // gone, or being written this instant (treated as held, judged again next round)
  }
}

function isStale(lock: LockContent, staleMs: number): boolean {
  if (Date.now() - lock.at > staleMs) return true;
  return lock.host === hostname() && lock.pid !== process.pid && !processAlive(lock.pid);
}

function tryBreak(lockPath: string, stale: LockContent): void {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else broke (or released) it first
  }
  const moved = readLock(aside);
  if (moved && moved.token !== stale.token) {
    // We moved a fresh lock taken after the stale one was broken by someone else: put it back.
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a third process holds the lock now; the moved owner will find its lock gone at release, harmlessly */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

/**
 * Runs `fn` while holding the lock on `path` (the lock file is `<path>.lock`), and returns its result.
 *
 * @example
 * ```ts
 * import { readFileSync, writeFileSync } from 'node:fs';
 * import { withFileLock } from 'provenant/chain';
 * withFileLock('./queue.json', () => {
 *   const queue = JSON.parse(readFileSync('./queue.json', 'utf8')) as { jobs: unknown[] };
 *   writeFileSync('./queue.json', JSON.stringify({ jobs: [...queue.jobs, { kind: 'snapshot' }] }));
 * }); // no other process writes queue.json in between
 * ```
 */
export function withFileLock<T>(path: string, fn: () => T, options: FileLockOptions = {}): T {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const lockPath = `${path}.lock`;
  const mine: LockContent = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex'), at: 0 };
  for (let round = 0; ; round++) {
    try {
      const fd = openSync(lockPath, 'wx');
      try {
        mine.at = Date.now();
        writeSync(fd, JSON.stringify(mine));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = readLock(lockPath);
    if (held && isStale(held, staleMs)) {
      tryBreak(lockPath, held);
      continue;
    }
    if (!held) {
      // Empty or unreadable: an owner that died between creating and writing it, once it is old enough.
      const mtime = (() => {
        try {
          return statSync(lockPath).mtimeMs;
        } catch {
          return Date.now();
        }
      })();
      if (Date.now() - mtime > staleMs) {
        tryBreak(lockPath, { pid: -1, host: '', token: '', at: mtime });
        continue;
      }
    }
    if (Date.now() > deadline) {
      throw new ProvenantError('CHAIN_QUEUE_INVALID', `Could not lock ${path} within ${options.timeoutMs ?? 60_000} ms.`, {
        metaMessages: held ? [`held by pid ${held.pid} on ${held.host} since ${new Date(held.at).toISOString()}`] : [],
        details: `Another process holds ${lockPath}. If none does, delete the lock file.`,
        data: { path: lockPath },
      });
    }
    sleepSync(Math.min(2 + round, 20));
  }
  try {
    return fn();
  } finally {
    const current = readLock(lockPath);
    if (current?.token === mine.token) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* broken as stale by someone else */
      }
    }
  }
}
