/**
 * The hot path: record facts straight from a framed record's bytes, without building token objects.
 *
 * Process reconstruction needs the subject of every record but the other tokens only of the ~half of a trail that
 * is fork/exec/exit. Decoding every token into objects runs at about a fifth of the framer's speed, so this walks
 * token lengths (bsm-format.md §4) and reads only the fields it needs. Anything unusual — an unknown token id, a
 * length that overruns, a walk that does not end exactly at the trailer (e.g. XNU's over-counted exec args) — returns
 * undefined, and the caller falls back to the exact decoder (decodeRecord + factsFromRecord).
 */
import { lifecycleAction, type Platform } from './lifecycle-events.js';
import { addrText, type RecordFacts, type SubjectFacts } from './facts.js';

let dvBuf: ArrayBufferLike | undefined;
let dv: DataView = new DataView(new ArrayBuffer(0));
let base = 0;
function view(b: Buffer): void {
  if (b.buffer !== dvBuf) {
    dvBuf = b.buffer;
    dv = new DataView(b.buffer);
  }
  base = b.byteOffset;
}
const u16 = (p: number): number => dv.getUint16(base + p);
const u32 = (p: number): number => dv.getUint32(base + p);
const u64n = (p: number): number => Number(dv.getBigUint64(base + p));

/** End of `count` NUL-terminated strings from `p`, or -1 when they overrun `limit`. */
function stringsEnd(b: Buffer, p: number, limit: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const nul = b.indexOf(0, p);
    if (nul < 0 || nul >= limit) return -1;
    p = nul + 1;
  }
  return p;
}

function readStrings(b: Buffer, p: number, count: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const nul = b.indexOf(0, p);
    out[i] = b.toString('utf8', p, nul);
    p = nul + 1;
  }
  return out;
}

/** Text of a str16 whose length field is at `p` (NUL dropped). */
function str16(b: Buffer, p: number): string {
  const n = u16(p);
  const s = p + 2;
  const nul = b.indexOf(0, s);
  return b.toString('utf8', s, nul >= 0 && nul < s + n ? nul : s + n);
}

/**
 * Terminal addresses repeat endlessly and formatting one is the costliest part of a subject, so IPv4 texts are
 * cached by value (bounded: cleared past ADDR_CACHE_MAX entries).
 */
const ADDR_CACHE_MAX = 4096;
const v4Text = new Map<number, string>();

function terminalAddr(b: Buffer, a: number, len: number): string {
  if (len !== 4) return addrText(b, a, len);
  const k = u32(a);
  let t = v4Text.get(k);
  if (t === undefined) {
    if (v4Text.size >= ADDR_CACHE_MAX) v4Text.clear();
    t = addrText(b, a, 4);
    v4Text.set(k, t);
  }
  return t;
}

function subjectAt(b: Buffer, p: number, wide: boolean, ex: boolean): SubjectFacts {
  const port = wide ? u64n(p + 28) : u32(p + 28);
  const a = p + (wide ? 36 : 32);
  const addr = ex ? terminalAddr(b, a + 4, u32(a)) : terminalAddr(b, a, 4);
  return {
    pid: u32(p + 20),
    cred: { auid: u32(p), euid: u32(p + 4), egid: u32(p + 8), ruid: u32(p + 12), rgid: u32(p + 16), sid: u32(p + 24), terminal: { port, addr } },
  };
}

/**
 * Length of the token at `off` (its id included), or -1 when it is unknown or overruns `limit`.
 * Exec args and string lists are measured by scanning their NULs.
 */
function tokenLength(b: Buffer, off: number, limit: number): number {
  const p = off + 1;
  const avail = limit - off;
  let n: number;
  switch (b[off]) {
    case 0x22: n = 6; break;
    case 0x27: n = 6; break;
    case 0x2a: n = 5; break;
    case 0x2b: n = 21; break;
    case 0x2c: n = 3; break;
    case 0x2e: n = 15; break;
    case 0x2f: n = 5; break;
    case 0x32: n = 29; break;
    case 0x3e: n = 29; break;
    case 0x52: n = 9; break;
    case 0x72: n = 10; break;
    case 0x73: n = 33; break;
    case 0x80: n = 9; break;
    case 0x81: n = 21; break;
    case 0x83: n = 17; break;
    case 0x24: case 0x26: n = 37; break;
    case 0x75: case 0x77: n = 41; break;
    case 0x7a: case 0x7b: case 0x7c: case 0x7d: {
      const t = off + (b[off] >= 0x7c ? 37 : 33);
      if (t + 4 > limit) return -1;
      const al = u32(t);
      if (al !== 4 && al !== 16) return -1;
      n = t + 4 + al - off;
      break;
    }
    case 0x7e: {
      if (avail < 5) return -1;
      const al = u32(p);
      if (al !== 4 && al !== 16) return -1;
      n = 5 + al;
      break;
    }
    case 0x7f: {
      if (avail < 7) return -1;
      const al = u16(p + 4);
      if (al !== 4 && al !== 16) return -1;
      n = 11 + 2 * al;
      break;
    }
    case 0x23: case 0x28: case 0x29: case 0x60:
      if (avail < 3) return -1;
      n = 3 + u16(p);
      break;
    case 0x2d:
      if (avail < 8) return -1;
      n = 8 + u16(p + 5);
      break;
    case 0x71:
      if (avail < 12) return -1;
      n = 12 + u16(p + 9);
      break;
    case 0x84: case 0x85:
      if (avail < 20) return -1;
      n = 20 + u16(p + 17);
      break;
    case 0x11:
      if (avail < 11) return -1;
      n = 11 + u16(p + 8);
      break;
    case 0x21: {
      if (avail < 4) return -1;
      const unit = b[p + 1];
      if (unit > 3) return -1;
      n = 4 + b[p + 2] * (1 << unit);
      break;
    }
    case 0x38: {
      if (avail < 5) return -1;
      const n1 = u16(p);
      if (p + 2 + n1 + 2 > limit) return -1;
      n = 5 + n1 + u16(p + 2 + n1);
      break;
    }
    case 0x39:
      if (avail < 4) return -1;
      n = 4 + u16(p + 1);
      break;
    case 0x3b:
      if (avail < 3) return -1;
      n = 3 + 4 * u16(p);
      break;
    case 0x3c: case 0x3d: case 0xee: case 0xef: {
      if (avail < 5) return -1;
      const end = stringsEnd(b, p + 4, limit, u32(p));
      return end < 0 ? -1 : end - off;
    }
    case 0x25: {
      if (avail < 3) return -1;
      const end = stringsEnd(b, p + 2, limit, u16(p));
      return end < 0 ? -1 : end - off;
    }
    case 0x82: {
      const nul = b.indexOf(0, p + 2);
      if (nul < 0 || nul >= limit) return -1;
      return nul + 1 - off;
    }
    case 0xed: {
      let q = p + 4;
      if (q + 2 > limit) return -1;
      q += 2 + u16(q) + 1;
      if (q + 2 > limit) return -1;
      q += 2 + u16(q) + 1;
      if (q + 2 > limit) return -1;
      q += 2 + u16(q);
      n = q - off;
      break;
    }
    default:
      return -1;
  }
  return n <= avail ? n : -1;
}

/**
 * Facts of the record in `b` (exactly one framed record, trailer included), or undefined when the bytes need the
 * exact decoder. `offset` is the record's offset in its source. Standalone file tokens also yield undefined.
 */
export function factsFromBytes(b: Buffer, offset: number, platform: Platform = 'openbsm'): RecordFacts | undefined {
  const len = b.length;
  if (len < 25 || b[len - 7] !== 0x13) return undefined;
  view(b);
  const id = b[0];
  let pos: number, time: number;
  switch (id) {
    case 0x14:
      time = u32(10) * 1000 + u32(14);
      pos = 18;
      break;
    case 0x74:
      time = u64n(10) * 1000 + u64n(18);
      pos = 26;
      break;
    case 0x15:
    case 0x79: {
      const al = u32(10);
      if (al !== 4 && al !== 16) return undefined;
      const t = 14 + al;
      time = id === 0x15 ? u32(t) * 1000 + u32(t + 4) : u64n(t) * 1000 + u64n(t + 8);
      pos = t + (id === 0x15 ? 8 : 16);
      break;
    }
    default:
      return undefined;
  }
  const event = u16(6);
  const lc = lifecycleAction(event, platform);
  const limit = len - 7;
  const f: RecordFacts = { time, event, offset, status: -1, retval: 0 };
  if (lc) f.lifecycle = lc;
  while (pos < limit) {
    const tid = b[pos];
    const n = tokenLength(b, pos, limit);
    if (n < 0) return undefined;
    const p = pos + 1;
    if (tid === 0x24 || tid === 0x75 || tid === 0x7a || tid === 0x7c) {
      if (!f.subject) {
        f.subject = subjectAt(b, p, tid === 0x75 || tid === 0x7c, tid >= 0x7a);
        if (!lc) return f; // other records need nothing else
      }
    } else if (lc) {
      switch (tid) {
        case 0x27:
          if (f.status < 0) { f.status = b[p]; f.retval = u32(p + 1); }
          break;
        case 0x72:
          if (f.status < 0) { f.status = b[p]; f.retval = u64n(p + 1); }
          break;
        case 0x2d:
          if (b[p] === 0 && f.childPid === undefined) f.childPid = u32(p + 1);
          break;
        case 0x71:
          if (b[p] === 0 && f.childPid === undefined) f.childPid = u64n(p + 1);
          break;
        case 0x3c:
          if (!f.argv) f.argv = readStrings(b, p + 4, u32(p));
          break;
        case 0x3d:
          if (!f.env) f.env = readStrings(b, p + 4, u32(p));
          break;
        case 0x23:
          (f.paths ??= []).push(str16(b, p));
          break;
        case 0x3e:
          if (!f.file) f.file = { mode: u32(p), uid: u32(p + 4), gid: u32(p + 8), fsid: u32(p + 12), inode: u64n(p + 16), dev: u32(p + 24) };
          break;
        case 0x73:
          if (!f.file) f.file = { mode: u32(p), uid: u32(p + 4), gid: u32(p + 8), fsid: u32(p + 12), inode: u64n(p + 16), dev: u64n(p + 24) };
          break;
        case 0x21:
          if (b[p] === 3 && b[p + 1] === 0 && b[p + 2] > 0) {
            const code = (f.code ??= {});
            code.cdhash ??= b.toString('hex', p + 3, pos + n);
          }
          break;
        case 0xed: {
          const code = (f.code ??= {});
          code.signerType = u32(p);
          let q = p + 4;
          const n1 = u16(q);
          code.signingId = str16(b, q);
          q += 2 + n1;
          const t1 = b[q++];
          const n2 = u16(q);
          code.teamId = str16(b, q);
          q += 2 + n2;
          const t2 = b[q++];
          const n3 = u16(q);
          if (n3) code.cdhash = b.toString('hex', q + 2, q + 2 + n3);
          if (t1 || t2) code.truncated = true;
          break;
        }
        case 0x52:
          if (f.exitStatus === undefined) { f.exitStatus = u32(p); f.exitValue = u32(p + 4); }
          break;
      }
    }
    pos += n;
  }
  if (pos !== limit) return undefined;
  // A lifecycle record without subject or return is odd enough to deserve the exact decoder's view.
  if (lc && (!f.subject || f.status < 0)) return undefined;
  return f;
}
