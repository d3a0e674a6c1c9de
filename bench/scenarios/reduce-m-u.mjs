// `bsmkit reduce -m AUE_EXECVE -u 501`: the compiled selection over a whole trail, binary output counted and
// discarded. Only execve records (the header's event) are walked to their subject token; nothing is decoded.
import { createReadStream, statSync } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'reduce -m AUE_EXECVE -u 501 (header event, then subject auid in place)';

export default async function reduceMU({ file }) {
  return runReduceScenario(file, ['--platform', 'openbsm', '-m', 'AUE_EXECVE', '-u', '501']);
}

/** The library path of `bsmkit reduce`: parse argv, compile, runReduce over 1 MiB chunks; output counted. */
async function runReduceScenario(file, argv) {
  const { parseReduceArgs } = await import(dist('select/parse-args.js'));
  const { compileSelection } = await import(dist('select/compile.js'));
  const { runReduce } = await import(dist('select/reduce-run.js'));
  const sel = compileSelection(parseReduceArgs(argv).select);
  let outBytes = 0;
  const stats = await runReduce(
    [{ name: file, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) }],
    sel,
    (chunk) => {
      outBytes += chunk.length;
    },
    { batch: true },
  );
  return { bytes: statSync(file).size, records: stats.records, selected: stats.selected, outBytes, errors: stats.errors };
}
