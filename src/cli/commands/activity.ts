/**
 * `bsmkit activity [FILE...]`: process events (launch by fork/spawn/exec, terminate) as NDJSON: OCSF Process
 * Activity (--ocsf), ECS (--ecs), or bsmkit's own event objects (default). Mapping: docs/process-activity.md.
 */
import { toEcs } from '../../render/ecs/index.js';
import { toOcsf } from '../../render/ocsf/index.js';
import { UsageError } from '../../errors.js';
import type { ProcessEvent } from '../../activity/types.js';
import { write, type CliIo } from '../io.js';
import { parseCli, runTracker, statsText, trackerOptions } from './ps.js';

export const summary = 'process events (fork/spawn/exec launches, exits) as NDJSON: OCSF 1007 (--ocsf), ECS (--ecs) or native';

const HELP = `usage: bsmkit activity [--ocsf | --ecs] [options] [FILE...]

Rebuilds processes from the records of the input (stdin when no FILE, or FILE is -) and writes one JSON object per
process event, in time order: launches (fork, vfork, rfork, pdfork, posix_spawn, execve …) and terminations.

  --ocsf            OCSF Process Activity (class 1007): Launch with launch_type Fork/Exec/Spawn, Terminate
  --ecs             Elastic Common Schema process events
  (neither)         bsmkit's ProcessEvent objects
  --hostname NAME   the host the trail came from (OCSF device.hostname, ECS host.hostname)
  --no-failures     leave out failed fork/spawn/exec calls
  --reorder-ms N    how far out of time order records may arrive (default 1000)
  --stats           reconstruction counters on stderr
Exit status: 0 all good, 1 usage error, 2 damage found in the input (every intact record is still used).
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, {
    ocsf: { type: 'boolean' },
    ecs: { type: 'boolean' },
    hostname: { type: 'string' },
    'no-failures': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.ocsf && values.ecs) throw new UsageError('--ocsf and --ecs cannot be used together');
  const hostname = typeof values.hostname === 'string' ? values.hostname : undefined;
  const map: (e: ProcessEvent) => unknown = values.ocsf
    ? (e) => toOcsf(e, { hostname })
    : values.ecs
      ? (e) => toEcs(e, { hostname })
      : (e) => e;
  const out: string[] = [];
  const opts = trackerOptions(values);
  if (values['no-failures']) opts.failures = false;
  const { tracker, errors } = await runTracker(positionals, io, opts, (e) => out.push(JSON.stringify(map(e)) + '\n'), out);
  if (values.stats) await write(io.stderr, statsText(tracker.stats));
  return errors > 0 ? 2 : 0;
}
