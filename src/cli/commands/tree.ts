/**
 * `bsmkit tree [FILE...]`: the process tree rebuilt from a trail, at its end or at `--at TIME`; `--all` adds every
 * process that ran and ended before then.
 */
import { describeProcess, isoTime } from '../../activity/present.js';
import type { ProcessEvent, ProcessInfo } from '../../activity/types.js';
import { write, type CliIo } from '../io.js';
import { parseCli, runTracker, statsText, trackerOptions } from './ps.js';

export const summary = 'show the process tree rebuilt from a trail (live processes, or --all), at its end or at --at TIME';

const HELP = `usage: bsmkit tree [--at TIME] [--all] [options] [FILE...]

Rebuilds processes from fork/exec/exit records and prints them as a tree (parent → children, in start order).
Without --all: the processes alive at the end of the input (stdin when no FILE, or FILE is -), or at TIME, under
their live ancestors. With --all: every process seen up to then, ended ones marked with their exit.

  --at TIME         the tree at TIME: ISO 8601 (UTC when no offset is given) or Unix seconds
  --all             also the processes that ended (memory grows with every process shown)
  --reorder-ms N    how far out of time order records may arrive (default 1000)
  --stats           reconstruction counters on stderr
Each line: PID, what it runs (argv, else the executable, else ?), then marks: [reconstructed] = seen without its
fork, [parent PID] = launched by a process not shown, [exit STATUS @TIME] / [ended @TIME] for ended processes.
Exit status: 0 all good, 1 usage error, 2 damage found in the input.
`;

function order(a: ProcessInfo, b: ProcessInfo): number {
  return (a.start ?? a.firstSeen) - (b.start ?? b.firstSeen) || a.pid - b.pid;
}

function marks(p: ProcessInfo, shownParent: boolean): string {
  let m = '';
  if (p.reconstructed) m += ' [reconstructed]';
  if (!shownParent && p.ppid !== undefined) m += ` [parent ${p.ppid}]`;
  if (p.exit) {
    const at = isoTime(p.exit.time) ?? String(p.exit.time);
    m += p.exit.status !== undefined ? ` [exit ${p.exit.status} @${at}]` : ` [ended @${at}]`;
  }
  return m;
}

/** The tree as text lines (box-drawing connectors), roots and siblings in start order. */
export function renderTree(procs: readonly ProcessInfo[]): string {
  const byEntity = new Map<string, ProcessInfo>();
  for (const p of procs) byEntity.set(p.entityId, p);
  const children = new Map<string, ProcessInfo[]>();
  const roots: ProcessInfo[] = [];
  for (const p of procs) {
    const parent = p.parentEntityId !== undefined ? byEntity.get(p.parentEntityId) : undefined;
    if (parent && parent !== p) {
      let list = children.get(parent.entityId);
      if (!list) children.set(parent.entityId, (list = []));
      list.push(p);
    } else {
      roots.push(p);
    }
  }
  let out = '';
  // Iterative walk: fork chains can be deeper than the call stack.
  const stack: { p: ProcessInfo; prefix: string; last: boolean; root: boolean }[] = [];
  const sortedRoots = roots.sort(order);
  for (let i = sortedRoots.length - 1; i >= 0; i--) stack.push({ p: sortedRoots[i], prefix: '', last: true, root: true });
  while (stack.length) {
    const { p, prefix, last, root } = stack.pop()!;
    const line = `${p.pid} ${describeProcess(p)}${marks(p, !root)}`;
    out += root ? line + '\n' : `${prefix}${last ? '└── ' : '├── '}${line}\n`;
    const kids = (children.get(p.entityId) ?? []).sort(order);
    const childPrefix = root ? '' : prefix + (last ? '    ' : '│   ');
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ p: kids[i], prefix: childPrefix, last: i === kids.length - 1, root: false });
  }
  return out;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, { at: { type: 'string' }, all: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  // --all: the latest snapshot of every process an event mentioned (ended ones included).
  const seen = values.all ? new Map<string, ProcessInfo>() : undefined;
  const note = (p: ProcessInfo | undefined): void => {
    if (p && p.entityId) seen!.set(p.entityId, p);
  };
  const onEvent = seen
    ? (e: ProcessEvent): void => {
        note(e.parent);
        note(e.actor);
        note(e.process);
      }
    : undefined;
  const { tracker, errors } = await runTracker(positionals, io, trackerOptions(values), onEvent);
  let procs = tracker.live();
  if (seen) {
    for (const p of procs) seen.set(p.entityId, p);
    procs = [...seen.values()];
  }
  await write(io.stdout, renderTree(procs));
  if (values.stats) await write(io.stderr, statsText(tracker.stats));
  return errors > 0 ? 2 : 0;
}
