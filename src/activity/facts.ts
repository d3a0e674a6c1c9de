/**
 * What the process table needs from one record, extracted once: its time, event, subject and, for lifecycle
 * records, the child pid, image and exit status. Facts own their data (strings, numbers), so holding them in the
 * reorder buffer never pins the chunk a record was framed from.
 */
import type { BsmRecord, HeaderToken, SubjectToken, Token } from '../format/types.js';
import { lifecycleAction, type LifecycleAction, type Platform } from './lifecycle-events.js';
import type { CodeIdentity, Credentials, ExecutableFile } from './types.js';

/**
 * One record's facts. Every field is always present (undefined when absent) so that all facts share one object
 * shape: the table's hot path stays monomorphic.
 */
export interface RecordFacts {
  /** ms since the epoch (header seconds × 1000 + msec). */
  time: number;
  event: number;
  /** Byte offset of the record in its source. */
  offset: number;
  /** Name of that source (set by the tracker when the caller names its inputs). */
  source: string | undefined;
  /** Set for lifecycle records only. */
  lifecycle: LifecycleAction | undefined;
  /** The subject's pid, -1 when the record has no subject token. */
  pid: number;
  /** The subject's credentials (identical subjects share one object). */
  cred: Credentials | undefined;
  /** Return status (BSM errno) and value; status -1 when the record has no return token. */
  status: number;
  retval: number;
  /** arg #0 ("child PID") of fork/spawn. */
  childPid: number | undefined;
  argv: string[] | undefined;
  argvTruncated: boolean;
  env: string[] | undefined;
  paths: string[] | undefined;
  file: ExecutableFile | undefined;
  code: CodeIdentity | undefined;
  exitStatus: number | undefined;
  exitValue: number | undefined;
}

export function newFacts(time: number, event: number, offset: number, lifecycle: LifecycleAction | undefined): RecordFacts {
  return {
    time, event, offset, source: undefined, lifecycle, pid: -1, cred: undefined, status: -1, retval: 0, childPid: undefined,
    argv: undefined, argvTruncated: false, env: undefined, paths: undefined, file: undefined, code: undefined,
    exitStatus: undefined, exitValue: undefined,
  };
}

/** NUL-terminated bytes → text (the NUL and anything after it dropped; invalid UTF-8 becomes U+FFFD). */
export function bytesText(b: Buffer, start = 0, end = b.length): string {
  const nul = b.indexOf(0, start);
  return b.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
}

export function hex(b: Buffer, start = 0, end = b.length): string {
  return b.toString('hex', start, end);
}

/** Terminal address text: dotted quad, or RFC 5952 IPv6 (longest zero run compressed); other lengths as hex. */
export function addrText(b: Buffer, start = 0, len = b.length - start): string {
  if (len === 4) return `${b[start]}.${b[start + 1]}.${b[start + 2]}.${b[start + 3]}`;
  if (len !== 16) return hex(b, start, start + len);
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[start + i] << 8) | b[start + i + 1]);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const parts = w.map((x) => x.toString(16));
  if (bestAt < 0) return parts.join(':');
  return parts.slice(0, bestAt).join(':') + '::' + parts.slice(bestAt + bestLen).join(':');
}

export function headerTime(h: HeaderToken): number {
  return typeof h.sec === 'bigint' ? Number(h.sec) * 1000 + Number(h.msec) : h.sec * 1000 + (h.msec as number);
}

/** Whether a subject-family token is the record's subject (process tokens name a target, not the actor). */
function isSubject(t: Token): t is SubjectToken {
  return t.type === 'subject32' || t.type === 'subject64' || t.type === 'subject32_ex' || t.type === 'subject64_ex';
}

/**
 * Facts of a decoded record (the exact path, and the fallback of factsFromRange); undefined for standalone file
 * tokens and records without a header.
 */
export function factsFromRecord(r: BsmRecord, platform: Platform = 'openbsm'): RecordFacts | undefined {
  const h = r.header;
  if (r.kind !== 'record' || !h) return undefined;
  const lc = lifecycleAction(h.event, platform);
  const f = newFacts(headerTime(h), h.event, r.offset, lc);
  for (const t of r.tokens) {
    if (isSubject(t)) {
      if (f.cred) continue;
      f.pid = t.pid;
      f.cred = {
        auid: t.auid, euid: t.euid, egid: t.egid, ruid: t.ruid, rgid: t.rgid, sid: t.sid,
        terminal: { port: Number(t.port), addr: addrText(t.addr) },
      };
      continue;
    }
    switch (t.type) {
      case 'return32':
      case 'return64':
        if (f.status < 0) {
          f.status = t.status;
          f.retval = Number(t.value);
        }
        break;
      default:
        if (lc) lifecycleToken(f, t);
    }
  }
  return f;
}

/** The event-specific tokens of fork/spawn/exec/exit records. */
function lifecycleToken(f: RecordFacts, t: Token): void {
  switch (t.type) {
    case 'arg32':
    case 'arg64':
      if (t.argNo === 0 && f.childPid === undefined) f.childPid = Number(t.value);
      break;
    case 'exec_args':
      if (!f.argv) {
        f.argv = t.strings.map((s) => bytesText(s));
        if (t.truncated) f.argvTruncated = true;
      }
      break;
    case 'exec_env':
      if (!f.env) f.env = t.strings.map((s) => bytesText(s));
      break;
    case 'path':
      (f.paths ??= []).push(bytesText(t.path));
      break;
    case 'attr32':
    case 'attr64':
      if (!f.file) f.file = { mode: t.mode, uid: t.uid, gid: t.gid, fsid: t.fsid, inode: Number(t.nodeid), dev: Number(t.dev) };
      break;
    case 'data':
      // macOS exec: the code-directory hash as an AUP_HEX byte array (bsm-format.md §6.3).
      if (t.howToPrint === 3 && t.unit === 0 && t.count > 0) {
        const code = (f.code ??= {});
        code.cdhash ??= hex(t.items);
      }
      break;
    case 'identity': {
      const code = (f.code ??= {});
      code.signerType = t.signerType;
      code.signingId = bytesText(t.signingId);
      code.teamId = bytesText(t.teamId);
      if (t.cdhash.length) code.cdhash = hex(t.cdhash);
      if (t.signingIdTruncated || t.teamIdTruncated) code.truncated = true;
      break;
    }
    case 'exit':
      if (f.exitStatus === undefined) {
        f.exitStatus = t.status;
        f.exitValue = t.value;
      }
      break;
  }
}
