/**
 * One collector per spool: DIR/collect.lock, created exclusively, holds the collector's pid. Two collectors on one
 * spool would both append to the same segments and overwrite each other's checkpoints.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { uptime } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import { processAlive } from '../process-alive.js';

const LOCK_FILE = 'collect.lock';

/**
 * Claims the spool for this process. A lock whose process is gone (SIGKILL, power loss), or held by this process
 * already, is taken over. Returns the release function (it removes the lock only while it names this process).
 */
export function lockSpool(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_SPOOL', `cannot create spool directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        throw new BsmkitError('BSMKIT_E_SPOOL', `cannot lock spool ${dir}: ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    let pid = NaN;
    let age = Infinity;
    try {
      pid = Number(readFileSync(path, 'utf8').trim());
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      /* removed in between: try again */
    }
    // An empty lock younger than a few seconds is another collector between creating it and writing its pid.
    const busy = Number.isInteger(pid) && pid > 0 ? pid !== process.pid && isCollector(pid, age) : age < 5000;
    if (busy) {
      throw new BsmkitError(
        'BSMKIT_E_SPOOL_BUSY',
        `spool ${dir} is in use by another bsmkit collect (pid ${Number.isInteger(pid) ? pid : 'unknown'}, ${path}): stop it, or give this collector its own --spool`,
      );
    }
    try {
      unlinkSync(path); // stale: its collector is gone
    } catch {
      /* someone else removed it */
    }
  }
}

/**
 * Whether the process named by a lock `ageMs` old is a running collector. After a reboot or a crash its pid may
 * belong to another process: a lock older than the system's uptime, or a pid whose command line does not say
 * `collect`, is stale.
 */
function isCollector(pid: number, ageMs: number): boolean {
  if (!processAlive(pid)) return false;
  if (ageMs > uptime() * 1000) return false;
  try {
    const command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return command.includes('collect');
  } catch {
    return true; // no ps: trust the pid
  }
}
