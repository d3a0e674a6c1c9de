/**
 * `bsmkit demo`: what `npm start` runs. Prints the bundled sample trail (four days of kernel-shaped activity of one
 * host) like `praudit -n`, then a validation summary.
 */
import { fileURLToPath } from 'node:url';
import { printInputs } from '../print-inputs.js';
import { builtinEventTable } from '../../catalog/event-table.js';
import type { CliIo } from '../io.js';

export const summary = 'demonstration on the bundled sample trail (what npm start runs)';

export const SAMPLE = fileURLToPath(new URL('../../../samples/realistic.bsm', import.meta.url));

export async function run(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('usage: bsmkit demo\n\nPrints the bundled sample trail like praudit -n, then checks it.\n');
    return 0;
  }
  const events = builtinEventTable('openbsm');
  io.stdout.write(`# bsmkit print -n ${SAMPLE}\n`);
  await printInputs([SAMPLE], { kind: 'praudit', options: { noResolve: true, events, timeZone: 'UTC' } }, io, { progress: false });
  io.stdout.write(`\n# bsmkit print --validate ${SAMPLE}\n`);
  const t = await printInputs([SAMPLE], { kind: 'validate' }, io, { progress: false });
  return t.errors > 0 ? 2 : 0;
}
