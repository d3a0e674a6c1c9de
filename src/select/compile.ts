/**
 * Compiles SelectOptions into one record predicate (auditreduce.md §3): walk the tokens, let each checked token
 * kind mark the options it evaluated and fail the record on a mismatch, then require every requested option to
 * have been checked. Corrected mode checks every header, subject, process and return variant plus the socket
 * tokens; openbsm mode checks only the seven token types upstream checks (§4).
 *
 * Two entry points share the checks, which read fields in place from the record bytes:
 * - matchBytes: the hot path on a framed record whose trailer is verified; steps over tokens with format's
 *   length-only tokenEnd and decodes nothing. Returns UNSURE when a token does not walk cleanly to the trailer
 *   (damage, unknown ids, over-counted exec args): the full decoder then decides.
 * - matchRecord: the general path on a decoded BsmRecord (damaged records, UNSURE records).
 */
import type { BsmRecord } from '../format/types.js';
import { decidePath } from './path-patterns.js';
import { Opt, requestedOpts, type SelectOptions } from './options.js';
import { sockTokenMatches } from './sock-spec.js';
import { tokenEnd } from '../format/token-index.js';

// Plain byte arithmetic: Buffer.readUInt32BE is several times slower on Node 20 (format/framer.ts measured it).
const be32 = (b: Buffer, p: number): number => b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
const be16 = (b: Buffer, p: number): number => (b[p]! << 8) | b[p + 1]!;

/**
 * format's tokenEnd, with the exec args/env strings (the most frequent variable-length walk in process records)
 * scanned by a byte loop: several short strings per token make indexOf's per-call cost dominate. Anything the
 * loop does not finish cleanly goes to tokenEnd, which also handles over-counted tokens.
 */
export function skipToken(b: Buffer, p: number, limit: number): number {
  const id = b[p];
  if ((id === 0x3c || id === 0x3d) && p + 5 <= limit) {
    let n = be32(b, p + 1);
    let q = p + 5;
    while (n > 0 && q < limit) {
      if (b[q] === 0) n--;
      q++;
    }
    if (n === 0) return q;
  }
  return tokenEnd(b, p, limit);
}

/** Verdicts, before -v is applied. */
export const NO_MATCH = 0;
export const MATCH = 1;
/** matchBytes only: the fast walker could not vouch for the record; decode it and use matchRecord. */
export const UNSURE = -1;
/**
 * The record is damaged. Corrected mode: it is not intact (a token failed to decode, or the trailer or size is
 * wrong); it is reported, never emitted unless asked. openbsm mode: libbsm's token parser would have failed while the record was still selected, which sets
 * upstream's sticky error (§5 bug 2).
 */
export const DAMAGED = 2;
export type Verdict = typeof NO_MATCH | typeof MATCH | typeof UNSURE | typeof DAMAGED;

/** Token kinds the checks care about. */
const K_HEADER = 1;
const K_SUBJECT = 2;
const K_PROCESS = 3;
const K_RETURN = 4;
const K_IPC = 5;
const K_PATH = 6;
const K_ZONE = 7;
const K_SOCK = 8;
/** openbsm mode: ids libbsm does not parse; fetch_invalid_tok swallows the rest of the record (bsm-format.md §2.2). */
const K_SWALLOW = 9;

/** Token ids libbsm's au_fetch_tok() parses (bsm-format.md §4, "libbsm parses = yes"). */
const LIBBSM_PARSES = new Uint8Array(256);
for (const id of [
  0x11, 0x13, 0x14, 0x15, 0x21, 0x22, 0x23, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x32,
  0x38, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x52, 0x60, 0x71, 0x72, 0x73, 0x74, 0x75, 0x77, 0x79, 0x7a, 0x7b, 0x7c, 0x7d,
  0x7e, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85,
]) {
  LIBBSM_PARSES[id] = 1;
}

/** au_preselect outcome bits per event (config-files.md §8.1). */
const PRS_BOTH = 1;
const PRS_SUCCESS = 2;
const PRS_FAILURE = 4;
const PRS_KNOWN = 8;

export interface Selection {
  readonly options: SelectOptions;
  /** The requested option bits (opttochk). */
  readonly requested: number;
  /** Whether a standalone file token is selected (before -v). */
  readonly fileTokenMatches: boolean;
  /**
   * Evaluates the framed record b[start, end) (trailer already verified). With `validate`, a NO_MATCH is only
   * returned after the whole record was walked (the caller will emit it under -v and must know it is intact).
   */
  matchBytes(b: Buffer, start: number, end: number, validate: boolean): Verdict;
  /** Evaluates a decoded record. With `judgeDamaged`, a damaged record is judged on the tokens that decoded. */
  matchRecord(record: BsmRecord, judgeDamaged?: boolean): typeof NO_MATCH | typeof MATCH | typeof DAMAGED;
  /** openbsm mode carries the last header32 across records, as upstream does (§5); call at each new file. */
  resetStream(): void;
}

/** Header seconds of any header variant at `p` (bsm-format.md §5.1), as a number. */
export function headerSeconds(b: Buffer, p: number): number {
  switch (b[p]) {
    case 0x14:
      return be32(b, p + 10);
    case 0x74:
      return be32(b, p + 10) * 4294967296 + be32(b, p + 14);
    case 0x15:
      return be32(b, p + 14 + be32(b, p + 10));
    default: {
      const q = p + 14 + be32(b, p + 10);
      return be32(b, q) * 4294967296 + be32(b, q + 4);
    }
  }
}

/** Header milliseconds of any header variant at `p` (clamped to a number for 64-bit headers). */
export function headerMillis(b: Buffer, p: number): number {
  switch (b[p]) {
    case 0x14:
      return be32(b, p + 14);
    case 0x74:
      return be32(b, p + 18) * 4294967296 + be32(b, p + 22);
    case 0x15:
      return be32(b, p + 18 + be32(b, p + 10));
    default: {
      const q = p + 22 + be32(b, p + 10);
      return be32(b, q) * 4294967296 + be32(b, q + 4);
    }
  }
}

function kindTable(compat: boolean): Uint8Array {
  const k = new Uint8Array(256);
  k[0x14] = K_HEADER;
  k[0x24] = K_SUBJECT;
  k[0x26] = K_PROCESS;
  k[0x27] = K_RETURN;
  k[0x22] = K_IPC;
  k[0x23] = K_PATH;
  k[0x60] = K_ZONE;
  if (compat) {
    for (const id of [0x25, 0x83, 0xed, 0xee, 0xef]) k[id] = K_SWALLOW;
    return k;
  }
  k[0x15] = k[0x74] = k[0x79] = K_HEADER;
  k[0x75] = k[0x7a] = k[0x7c] = K_SUBJECT;
  k[0x77] = k[0x7b] = k[0x7d] = K_PROCESS;
  k[0x72] = K_RETURN;
  for (const id of [0x2e, 0x7f, 0x80, 0x81, 0x82, 0x2a, 0x7e]) k[id] = K_SOCK;
  return k;
}

export function compileSelection(o: SelectOptions): Selection {
  const compat = o.mode === 'openbsm';
  const requested = requestedOpts(o);
  const kinds = kindTable(compat);
  const all = o.all === true;
  const after = o.after ?? -Infinity;
  const before = o.before ?? Infinity;
  const checkTime = !all && (o.after !== undefined || o.before !== undefined);

  let eventSet: Uint8Array | null = null;
  if (o.events) {
    eventSet = new Uint8Array(65536);
    for (const e of o.events) eventSet[e & 0xffff] = 1;
  }
  // au_preselect per event (bits PRS_BOTH / PRS_SUCCESS / PRS_FAILURE), computed the first time an event is met
  // and cached with PRS_KNOWN set: a trail uses a few hundred event numbers, not 65536.
  let presel: Uint8Array | null = null;
  let preselOf: (e: number) => number = () => 0;
  if (o.classMask) {
    const { success, failure } = o.classMask;
    const cls = o.eventClass ?? (() => 0);
    const table = new Uint8Array(65536);
    presel = table;
    preselOf = (e) => {
      const c = cls(e);
      let v = PRS_KNOWN;
      if (((success | failure) & c) !== 0) v |= PRS_BOTH;
      if ((success & c) !== 0) v |= PRS_SUCCESS;
      if ((failure & c) !== 0) v |= PRS_FAILURE;
      table[e] = v;
      return v;
    };
  }

  const hdrMarks = Opt.A | Opt.a | Opt.b | Opt.c | Opt.m | (compat ? Opt.v : 0);
  const subjMarks = Opt.u | Opt.e | Opt.f | Opt.g | Opt.r | Opt.j;
  const procMarks = Opt.u | Opt.e | Opt.f | Opt.g | Opt.r | Opt.op;
  const ids = [o.auid, o.euid, o.egid, o.ruid, o.rgid];
  const wantIds = ids.some((x) => x !== undefined);
  const [auid, euid, egid, ruid, rgid] = ids.map((x) => (x === undefined ? -1 : x >>> 0)) as [number, number, number, number, number];
  const subjectPid = o.subjectPid === undefined ? -1 : o.subjectPid >>> 0;
  const processPid = o.processPid === undefined ? -1 : o.processPid >>> 0;
  const files = o.files;
  const pathAny = !compat && o.pathMatchAny === true;
  const sock = compat ? undefined : o.sock;
  const zone = o.zone;
  const ipcAny = o.msgqid !== undefined || o.semid !== undefined || o.shmid !== undefined;
  const msgqid = o.msgqid === undefined ? -1 : o.msgqid >>> 0;
  const semid = o.semid === undefined ? -1 : o.semid >>> 0;
  const shmid = o.shmid === undefined ? -1 : o.shmid >>> 0;

  // Per-record state (the predicate is not re-entrant; it never awaits).
  let checked = 0;
  let event = 0;
  let pathIncluded = false;
  let sockSeen = false;
  let sockHit = false;
  // openbsm mode: upstream's tok_hdr32_copy lives across records (return32 checks use the last header32's event).
  let hdr32Event = 0;

  function idsMatch(b: Buffer, p: number): boolean {
    if (auid >= 0 && be32(b, p + 1) !== auid) return false;
    if (euid >= 0 && be32(b, p + 5) !== euid) return false;
    if (egid >= 0 && be32(b, p + 9) !== egid) return false;
    if (rgid >= 0 && be32(b, p + 17) !== rgid) return false;
    if (ruid >= 0 && be32(b, p + 13) !== ruid) return false;
    return true;
  }

  function checkHeader(b: Buffer, p: number): boolean {
    checked |= hdrMarks;
    event = (b[p + 6]! << 8) | b[p + 7]!;
    if (compat) hdr32Event = event;
    if (checkTime) {
      const sec = headerSeconds(b, p);
      if (sec < after || sec > before) return false;
    }
    if (presel !== null && ((presel[event]! || preselOf(event)) & PRS_BOTH) === 0) return false;
    if (eventSet !== null && eventSet[event] === 0) return false;
    return true;
  }

  /** Runs the checks of one token of kind `kind` at b[p, q); false when it fails the record. */
  function check(kind: number, b: Buffer, p: number, q: number): boolean {
    switch (kind) {
      case K_HEADER:
        return checkHeader(b, p);
      case K_SUBJECT:
        checked |= subjMarks;
        if (wantIds && !idsMatch(b, p)) return false;
        return subjectPid < 0 || be32(b, p + 21) === subjectPid;
      case K_PROCESS:
        checked |= procMarks;
        if (wantIds && !idsMatch(b, p)) return false;
        return processPid < 0 || be32(b, p + 21) === processPid;
      case K_RETURN: {
        checked |= Opt.c;
        if (presel === null) return true;
        const bit = b[p + 1] === 0 ? PRS_SUCCESS : PRS_FAILURE;
        const e = compat ? hdr32Event : event;
        return ((presel[e]! || preselOf(e)) & bit) !== 0;
      }
      case K_IPC: {
        const type = b[p + 1];
        const id = be32(b, p + 2);
        if (type === 1) {
          checked |= Opt.om;
          return msgqid < 0 || id === msgqid;
        }
        if (type === 2) {
          checked |= Opt.ose;
          return semid < 0 || id === semid;
        }
        if (type === 3) {
          checked |= Opt.osh;
          return shmid < 0 || id === shmid;
        }
        return !ipcAny;
      }
      case K_PATH: {
        checked |= Opt.of;
        if (!files) return true;
        const len = be16(b, p + 1);
        let stop = b.indexOf(0, p + 3);
        if (stop < 0 || stop > p + 3 + len) stop = p + 3 + len;
        const d = decidePath(files, b.toString('latin1', p + 3, stop));
        if (compat) return d === 1;
        const included = d === 1 || (d === -1 && files.exclusionOnly);
        if (!pathAny) return included;
        if (d === 0) return false;
        if (included) pathIncluded = true;
        return true;
      }
      case K_ZONE: {
        checked |= Opt.z;
        if (!zone) return true;
        const len = be16(b, p + 1);
        let stop = b.indexOf(0, p + 3);
        if (stop < 0 || stop > p + 3 + len) stop = p + 3 + len;
        return zone.test(b.toString('latin1', p + 3, stop));
      }
      case K_SOCK:
        if (!sock) return true;
        checked |= Opt.oso;
        sockSeen = true;
        if (sockTokenMatches(sock, b, p, q)) sockHit = true;
        return true;
      default:
        return true;
    }
  }

  function begin(): void {
    checked = 0;
    event = 0;
    pathIncluded = false;
    sockSeen = false;
    sockHit = false;
  }

  /** The end-of-record rules: record-level conditions, then every requested option checked. */
  function finish(ok: boolean): boolean {
    if (!ok) return false;
    if (pathAny && files && (checked & Opt.of) !== 0 && !pathIncluded) return false;
    if (sock && sockSeen && !sockHit) return false;
    return (requested & ~checked) === 0;
  }

  function matchBytes(b: Buffer, start: number, end: number, validate: boolean): Verdict {
    begin();
    const limit = end - 7;
    const early = compat || !validate;
    let ok = true;
    // The header first, before any walking: most selections reject most records on it.
    if (kinds[b[start]!] === K_HEADER && !checkHeader(b, start)) {
      if (early) return NO_MATCH;
      ok = false;
    }
    let p = tokenEnd(b, start, limit);
    if (p < 0) return UNSURE;
    while (p < limit) {
      const q = skipToken(b, p, limit);
      if (q < 0) return UNSURE;
      const kind = kinds[b[p]!]!;
      if (kind !== 0) {
        if (kind === K_SWALLOW) return UNSURE;
        if (!check(kind, b, p, q)) {
          ok = false;
          if (early) return NO_MATCH;
        }
      }
      p = q;
    }
    return finish(ok) ? MATCH : NO_MATCH;
  }

  function matchRecord(r: BsmRecord, judgeDamaged = false): typeof NO_MATCH | typeof MATCH | typeof DAMAGED {
    if (r.kind === 'file-token') return fileTokenMatches ? MATCH : NO_MATCH;
    if (compat) return matchLikeLibbsm(r);
    // Corrected mode: anything short of intact (a token that did not decode, a bad trailer or size) is damage;
    // the output must stay a valid trail.
    if (!r.intact && !judgeDamaged) return DAMAGED;
    begin();
    let ok = true;
    const b = r.bytes;
    for (const t of r.tokens) {
      const kind = kinds[t.id]!;
      if (kind === 0 || t.type === 'trailer' || t.type === 'unknown') continue;
      if (!check(kind, b, t.offset, t.offset + t.length)) {
        ok = false;
        break;
      }
    }
    return finish(ok) ? MATCH : NO_MATCH;
  }

  /**
   * openbsm mode on a decoded record: the checks in token order, stopping where upstream's au_fetch_tok() loop
   * stops. libbsm fails (setting the sticky error) on a token it parses but cannot decode, including an
   * over-counted exec args token; an id it does not parse is swallowed to the trailer by fetch_invalid_tok(),
   * which itself fails when there is no payload before the trailer (bsm-format.md §2.2).
   */
  function matchLikeLibbsm(r: BsmRecord): typeof NO_MATCH | typeof MATCH | typeof DAMAGED {
    begin();
    if (r.header === undefined) return DAMAGED;
    let failAt = Infinity;
    for (const d of r.diagnostics) {
      const c = d.code;
      if (c === 'BSM_E_BAD_TOKEN' || c === 'BSM_E_UNKNOWN_TOKEN' || c === 'BSM_W_EXEC_ARGS_TRUNCATED') {
        failAt = Math.min(failAt, d.offset - r.offset);
      }
    }
    const b = r.bytes;
    const n = b.length;
    /** Upstream's verdict at a token it cannot fetch normally: error, or swallow the rest of the record. */
    const atUnfetchable = (at: number): typeof NO_MATCH | typeof MATCH | typeof DAMAGED => {
      if (LIBBSM_PARSES[b[at]!] === 1 || at >= n - 8) return DAMAGED;
      return (requested & ~checked) === 0 ? MATCH : NO_MATCH;
    };
    for (const t of r.tokens) {
      if (t.offset >= failAt) break;
      if (t.type === 'trailer' || t.type === 'unknown') continue;
      if (LIBBSM_PARSES[t.id] !== 1) return atUnfetchable(t.offset);
      const kind = kinds[t.id]!;
      if (kind !== 0 && !check(kind, b, t.offset, t.offset + t.length)) return NO_MATCH;
    }
    if (failAt < n) return atUnfetchable(failAt);
    return (requested & ~checked) === 0 ? MATCH : NO_MATCH;
  }


  // A standalone file token checks nothing: upstream passes it only when no option is requested (-v counts, so
  // `-v` alone prints file tokens). Corrected mode passes it with no selection option, or with -A (§7.3).
  const fileTokenMatches = compat ? requested === 0 : requested === 0 || all;

  return {
    options: o,
    requested,
    fileTokenMatches,
    matchBytes,
    matchRecord,
    resetStream() {
      hdr32Event = 0;
    },
  };
}
