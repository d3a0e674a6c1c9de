/** Where the store is when no path is given (docs/store.md, "Where it is"); no DuckDB needed to know it. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a collector running as root keeps its store (the BSD/macOS convention for daemon state). */
export const DEFAULT_STORE_PATH = '/var/db/bsmkit/store.duckdb';

/**
 * The store path `bsmkit collect` and `bsmkit query` use when none is given: `$BSMKIT_STORE` when set, else
 * DEFAULT_STORE_PATH for root, else `$XDG_STATE_HOME/bsmkit/store.duckdb` (default `~/.local/state/…`).
 */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.BSMKIT_STORE) return env.BSMKIT_STORE;
  if (uid === 0) return DEFAULT_STORE_PATH;
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'bsmkit', 'store.duckdb');
}
