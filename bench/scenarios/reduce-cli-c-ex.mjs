// `bsmkit reduce --platform openbsm -c ex FILE | (count bytes)`: the built CLI end to end in its own process
// (startup, table loading, reading, selection, binary output into a pipe). Compare with reduce-cat.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dist } from '../dist-path.mjs';
import { countStdout } from './reduce-cat.mjs';

export const description = 'bsmkit reduce -c ex FILE | (count bytes): the CLI as a user runs it; compare reduce-cat';

export default async function reduceCliCEx({ file }) {
  const outBytes = await countStdout(process.execPath, [fileURLToPath(dist('cli/main.js')), 'reduce', '--platform', 'openbsm', '-c', 'ex', file]);
  return { bytes: statSync(file).size, records: 0, outBytes };
}
