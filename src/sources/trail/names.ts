/**
 * auditd trail file names (kernel-audit-pipe.md §13.1): `START.END`, `START.not_terminated`, `START.crash_recovery`,
 * with 14-digit UTC timestamps. The 15-character prefix `START.` identifies a file across its rename at termination,
 * and the lexicographic order of names is chronological order.
 */

export type TrailState = 'terminated' | 'not_terminated' | 'crash_recovery';

export interface TrailName {
  /** The whole file name. */
  name: string;
  /** `YYYYmmddHHMMSS.`: the file's identity across renames (auditdistd's trail_find()). */
  prefix: string;
  /** The 14-digit start timestamp. */
  start: string;
  /** The 14-digit end timestamp of a terminated file. */
  end?: string;
  state: TrailState;
}

export const PREFIX_LEN = 15;
const NAME_RE = /^(\d{14})\.(\d{14}|not_terminated|crash_recovery)$/;

/** Parses a trail file name; undefined for anything else in the directory (`current`, `dist/`, editor files). */
export function parseTrailName(name: string): TrailName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const tail = m[2];
  if (tail === 'not_terminated' || tail === 'crash_recovery') return { name, prefix: m[1] + '.', start: m[1], state: tail };
  return { name, prefix: m[1] + '.', start: m[1], end: tail, state: 'terminated' };
}

/** The identity prefix of a trail file name (also accepts a bare 14-digit timestamp). */
export function trailPrefix(name: string): string {
  return name.slice(0, 14) + '.';
}

/** A 14-digit UTC timestamp (`getTSstr`) as a Date; undefined when it is not a valid time. */
export function trailTime(ts: string): Date | undefined {
  if (!/^\d{14}$/.test(ts)) return undefined;
  const d = new Date(Date.UTC(+ts.slice(0, 4), +ts.slice(4, 6) - 1, +ts.slice(6, 8), +ts.slice(8, 10), +ts.slice(10, 12), +ts.slice(12, 14)));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A Date as auditd's 14-digit UTC timestamp. */
export function trailTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
