/**
 * `bsmkit ps [FILE...]`: the processes live at the end of the trail (or at `--at TIME`), rebuilt from the records
 * (src/activity). Also home of the input/option handling shared by `tree` and `activity`.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import type { Diagnostic } from '../../format/types.js';
import { AUID_UNSET, describeProcess, isoTime, parseTimePoint } from '../../activity/present.js';
import { trackInputs } from '../../activity/track-inputs.js';
import { ProcessTracker, type TrackerOptions } from '../../activity/tracker.js';
import type { ActivityStats, ProcessEvent, ProcessInfo } from '../../activity/types.js';
import { write, type CliIo } from '../io.js';

export const summary = 'list the processes rebuilt from a trail, at its end or at --at TIME';

const HELP = `usage: bsmkit ps [--at TIME] [--json] [options] [FILE...]

Rebuilds the process table from fork/exec/exit records and the subject of every record, and lists the processes
alive at the end of the input (stdin when no FILE, or FILE is -), or at TIME.

  --at TIME         list the processes alive at TIME: ISO 8601 (UTC when no offset is given) or Unix seconds
  --json            one JSON object per process (the library's ProcessInfo)
  --reorder-ms N    how far out of time order records may arrive (default 1000, docs/process-activity.md)
  --stats           reconstruction counters on stderr
Columns: PID, PPID (? = unknown), EUID, AUID (- = unset), START (UTC; - when the launch was not seen),
F (R = reconstructed: seen without its fork), COMMAND (argv, else the executable, else ?).
Exit status: 0 all good, 1 usage error, 2 damage found in the input (every intact record is still used).
`;

/** Options every activity command takes. */
export const commonOptions = {
  'reorder-ms': { type: 'string' },
  stats: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** parseArgs with the common options added; unknown options are usage errors. */
export function parseCli(argv: string[], options: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, allowPositionals: true, options: { ...commonOptions, ...options } });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function trackerOptions(values: Record<string, unknown>): TrackerOptions {
  const o: TrackerOptions = {};
  const r = values['reorder-ms'];
  if (typeof r === 'string') {
    if (!/^\d+$/.test(r)) throw new UsageError(`--reorder-ms ${r}: expected a whole number of milliseconds`);
    o.reorderMs = Number(r);
  }
  const at = values.at;
  if (typeof at === 'string') {
    const t = parseTimePoint(at);
    if (t === undefined) throw new UsageError(`--at ${at}: expected ISO 8601 (e.g. 2024-03-10T12:00:00Z) or Unix seconds`);
    o.until = t;
  }
  return o;
}

/**
 * Runs a tracker over the command's inputs with diagnostics on stderr. `onEvent` may queue output text in `out`,
 * which is written with backpressure between chunks. Resolves to the tracker and the number of damage errors.
 */
export async function runTracker(
  files: string[],
  io: CliIo,
  opts: TrackerOptions,
  onEvent?: (e: ProcessEvent) => void,
  out?: string[],
): Promise<{ tracker: ProcessTracker; errors: number }> {
  let errors = 0;
  let errText = '';
  const tracker = new ProcessTracker({ ...opts, onEvent: onEvent ?? (() => {}) });
  const flush = async (): Promise<void> => {
    if (errText) {
      await write(io.stderr, errText);
      errText = '';
    }
    if (out && out.length) {
      const text = out.join('');
      out.length = 0;
      await write(io.stdout, text);
    }
  };
  await trackInputs(tracker, files.length ? files : ['-'], {
    stdin: io.stdin as AsyncIterable<Buffer | string>,
    onDiagnostic: (file: string, d: Diagnostic) => {
      if (d.severity === 'error') errors++;
      errText += `${file}: offset ${d.offset}: ${d.message} [${d.code}]\n`;
    },
    afterChunk: flush,
  });
  await flush();
  return { tracker, errors };
}

export function statsText(s: ActivityStats): string {
  return Object.entries(s).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
}

function row(p: ProcessInfo): string {
  const c = p.cred;
  const start = isoTime(p.start) ?? '-';
  return [
    String(p.pid).padStart(6),
    (p.ppid === undefined ? '?' : String(p.ppid)).padStart(6),
    String(c.euid).padStart(10),
    (c.auid === AUID_UNSET ? '-' : String(c.auid)).padStart(10),
    start.padEnd(24),
    p.reconstructed ? 'R' : '-',
    describeProcess(p),
  ].join(' ');
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, { at: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const { tracker, errors } = await runTracker(positionals, io, trackerOptions(values));
  const procs = tracker.live();
  let text = '';
  if (values.json) {
    for (const p of procs) text += JSON.stringify(p) + '\n';
  } else {
    text += `${'PID'.padStart(6)} ${'PPID'.padStart(6)} ${'EUID'.padStart(10)} ${'AUID'.padStart(10)} ${'START'.padEnd(24)} F COMMAND\n`;
    for (const p of procs) text += row(p) + '\n';
  }
  await write(io.stdout, text);
  if (values.stats) await write(io.stderr, statsText(tracker.stats));
  return errors > 0 ? 2 : 0;
}
