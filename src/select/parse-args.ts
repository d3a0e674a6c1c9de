/**
 * `reduce` command line → SelectOptions and run settings. auditreduce's letters (getopt "Aa:b:c:d:e:f:g:j:m:o:r:u:vz:")
 * plus bsmkit's long options. Every value is resolved here, before any input is read: in corrected mode an
 * unknown name, a malformed number or an unknown -o key is a UsageError; in openbsm mode the values are read as
 * upstream reads them (strtol, silently ignored unknown user names, ignored -o without '='), and upstream's own
 * usage errors stay errors (auditreduce.md §8).
 */
import { UsageError } from '../errors.js';
import type { Platform } from '../catalog/paths.js';
import { selectCatalog, type CatalogChoice, type SelectCatalog } from './catalog-port.js';
import type { SelectMode, SelectOptions } from './options.js';
import { parsePathPatterns } from './path-patterns.js';
import { parseSockSpec } from './sock-spec.js';
import { parseDayArg, parseTimeArg, type TimeZoneRule } from './time-arg.js';
import { loadIdFile, type IdLookup } from './user-ids.js';
import { compileZoneGlob } from './zone-glob.js';

export type OutputFormat = 'bsm' | 'json' | 'print';

export interface ReduceArgs {
  select: SelectOptions;
  /** Input files; empty = stdin. `-` also means stdin. */
  files: string[];
  output: OutputFormat;
  /**
   * Merge several inputs by record time (corrected mode's default); false with --concat, and always in openbsm
   * mode (auditreduce reads the files one after the other).
   */
  merge: boolean;
  stats: boolean;
  keepErrors: boolean;
  help: boolean;
  /** The tables chosen on the command line (for names in --print / --json). */
  catalog: CatalogChoice;
}

/** Lets tests and library callers supply tables and name files instead of the host's. */
export interface ResolveContext {
  catalog?: SelectCatalog;
  users?: IdLookup;
  groups?: IdLookup;
}

const WITH_VALUE = new Set('abcdefgjmoruz');
const FLAGS = new Set('Av');
const LONG_WITH_VALUE = new Set(['compat', 'passwd', 'group', 'platform', 'event-table', 'class-table', 'path-match']);
const LONG_FLAGS = new Set(['utc', 'merge', 'concat', 'json', 'print', 'stats', 'keep-errors', 'help']);

interface Item {
  opt: string;
  value: string;
}

/** getopt-style tokenising: `-vA`, `-m23`, `-m 23`, `--x=v`, `--x v`, `--` ends options; options may follow files. */
function tokenize(argv: string[]): { items: Item[]; files: string[] } {
  const items: Item[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      files.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (LONG_FLAGS.has(name)) {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
        items.push({ opt: name, value: '' });
      } else if (LONG_WITH_VALUE.has(name)) {
        let v: string | undefined = eq < 0 ? argv[++i] : a.slice(eq + 1);
        if (v === undefined) throw new UsageError(`option --${name} needs a value`);
        items.push({ opt: name, value: v });
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
      continue;
    }
    if (a === '-h') {
      items.push({ opt: 'help', value: '' });
      continue;
    }
    if (a.length < 2 || a[0] !== '-') {
      files.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (FLAGS.has(c)) {
        items.push({ opt: c, value: '' });
      } else if (WITH_VALUE.has(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option -${c} needs a value`);
        items.push({ opt: c, value: v });
        break;
      } else {
        throw new UsageError(`unknown option -${c}`);
      }
    }
  }
  return { items, files };
}

/** C strtol(s, &end, 10): leading blanks, sign, digits; 0 when there are none. Clamped like a C long. */
function strtol(s: string): { value: number; rest: string } {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(s);
  if (!m) return { value: 0, rest: s };
  return { value: Math.max(-(2 ** 63), Math.min(2 ** 63 - 1, Number(m[1]))), rest: s.slice(m[0].length) };
}

/** Strict decimal for corrected mode: 0..max, or -1 meaning "unset" (0xffffffff) for ids. */
function strictNumber(flag: string, s: string, max: number, allowMinusOne = false): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > max) throw new UsageError(`${flag} ${s}: out of range (0-${max})`);
    return n;
  }
  if (allowMinusOne && s === '-1') return 0xffffffff;
  return undefined;
}

/** Parses and resolves a reduce command line. */
export function parseReduceArgs(argv: string[], ctx: ResolveContext = {}): ReduceArgs {
  const { items, files } = tokenize(argv);
  const long = new Map<string, string>();
  for (const it of items) if (it.opt.length > 1) long.set(it.opt, it.value);

  let mode: SelectMode = 'corrected';
  const compat = long.get('compat');
  if (compat !== undefined) {
    if (compat !== 'openbsm') throw new UsageError(`--compat=${compat}: the only compatibility mode is 'openbsm'`);
    mode = 'openbsm';
  }
  const strict = mode === 'corrected';
  const outputs = ['json', 'print'].filter((k) => long.has(k)) as OutputFormat[];
  if (outputs.length > 1) throw new UsageError('--json and --print are exclusive');
  const platform = long.get('platform');
  if (platform !== undefined && platform !== 'openbsm' && platform !== 'macos') {
    throw new UsageError(`--platform ${platform}: expected openbsm or macos`);
  }
  if (long.has('merge') && long.has('concat')) throw new UsageError('--merge and --concat are exclusive');
  const pathMatch = long.get('path-match');
  if (pathMatch !== undefined && pathMatch !== 'all' && pathMatch !== 'any') {
    throw new UsageError(`--path-match ${pathMatch}: expected all or any`);
  }
  if (!strict) {
    for (const k of ['utc', 'merge', 'concat', 'path-match', 'keep-errors']) {
      if (long.has(k)) throw new UsageError(`--${k} is not available with --compat=openbsm`);
    }
  }
  const tz: TimeZoneRule = !strict ? 'local-no-dst' : long.has('utc') ? 'utc' : 'local';

  const choice: CatalogChoice = {};
  if (platform !== undefined) choice.platform = platform as Platform;
  if (long.has('event-table')) choice.eventFile = long.get('event-table');
  if (long.has('class-table')) choice.classFile = long.get('class-table');
  let catalog = ctx.catalog;
  const getCatalog = (): SelectCatalog => (catalog ??= selectCatalog(choice));
  let users = ctx.users;
  let groups = ctx.groups;
  const passwdFile = long.get('passwd');
  const groupFile = long.get('group');
  const getUsers = (): IdLookup => (users ??= loadIdFile(passwdFile ?? '/etc/passwd', passwdFile !== undefined));
  const getGroups = (): IdLookup => (groups ??= loadIdFile(groupFile ?? '/etc/group', groupFile !== undefined));

  const sel: SelectOptions = { mode };
  if (pathMatch === 'any') sel.pathMatchAny = true;
  let timeSet = '';

  /** -u -e -r (users) and -f -g (groups): a number, or a name; undefined = upstream ignores the option. */
  const resolveId = (flag: string, s: string, kind: 'user' | 'group'): number | undefined => {
    const lookup = kind === 'user' ? getUsers : getGroups;
    if (strict) {
      const n = strictNumber(flag, s, 0xffffffff, true);
      if (n !== undefined) return n;
      const id = lookup().id(s);
      if (id === undefined) throw new UsageError(`${flag} ${s}: no such ${kind}`);
      return id;
    }
    const { value, rest } = strtol(s);
    if (rest === '') return value >>> 0;
    // Upstream: an unknown name skips SETOPT, so the filter silently disappears (§5 bug 4).
    const id = lookup().id(s);
    return id === undefined ? undefined : id;
  };

  for (const { opt, value } of items) {
    switch (opt) {
      case 'A':
        sel.all = true;
        break;
      case 'v':
        sel.invert = true;
        break;
      case 'a':
      case 'b':
        if (timeSet.includes(opt) || timeSet.includes('d')) {
          throw new UsageError(timeSet.includes('d') ? "'d' is exclusive with 'a' and 'b'" : `-${opt} given twice`);
        }
        timeSet += opt;
        if (opt === 'a') sel.after = parseTimeArg('-a', value, tz, strict);
        else sel.before = parseTimeArg('-b', value, tz, strict);
        break;
      case 'd': {
        if (timeSet !== '') throw new UsageError("'d' is exclusive with 'a' and 'b'");
        timeSet = 'd';
        const { after, before } = parseDayArg(value, tz);
        sel.after = after;
        sel.before = before;
        break;
      }
      case 'c': {
        const m = getCatalog().parseFlags(value);
        if (typeof m === 'string') throw new UsageError(strict ? `-c ${value}: ${m}` : 'Incorrect class');
        sel.classMask = m;
        sel.eventClass = (e) => getCatalog().eventClass(e);
        break;
      }
      case 'm': {
        let ev: number | undefined;
        if (strict) {
          ev = strictNumber('-m', value, 65535) ?? getCatalog().eventNumber(value);
          if (ev === undefined) throw new UsageError(`-m ${value}: no such event`);
        } else {
          // Upstream: strtol() into a u16; 0 means "try it as a name", so event 0 cannot be given by number.
          ev = strtol(value).value & 0xffff;
          if (ev === 0) {
            ev = getCatalog().eventNumber(value);
            if (ev === undefined) throw new UsageError('Incorrect event name');
          }
        }
        sel.events = [...(sel.events ?? []), ev];
        break;
      }
      case 'e':
      case 'r':
      case 'u':
      case 'f':
      case 'g': {
        const id = resolveId(`-${opt}`, value, opt === 'f' || opt === 'g' ? 'group' : 'user');
        if (id === undefined) break;
        if (opt === 'e') sel.euid = id;
        else if (opt === 'r') sel.ruid = id;
        else if (opt === 'u') sel.auid = id;
        else if (opt === 'f') sel.egid = id;
        else sel.rgid = id;
        break;
      }
      case 'j':
        sel.subjectPid = strict ? requireNumber('-j', value) : strtol(value).value >>> 0;
        break;
      case 'z':
        sel.zone = compileZoneGlob(value);
        break;
      case 'o':
        objectOption(sel, value, strict);
        break;
      default:
        break; // long options were read above
    }
  }

  return {
    select: sel,
    files,
    output: outputs[0] ?? 'bsm',
    merge: strict && !long.has('concat'),
    stats: long.has('stats'),
    keepErrors: long.has('keep-errors'),
    help: long.has('help'),
    catalog: choice,
  };
}

function requireNumber(flag: string, s: string): number {
  const n = strictNumber(flag, s, 0xffffffff);
  if (n === undefined) throw new UsageError(`${flag} ${s}: not a number`);
  return n;
}

/** -o file= / msgqid= / semid= / shmid= / pid= / sock=. */
function objectOption(sel: SelectOptions, arg: string, strict: boolean): void {
  const eq = arg.indexOf('=');
  if (eq < 0) {
    if (strict) throw new UsageError(`-o ${arg}: expected KEY=VALUE (file, msgqid, semid, shmid, pid, sock)`);
    return; // upstream ignores it
  }
  const key = arg.slice(0, eq);
  const val = arg.slice(eq + 1);
  const num = (flag: string): number => (strict ? requireNumber(flag, val) : strtol(val).value >>> 0);
  switch (key) {
    case 'file':
      sel.files = parsePathPatterns(val);
      break;
    case 'msgqid':
      sel.msgqid = num('-o msgqid=');
      break;
    case 'semid':
      sel.semid = num('-o semid=');
      break;
    case 'shmid':
      sel.shmid = num('-o shmid=');
      break;
    case 'pid':
      sel.processPid = num('-o pid=');
      break;
    case 'sock':
      // openbsm mode keeps the option (it is requested, and never checked: nothing matches, §5 bug 3).
      sel.sock = strict ? parseSockSpec(val) : { text: val };
      break;
    default:
      throw new UsageError(strict ? `-o ${key}=: unknown object type (file, msgqid, semid, shmid, pid, sock)` : 'unknown value for -o');
  }
}
