/**
 * Audit data is sensitive: every file a sink creates is mode 0600 and every directory it creates 0700, whatever
 * the process umask.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { BsmkitError } from '../errors.js';

/** Creates `dir` (and parents) as 0700 when missing; an existing directory is left as it is. */
export function ensurePrivateDir(dir: string, code: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BsmkitError(code, `cannot create directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Sets mode 0600 on `path` when it exists and is not already 0600. */
export function makePrivate(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if ((st.mode & 0o777) !== 0o600) chmodSync(path, 0o600);
}

/**
 * Runs `fn` with umask 077, so files that a library creates itself (DuckDB's database and WAL) are born 0600.
 * umask is per process and cannot be set in a worker thread; there `fn` just runs, and makePrivate() afterwards
 * is the safeguard.
 */
export async function withPrivateUmask<T>(fn: () => Promise<T>): Promise<T> {
  if (!isMainThread) return fn();
  // Overlapping calls (several sinks) share one saved umask, restored when the last one ends.
  if (depth++ === 0) savedUmask = process.umask(0o077);
  try {
    return await fn();
  } finally {
    if (--depth === 0) process.umask(savedUmask);
  }
}

let depth = 0;
let savedUmask = 0;
