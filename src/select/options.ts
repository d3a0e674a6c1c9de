/**
 * The selection options of `reduce` (auditreduce's letters), as resolved values: numbers, masks and compiled
 * patterns, never user strings. Parsing argv into this shape is parse-args.ts; turning it into a predicate is
 * compile.ts.
 */
import type { PathPatternList } from './path-patterns.js';
import type { SockSpec } from './sock-spec.js';

/**
 * 'corrected' (default) fixes auditreduce's bugs (auditreduce.md §7); 'openbsm' reproduces OpenBSM 1.2-alpha6
 * auditreduce exactly, bugs included (§8), for differential testing.
 */
export type SelectMode = 'corrected' | 'openbsm';

/** A success/failure class mask pair, as getauditflagsbin() produces (config-files.md §7). */
export interface ClassMask {
  success: number;
  failure: number;
}

export interface SelectOptions {
  mode: SelectMode;
  /** -A: every record (overrides -a/-b/-d). */
  all?: boolean;
  /** -a / -d: header seconds ≥ after (Unix seconds). */
  after?: number;
  /** -b / -d: header seconds ≤ before (inclusive, as upstream). */
  before?: number;
  /** -m: event numbers (ORed). */
  events?: readonly number[];
  /** -c: the class mask, and each event's class for preselection (the last audit_event line, §8.1). */
  classMask?: ClassMask;
  eventClass?: (event: number) => number;
  /** -u -e -f -g -r: audit uid, effective uid, effective gid, real gid, real uid (u32 as recorded). */
  auid?: number;
  euid?: number;
  egid?: number;
  rgid?: number;
  ruid?: number;
  /** -j: subject pid. */
  subjectPid?: number;
  /** -o pid=: target process pid. */
  processPid?: number;
  /** -o file=. */
  files?: PathPatternList;
  /** -o msgqid= / semid= / shmid=. */
  msgqid?: number;
  semid?: number;
  shmid?: number;
  /** -o sock= (corrected mode evaluates it; openbsm mode accepts it and never matches, as upstream). */
  sock?: SockSpec;
  /** -z: zonename glob (FNM_PATHNAME), compiled. */
  zone?: RegExp;
  /** -v: invert. */
  invert?: boolean;
  /**
   * --path-match any (corrected mode only): one included path suffices and no path may be excluded, instead of
   * upstream's "every path token must be included".
   */
  pathMatchAny?: boolean;
}

/** Option bits, as auditreduce's opttochk/optchkd sets (auditreduce.md §3). */
export const Opt = {
  A: 1 << 0,
  a: 1 << 1,
  b: 1 << 2,
  c: 1 << 3,
  m: 1 << 4,
  v: 1 << 5,
  u: 1 << 6,
  e: 1 << 7,
  f: 1 << 8,
  g: 1 << 9,
  r: 1 << 10,
  j: 1 << 11,
  op: 1 << 12,
  om: 1 << 13,
  ose: 1 << 14,
  osh: 1 << 15,
  of: 1 << 16,
  oso: 1 << 17,
  z: 1 << 18,
} as const;

/** The option bits a SelectOptions asks to be checked (opttochk). */
export function requestedOpts(o: SelectOptions): number {
  let m = 0;
  if (o.all) m |= Opt.A;
  if (o.after !== undefined) m |= Opt.a;
  if (o.before !== undefined) m |= Opt.b;
  if (o.classMask) m |= Opt.c;
  if (o.events) m |= Opt.m;
  // Upstream puts -v in opttochk and lets header32 "check" it (§3): that is why -v alone prints file tokens.
  if (o.invert && o.mode === 'openbsm') m |= Opt.v;
  if (o.auid !== undefined) m |= Opt.u;
  if (o.euid !== undefined) m |= Opt.e;
  if (o.egid !== undefined) m |= Opt.f;
  if (o.rgid !== undefined) m |= Opt.g;
  if (o.ruid !== undefined) m |= Opt.r;
  if (o.subjectPid !== undefined) m |= Opt.j;
  if (o.processPid !== undefined) m |= Opt.op;
  if (o.msgqid !== undefined) m |= Opt.om;
  if (o.semid !== undefined) m |= Opt.ose;
  if (o.shmid !== undefined) m |= Opt.osh;
  if (o.files) m |= Opt.of;
  if (o.sock) m |= Opt.oso;
  if (o.zone) m |= Opt.z;
  return m;
}
