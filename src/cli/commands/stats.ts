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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BsmkitError('BSMKIT_E_STATE', `${path}: ${code === 'ENOENT' ? 'no collector state here (is this a bsmkit collect spool? a collector writes it once it has started)' : (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BsmkitError('BSMKIT_E_STATE', `${path}: not a collector state file (not valid JSON: ${(err as Error).message})`);
  }
  const problem = stateProblem(parsed);
  if (problem) throw new BsmkitError('BSMKIT_E_STATE', `${path}: not a collector state file (${problem})`);
  const s = parsed as CollectorStats;
  // A collector killed without its shutdown still says "running": check its process.
  if (s.status === 'running' && !alive(s.pid)) s.status = 'stopped';
  if (values.json) io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  else if (values.prometheus) io.stdout.write(prometheusText(s));
  else io.stdout.write(formatReport(s));
  return 0;
}

/** What makes `v` unusable as a collector state (the report and the metrics read these fields), or undefined. */
function stateProblem(v: unknown): string | undefined {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(v)) return 'not a JSON object';
  const need: Array<[string, (x: unknown) => boolean, string]> = [
    ['pid', (x) => Number.isInteger(x), 'a number'],
    ['status', (x) => x === 'running' || x === 'stopped', '"running" or "stopped"'],
    ['mode', (x) => typeof x === 'string', 'a string'],
    ['records', (x) => isObj(x) && ['live', 'recovered', 'trail', 'pipeOnly', 'total'].every((k) => typeof x[k] === 'number'), 'the record counts'],
    ['lost', isObj, 'an object'],
    ['lossEvents', isObj, 'an object'],
    ['damage', isObj, 'an object'],
    ['kernel', isObj, 'an object'],
    ['spool', isObj, 'an object'],
    ['backlog', isObj, 'an object'],
    ['sinks', (x) => Array.isArray(x) && x.every(isObj), 'a list'],
    ['losses', Array.isArray, 'a list'],
    ['errors', Array.isArray, 'a list'],
  ];
  for (const [k, ok, what] of need) if (!ok(v[k])) return v[k] === undefined ? `no '${k}'` : `'${k}' is not ${what}`;
  return undefined;
}
