/**
 * Record templates: every record shape the workload emits is encoded once with the real encoder
 * (format/encode), and the offsets of the fields that vary per record (time, subject ids, pids, return values) are
 * found by decoding the template. Generating a record is then one copy and a few 32-bit patches, which is what
 * lets the model outrun any reader (≥ 1M records/s).
 *
 * Shapes follow bsm-format.md §6: kernel records are header32, event tokens, subject32, return32, (XNU: identity),
 * trailer; user records (libbsm au_to_me) put subject32_ex first.
 */
import { decodeRecord } from '../../format/decode-record.js';
import { encodeRecord, execArgs, hex, ipv4, ipv6, str, type TokenInput } from '../../format/encode/index.js';
import type { Personality } from './audit-pipe.js';
import { AuditEvent as E } from './event-classes.js';

export const KIND_KERNEL = 0;
export const KIND_USER = 1;
export const KIND_SESSION = 2;

/** What a template's varying fields mean; the generator fills them. */
export type Shape =
  | 'fork'
  | 'vfork'
  | 'posix_spawn'
  | 'execve'
  | 'exit'
  | 'open'
  | 'close'
  | 'unlink'
  | 'connect'
  | 'accept'
  | 'login'
  | 'logout'
  | 'su'
  | 'sshd'
  | 'sudo'
  | 'audit_syscall'
  | 'session'
  | 'audit_startup'
  | 'audit_shutdown'
  | 'audit_recovery';

export interface Template {
  shape: Shape;
  bytes: Buffer;
  event: number;
  kind: number;
  failed: boolean;
  /** Offsets inside the record (−1 when absent). */
  sec: number;
  msec: number;
  /** Offset of the subject token's id byte; auid is at +1 … port at +29. */
  subj: number;
  /** Offset of return32's u32 value. */
  ret: number;
  /** Offset of arg32's u32 value (child PID, fd, flags). */
  arg: number;
  /** Offset of the exit token's status. */
  exit: number;
}

const ZERO4 = Buffer.alloc(4);

function subject(ex: boolean): TokenInput {
  return ex
    ? { type: 'subject32_ex', auid: 0, euid: 0, egid: 0, ruid: 0, rgid: 0, pid: 0, sid: 0, port: 0, addrType: 4, addr: ipv4('10.0.0.7') }
    : { type: 'subject32', auid: 0, euid: 0, egid: 0, ruid: 0, rgid: 0, pid: 0, sid: 0, port: 0, addrType: 4, addr: ZERO4 };
}

function ret(status: number, value: number): TokenInput {
  return { type: 'return32', status, value: value >>> 0 };
}

function attr(nodeid: bigint): TokenInput {
  return { type: 'attr32', mode: 0o100644, uid: 0, gid: 0, fsid: 16777220, nodeid, dev: 0 };
}

function identity(signingId: string): TokenInput {
  return {
    type: 'identity',
    signerType: 1,
    signingId: str(signingId),
    signingIdTruncated: 0,
    teamId: str(''),
    teamIdTruncated: 0,
    cdhash: hex('9003b5ecb83f531df993b3a68d34cde808b38381'),
  };
}

function build(shape: Shape, event: number, kind: number, body: TokenInput[], failed: boolean, personality: Personality): Template {
  const tokens = [...body];
  if (personality === 'xnu' && kind !== KIND_SESSION) {
    // XNU appends the identity token after return32 to kernel records and to user records of non-entitled callers.
    tokens.push(identity(kind === KIND_USER ? 'com.apple.loginwindow' : 'com.apple.xpc.launchd'));
  }
  const bytes = encodeRecord({ type: 'header32', event, sec: 0, msec: 0 }, tokens);
  const rec = decodeRecord(bytes, 0);
  if (!rec.intact) throw new Error(`kernel model: template ${shape} does not decode cleanly`);
  const t: Template = { shape, bytes, event, kind, failed, sec: -1, msec: -1, subj: -1, ret: -1, arg: -1, exit: -1 };
  for (const tok of rec.tokens) {
    switch (tok.type) {
      case 'header32':
        t.sec = tok.offset + 10;
        t.msec = tok.offset + 14;
        break;
      case 'subject32':
      case 'subject32_ex':
        t.subj = tok.offset;
        break;
      case 'return32':
        t.ret = tok.offset + 2;
        break;
      case 'arg32':
        if (t.arg < 0) t.arg = tok.offset + 2;
        break;
      case 'exit':
        t.exit = tok.offset + 1;
        break;
      default:
        break;
    }
  }
  return t;
}

const PATHS_R = ['/etc/passwd', '/usr/lib/libSystem.B.dylib', '/private/var/db/timezone/zoneinfo/UTC', '/etc/hosts', '/usr/share/locale/en_US.UTF-8/LC_CTYPE'];
const PATHS_W = ['/private/tmp/build.log', '/Users/alice/Documents/notes.txt', '/var/log/system.log', '/private/var/folders/zz/T/tmp.Xq1'];
const PATHS_MISSING = ['/etc/nonexistent.conf', '/Users/alice/.config/missing'];
const EXECS: Array<[string, string[]]> = [
  ['/bin/ls', ['ls', '-la', '/tmp']],
  ['/usr/bin/git', ['git', 'status', '--porcelain']],
  ['/bin/sh', ['sh', '-c', 'make -j8 all']],
  ['/usr/bin/ssh', ['ssh', '-p', '22', 'build@10.0.0.2']],
  ['/usr/local/bin/node', ['node', 'server.js', '--port=8080']],
  ['/usr/bin/curl', ['curl', '-sS', 'https://example.org/,path with commas']],
];

/** Every template of one personality, grouped by shape. */
export function buildTemplates(personality: Personality): Map<Shape, Template[]> {
  const out = new Map<Shape, Template[]>();
  const add = (t: Template): void => {
    const list = out.get(t.shape) ?? [];
    list.push(t);
    out.set(t.shape, list);
  };
  const K = KIND_KERNEL;
  const U = KIND_USER;
  const xnu = personality === 'xnu';

  for (const [shape, event] of [['fork', E.FORK], ['vfork', E.VFORK]] as const) {
    add(build(shape, event, K, [{ type: 'arg32', argNo: 0, value: 0, text: str('child PID') }, subject(false), ret(0, 0)], false, personality));
  }
  for (const [path, argv] of EXECS) {
    const body: TokenInput[] = [execArgs(argv), { type: 'path', path: str(path) }, { type: 'path', path: str(path) }, attr(BigInt(4000 + argv.length))];
    if (xnu) body.push({ type: 'data', howToPrint: 3, unit: 0, count: 20, items: hex('8c1d3b9e0f2a4457a1b2c3d4e5f60718293a4b5c') });
    add(build('execve', E.EXECVE, K, [...body, subject(false), ret(0, 0)], false, personality));
    if (xnu) {
      add(build('posix_spawn', E.POSIX_SPAWN, K, [{ type: 'arg32', argNo: 0, value: 0, text: str('child PID') }, ...body, subject(false), ret(0, 0)], false, personality));
    }
  }
  add(build('execve', E.EXECVE, K, [execArgs(['nosuchcmd']), { type: 'path', path: str('/usr/bin/nosuchcmd') }, subject(false), ret(2, 0xffffffff)], true, personality));
  for (const status of [0, 1, 256]) {
    add(build('exit', E.EXIT, K, [{ type: 'exit', status, value: 0 }, subject(false), ret(0, 0)], false, personality));
  }
  for (const p of PATHS_R) {
    add(build('open', E.OPEN_R, K, [{ type: 'arg32', argNo: 2, value: 0, text: str('flags') }, { type: 'path', path: str(p) }, attr(BigInt(p.length * 977)), subject(false), ret(0, 3)], false, personality));
  }
  for (const p of PATHS_W) {
    add(build('open', E.OPEN_WC, K, [{ type: 'arg32', argNo: 2, value: 0x601, text: str('flags') }, { type: 'arg32', argNo: 3, value: 0o644, text: str('mode') }, { type: 'path', path: str(p) }, attr(BigInt(p.length * 991)), subject(false), ret(0, 4)], false, personality));
    add(build('open', E.OPEN_RW, K, [{ type: 'arg32', argNo: 2, value: 2, text: str('flags') }, { type: 'path', path: str(p) }, attr(BigInt(p.length * 983)), subject(false), ret(0, 5)], false, personality));
  }
  for (const p of PATHS_MISSING) {
    add(build('open', E.OPEN_R, K, [{ type: 'arg32', argNo: 2, value: 0, text: str('flags') }, { type: 'path', path: str(p) }, subject(false), ret(2, 0xffffffff)], true, personality));
  }
  for (const p of [...PATHS_R.slice(0, 3), ...PATHS_W.slice(0, 2)]) {
    add(build('close', E.CLOSE, K, [{ type: 'arg32', argNo: 1, value: 3, text: str('fd') }, { type: 'path', path: str(p) }, attr(BigInt(p.length * 977)), subject(false), ret(0, 0)], false, personality));
  }
  for (const p of PATHS_W) {
    add(build('unlink', E.UNLINK, K, [{ type: 'path', path: str(p) }, attr(BigInt(p.length * 991)), subject(false), ret(0, 0)], false, personality));
  }
  add(build('unlink', E.UNLINK, K, [{ type: 'path', path: str(PATHS_MISSING[0]!) }, subject(false), ret(2, 0xffffffff)], true, personality));
  const peers: Array<[number, Buffer, boolean]> = [
    [443, ipv4('93.184.216.34'), false],
    [22, ipv4('10.0.0.2'), false],
    [443, ipv6('2606:2800:220:1:248:1893:25c8:1946'), true],
  ];
  for (const [port, addr, v6] of peers) {
    // XNU records the inet6 port byte-swapped (bsm-format.md §5.6); FreeBSD records it as is.
    const sock: TokenInput = v6
      ? { type: 'sockinet128', family: 26, port: xnu ? ((port & 0xff) << 8) | (port >> 8) : port, addr }
      : { type: 'sockinet32', family: 2, port, addr };
    add(build('connect', E.CONNECT, K, [{ type: 'arg32', argNo: 1, value: 5, text: str('fd') }, sock, subject(false), ret(0, 0)], false, personality));
    add(build('accept', E.ACCEPT, K, [{ type: 'arg32', argNo: 1, value: 6, text: str('fd') }, sock, subject(false), ret(0, 7)], false, personality));
  }
  // connect refused (ECONNREFUSED: BSM 61)
  add(build('connect', E.CONNECT, K, [{ type: 'arg32', argNo: 1, value: 5, text: str('fd') }, { type: 'sockinet32', family: 2, port: 8080, addr: ipv4('127.0.0.1') }, subject(false), ret(61, 0xffffffff)], true, personality));

  // User-space records (audit(2)): subject32_ex first (au_to_me), then text, return32.
  const user = (shape: Shape, event: number, text: string, failed = false): void => {
    add(build(shape, event, U, [subject(true), { type: 'text', text: str(text) }, ret(failed ? 1 : 0, failed ? 0xffffffff : 0)], failed, personality));
  };
  user('login', E.LOGIN, 'successful login alice');
  user('login', E.LOGIN, 'bad password', true);
  user('logout', E.LOGOUT, 'logout alice');
  user('su', E.SU, 'successful authentication');
  user('sshd', E.OPENSSH, 'successful login alice');
  user('sshd', E.OPENSSH, 'invalid user admin', true);
  user('sudo', E.SUDO, 'sudo: alice : TTY=ttys001 ; PWD=/Users/alice ; USER=root ; COMMAND=/usr/bin/true');
  user('audit_startup', E.AUDIT_STARTUP, 'auditd::Audit startup');
  user('audit_shutdown', E.AUDIT_SHUTDOWN, 'auditd::Audit shutdown');
  // The kernel's own record of the audit(2) call (AUE_AUDIT 211, class ot) follows a user record.
  add(build('audit_syscall', E.AUDIT, K, [subject(false), ret(0, 0)], false, personality));
  if (xnu) {
    for (const ev of [E.SESSION_START, E.SESSION_UPDATE, E.SESSION_END, E.SESSION_CLOSE]) {
      add(build('session', ev, KIND_SESSION, [subject(true), ret(0, 0)], false, personality));
    }
  }
  return out;
}

/** The auditd crash-recovery record (AUE_audit_recovery): text plus the recovered file's path. */
export function recoveryTemplate(personality: Personality, path: string): Template {
  return build('audit_recovery', E.AUDIT_RECOVERY, KIND_USER, [subject(true), { type: 'text', text: str('auditd::Audit recovery') }, { type: 'path', path: str(path) }, ret(0, 0)], false, personality);
}
