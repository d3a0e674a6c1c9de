// Scenarios load the compiled library from dist/ (npm run bench builds it first).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** file: URL of a module under dist/, e.g. dist('format/read-file.js'); throws a clear error when not built. */
export function dist(rel) {
  const p = join(repoRoot, 'dist', rel);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run build\` (npm run bench does it for you)`);
  return pathToFileURL(p).href;
}
