// `bsmkit reduce -c ex`: class preselection on the header (au_preselect, both outcomes), then the return token's
// outcome for the records that pass; binary output counted and discarded.
import { createReadStream, statSync } from 'node:fs';
import { dist } from '../dist-path.mjs';

export const description = 'reduce -c ex (event class from the header, outcome from the return token)';

export default async function reduceCEx({ file }) {
  return runReduceScenario(file, ['--platform', 'openbsm', '-c', 'ex']);
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
