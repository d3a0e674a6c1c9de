/**
 * Safe replacement of configuration files: the new content goes to a temporary file in the same directory (same
 * file system, so rename() is atomic), is fsync'd with the original's mode and owner, and is renamed over the
 * original; the directory is fsync'd so the rename itself is durable. A crash at any point leaves either the old
 * or the new file under the real name, never a partial one.
 */
import { open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BsmkitError } from '../errors.js';
import { processAlive as alive } from '../process-alive.js';

/**
 * Testing hook: when this environment variable names the file being replaced (its base name, or `*`), the writer
 * stops between fsync'ing the temporary file and renaming it, after printing `bsmkit: paused before rename TMP`
 * on stderr, so a test can kill the process exactly there.
 */
export const PAUSE_ENV = 'BSMKIT_TEST_PAUSE_BEFORE_RENAME';

function tempName(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.bsmkit-${tag}.${process.pid}.tmp`);
}

const TEMP_RE = /^\.(.+)\.bsmkit-[a-z]+\.([0-9]+)\.tmp$/;

/** Removes temporary files left by bsmkit writers that died (their pid no longer runs). Returns their paths. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || alive(Number(m[2]))) continue;
    try {
      await unlink(join(dir, n));
      removed.push(join(dir, n));
    } catch {
      // Gone already, or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}

async function fsyncDir(dir: string): Promise<void> {
  let h;
  try {
    h = await open(dir, 'r');
    await h.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await h?.close();
  }
}

async function pauseIfAsked(path: string, tmp: string, stderr: NodeJS.WritableStream): Promise<void> {
  const want = process.env[PAUSE_ENV];
  if (!want || (want !== '*' && want !== basename(path))) return;
  stderr.write(`bsmkit: paused before rename ${tmp}\n`);
  await new Promise((r) => setTimeout(r, 60_000));
}

export interface ReplaceOptions {
  /** The bytes the file is expected to still hold; if someone changed it meanwhile, nothing is replaced. */
  expected?: Buffer;
  /** Where to keep a copy of the current content first (written the same safe way). */
  backupPath?: string;
  /** For the testing pause message. */
  stderr?: NodeJS.WritableStream;
}

/** Writes `content` to a sibling temporary file with `mode`/owner, fsync'd, and renames it to `path`. */
async function writeAndRename(
  path: string,
  content: Buffer,
  mode: number,
  owner: { uid: number; gid: number } | undefined,
  tag: string,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const tmp = tempName(path, tag);
  let renamed = false;
  try {
    const h = await open(tmp, 'wx', mode);
    try {
      await h.writeFile(content);
      await h.chmod(mode); // the umask applied at open() may have cleared bits
      if (owner && process.getuid?.() === 0) await h.chown(owner.uid, owner.gid);
      await h.sync();
    } finally {
      await h.close();
    }
    await beforeRename?.();
    await rename(tmp, path);
    renamed = true;
    await fsyncDir(dirname(path));
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}

/** Replaces an existing file atomically, keeping its mode and owner. */
export async function replaceFileAtomically(path: string, content: string | Buffer, opts: ReplaceOptions = {}): Promise<void> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_CATALOG_WRITE', `cannot replace ${path}: ${(err as Error).message}`, { cause: err });
  }
  const mode = st.mode & 0o7777;
  const owner = { uid: st.uid, gid: st.gid };
  try {
    if (opts.backupPath) {
      const current = await readFile(path);
      await writeAndRename(opts.backupPath, current, mode, owner, 'bak');
    }
    await writeAndRename(path, bytes, mode, owner, 'new', async () => {
      await pauseIfAsked(path, tempName(path, 'new'), opts.stderr ?? process.stderr);
      if (opts.expected) {
        const now = await readFile(path);
        if (!now.equals(opts.expected)) {
          throw new BsmkitError('BSMKIT_E_CONCURRENT_EDIT', `${path} changed while it was being edited; nothing replaced`);
        }
      }
    });
  } catch (err) {
    if (err instanceof BsmkitError) throw err;
    throw new BsmkitError('BSMKIT_E_CATALOG_WRITE', `cannot replace ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * An advisory lock for a configuration directory (one bsmkit editor at a time). A lock whose owner died is taken
 * over. Returns the release function.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, '.bsmkit-catalog.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BsmkitError('BSMKIT_E_CATALOG_WRITE', `cannot lock ${dir}: ${(err as Error).message}`, { cause: err });
      }
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new BsmkitError('BSMKIT_E_LOCKED', `${dir} is being edited by process ${pid} (${path})`);
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new BsmkitError('BSMKIT_E_LOCKED', `cannot take the lock ${path}`);
}
