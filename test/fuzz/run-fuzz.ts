/**
 * npm run fuzz [-- --cases N --from SEED]: millions of seeded damage cases (test/fuzz/fuzz-case.ts).
 * Prints progress and stops at the first failing seed, which reproduces with --from SEED --cases 1.
 */
import { parseArgs } from 'node:util';
import { runFuzzCase } from './fuzz-case.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '2000000' }, from: { type: 'string', default: '1' } } });
const cases = Number(values.cases);
const from = Number(values.from);
const t0 = Date.now();
for (let i = 0; i < cases; i++) {
  const seed = from + i;
  try {
    runFuzzCase(seed);
  } catch (err) {
    console.error(`FAIL at seed ${seed}: ${(err as Error).message}`);
    process.exit(1);
  }
  if ((i + 1) % (cases >= 1e6 ? 100000 : 1000) === 0) console.log(`${i + 1} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`${cases} cases passed (seeds ${from}..${from + cases - 1}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
