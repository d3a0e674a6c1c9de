import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BsmkitError, UsageError } from '../../errors.js';
import { formatReport, prometheusText, type CollectorStats } from '../../collector/accounting.js';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { processAlive as alive } from '../../process-alive.js';

export const summary = "show a running or stopped collector's accounting (from its spool's state file)";

const usage = `usage: bsmkit stats [--spool DIR] [--json | --prometheus]

Reads DIR/state.json, which bsmkit collect rewrites every half second, and prints the report: records live,
recovered, trail-only, pipe-only and lost by reason, kernel drops, spool backlog and per-sink lag.

  --spool DIR     the collector's spool directory (default /var/db/bsmkit/spool)
  --json          the state as JSON
  --prometheus    Prometheus text
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs({
    args: argv,
    options: { spool: { type: 'string' }, json: { type: 'boolean' }, prometheus: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const dir = values.spool ? resolve(io.cwd, values.spool) : '/var/db/bsmkit/spool';
  const path = join(dir, 'state.json');
  let s: CollectorStats;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as CollectorStats;
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_STATE', `${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no collector state here (is this a bsmkit collect spool?)' : (err as Error).message}`);
  }
  // A collector killed without its shutdown still says "running": check its process.
  if (s.status === 'running' && !alive(s.pid)) s.status = 'stopped';
  if (values.json) io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  else if (values.prometheus) io.stdout.write(prometheusText(s));
  else io.stdout.write(formatReport(s));
  return 0;
}
