/**
 * Which store files and NDJSON directories the sinks of this thread are writing. DuckDB's file lock keeps out other
 * processes, but not a second instance in the same process (POSIX locks are per process): two sinks on one store,
 * e.g. `--sink duckdb --sink duckdb:SAME`, would each write their own view of the file and lose the other's rows
 * without an error. The NDJSON sink has no lock of its own. A sink claims its target on open and releases it on
 * close; a WorkerSink claims it on the main thread, where every sink of a collector is made.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BsmkitError } from '../errors.js';

const held = new Map<string, object>();

/** The NDJSON sink's default file name prefix. */
export const DEFAULT_NDJSON_PREFIX = 'bsmkit';

/** The path with its directory's symlinks resolved (the file itself may not exist yet). */
function canonical(path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  return existsSync(dir) ? join(realpathSync(dir), basename(abs)) : abs;
}

/**
 * Claims `target` (a store file, or an NDJSON directory plus prefix) for `owner`; again by the same owner is fine.
 * Throws `code` when another sink of this thread holds it. Returns the key to release it with.
 */
export function claimTarget(target: string, owner: object, code: string, what: string): string {
  const key = canonical(target);
  const by = held.get(key);
  if (by !== undefined && by !== owner) {
    throw new BsmkitError(code, `${what}: already written by another sink in this process (one sink per store or NDJSON directory and prefix)`);
  }
  held.set(key, owner);
  return key;
}

/** Releases a claim (the key claimTarget returned); a no-op when `owner` does not hold it. */
export function releaseTarget(key: string | undefined, owner: object): void {
  if (key !== undefined && held.get(key) === owner) held.delete(key);
}

/** The claim of an NDJSON sink: its files' pattern in `dir`. */
export function ndjsonTarget(dir: string, prefix: string): string {
  return join(dir, `${prefix}-*.ndjson`);
}
