/**
 * The hot path: record facts straight from a framed record's bytes, without building token objects.
 *
 * Process reconstruction needs the subject of every record but the other tokens only of fork/exec/exit records.
 * Decoding every token into objects runs at a fraction of the framer's speed, so this walks token lengths
 * (bsm-format.md §4) and reads only the fields it needs. Anything unusual — an unknown token id, a length that
 * overruns, a walk that does not end exactly at the trailer (e.g. XNU's over-counted exec args) — returns
 * undefined, and the caller falls back to the exact decoder (decodeRecord + factsFromRecord).
 *
 * Positions are absolute in `buf` (the framer's zero-copy range), so no Buffer view is made per record.
 */
import { lifecycleAction, type Platform } from './lifecycle-events.js';
import { addrText, newFacts, type RecordFacts } from './facts.js';
import type { Credentials } from './types.js';

// Plain byte arithmetic on the current record's buffer: DataView and Buffer.readUInt32BE cost more per call here.
let cur: Buffer = Buffer.alloc(0);
const u16 = (p: number): number => (cur[p] << 8) | cur[p + 1];
const u32 = (p: number): number => cur[p] * 0x1000000 + ((cur[p + 1] << 16) | (cur[p + 2] << 8) | cur[p + 3]);
/** A u64 as a Number (exact up to 2^53; larger values lose low bits, which no pid, time or inode here reaches). */
const u64n = (p: number): number => u32(p) * 0x100000000 + u32(p + 4);

/** End of `count` NUL-terminated strings from `p`, or -1 when they overrun `limit`. */
function stringsEnd(b: Buffer, p: number, limit: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const nul = b.indexOf(0, p);
    if (nul < 0 || nul >= limit) return -1;
    p = nul + 1;
  }
  return p;
}

/**
 * Strings interned by content: argv words, paths and environment entries repeat endlessly, and making a JS string
 * from bytes costs several times more than hashing and comparing a few bytes. Strings up to TEXT_CACHE_LEN bytes
 * are looked up by an FNV hash of their bytes and verified byte by byte; bounded (cleared past TEXT_CACHE_MAX).
 */
interface TextEntry {
  bytes: Uint8Array;
  text: string;
  next: TextEntry | undefined;
}
const TEXT_CACHE_LEN = 64;
const TEXT_CACHE_MAX = 1 << 14;
const textCache = new Map<number, TextEntry>();
let textCount = 0;

function sameBytes(a: Uint8Array, b: Buffer, s: number, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[s + i]) return false;
  return true;
}

/** Text of b[s, e) (UTF-8; invalid sequences become U+FFFD). */
function text(b: Buffer, s: number, e: number): string {
  const n = e - s;
  if (n > TEXT_CACHE_LEN) return b.toString('utf8', s, e);
  let h = n;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  for (let t = textCache.get(h); t !== undefined; t = t.next) if (sameBytes(t.bytes, b, s, n)) return t.text;
  const str = b.toString('utf8', s, e);
  if (textCount >= TEXT_CACHE_MAX) {
    textCache.clear();
    textCount = 0;
  }
  textCount++;
  textCache.set(h, { bytes: Uint8Array.prototype.slice.call(b, s, e), text: str, next: textCache.get(h) });
  return str;
}

function readStrings(b: Buffer, p: number, count: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const nul = b.indexOf(0, p);
    out[i] = text(b, p, nul);
    p = nul + 1;
  }
  return out;
}

/** Text of a str16 whose length field is at `p` (NUL dropped). */
function str16(b: Buffer, p: number): string {
  const n = u16(p);
  const s = p + 2;
  const nul = b.indexOf(0, s);
  return text(b, s, nul >= 0 && nul < s + n ? nul : s + n);
}

/**
 * Credentials interned by content: subjects repeat endlessly (a child's first record carries its parent's
 * credentials under a new pid), and building one (formatting the terminal address, boxing u32 values such as an
 * unset auid) is the costliest part of a record. The cache is keyed by a hash of the subject token's bytes without
 * the pid; an entry keeps a copy of those bytes, and a subject with the same bytes gets the same frozen object
 * back. Bounded: cleared past CRED_CACHE_MAX entries.
 */
interface CredEntry {
  /** The token's 32-bit words (subject tokens are whole words long), the pid word included but never compared. */
  words: Int32Array;
  cred: Credentials;
  next: CredEntry | undefined;
}
const CRED_CACHE_MAX = 1 << 14;
const credCache = new Map<number, CredEntry>();
let credCount = 0;

/** Word `i` of the subject at `p`, as an int32 (byte order irrelevant: only compared and hashed). */
const word = (b: Buffer, p: number, i: number): number => {
  const q = p + 4 * i;
  return b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24);
};

/** Same words, the pid (word 5) excepted. */
function sameSubject(words: Int32Array, b: Buffer, p: number, n: number): boolean {
  if (words.length !== n) return false;
  for (let i = 0; i < n; i++) if (i !== 5 && words[i] !== word(b, p, i)) return false;
  return true;
}

/** Credentials of the subject token whose fields start at `p` (after the id) and span `len` bytes. */
function credAt(b: Buffer, p: number, len: number, wide: boolean, ex: boolean): Credentials {
  const n = len >>> 2;
  let h = n;
  for (let i = 0; i < n; i++) if (i !== 5) h = Math.imul(h ^ word(b, p, i), 0x01000193);
  for (let e = credCache.get(h); e !== undefined; e = e.next) if (sameSubject(e.words, b, p, n)) return e.cred;
  const port = wide ? u64n(p + 28) : u32(p + 28);
  let a = p + (wide ? 36 : 32);
  let at = 4;
  if (ex) {
    at = u32(a);
    a += 4;
  }
  const cred: Credentials = Object.freeze({
    auid: u32(p), euid: u32(p + 4), egid: u32(p + 8), ruid: u32(p + 12), rgid: u32(p + 16), sid: u32(p + 24),
    terminal: Object.freeze({ port, addr: addrText(b, a, at) }),
  });
  if (credCount >= CRED_CACHE_MAX) {
    credCache.clear();
    credCount = 0;
  }
  credCount++;
  const words = new Int32Array(n);
  for (let i = 0; i < n; i++) words[i] = word(b, p, i);
  credCache.set(h, { words, cred, next: credCache.get(h) });
  return cred;
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
      if (avail < 4) return -1;
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
 * Facts of the record in buf[start, end) (exactly one framed record, trailer included), or undefined when the
 * bytes need the exact decoder. `offset` is the record's offset in its source. Standalone file tokens also yield
 * undefined.
 */
export function factsFromRange(buf: Buffer, start: number, end: number, offset: number, platform: Platform = 'openbsm'): RecordFacts | undefined {
  const len = end - start;
  if (len < 25 || end > buf.length || buf[end - 7] !== 0x13) return undefined;
  cur = buf;
  const id = buf[start];
  let pos: number, time: number;
  switch (id) {
    case 0x14:
      time = u32(start + 10) * 1000 + u32(start + 14);
      pos = start + 18;
      break;
    case 0x74:
      time = u64n(start + 10) * 1000 + u64n(start + 18);
      pos = start + 26;
      break;
    case 0x15:
    case 0x79: {
      const al = u32(start + 10);
      if (al !== 4 && al !== 16) return undefined;
      const t = start + 14 + al;
      time = id === 0x15 ? u32(t) * 1000 + u32(t + 4) : u64n(t) * 1000 + u64n(t + 8);
      pos = t + (id === 0x15 ? 8 : 16);
      break;
    }
    default:
      return undefined;
  }
  const event = u16(start + 6);
  const lc = lifecycleAction(event, platform);
  const limit = end - 7;
  const f = newFacts(time, event, offset, lc);
  const b = buf;
  while (pos < limit) {
    const tid = b[pos];
    const n = tokenLength(b, pos, limit);
    if (n < 0) return undefined;
    const p = pos + 1;
    if (tid === 0x24 || tid === 0x75 || tid === 0x7a || tid === 0x7c) {
      if (f.pid < 0) {
        f.pid = u32(p + 20);
        f.cred = credAt(b, p, n - 1, tid === 0x75 || tid === 0x7c, tid >= 0x7a);
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
  if (lc && (f.pid < 0 || f.status < 0)) return undefined;
  return f;
}

/** What `peekSubject` found (module-level, so that the common case allocates nothing). */
export const peeked: { time: number; event: number; pid: number; cred: Credentials | undefined } = { time: 0, event: 0, pid: -1, cred: undefined };

/**
 * For records that are not lifecycle records: reads the header time and the subject into `peeked` and returns
 * true. Returns false for lifecycle records, records without a subject, and anything unusual (the caller then
 * uses factsFromRange).
 */
export function peekSubject(buf: Buffer, start: number, end: number, platform: Platform = 'openbsm'): boolean {
  if (end - start < 25 || end > buf.length || buf[end - 7] !== 0x13 || buf[start] !== 0x14) return false;
  cur = buf;
  const event = u16(start + 6);
  if (lifecycleAction(event, platform)) return false;
  const limit = end - 7;
  let pos = start + 18;
  while (pos < limit) {
    const tid = buf[pos];
    const n = tokenLength(buf, pos, limit);
    if (n < 0) return false;
    if (tid === 0x24 || tid === 0x75 || tid === 0x7a || tid === 0x7c) {
      const p = pos + 1;
      peeked.time = u32(start + 10) * 1000 + u32(start + 14);
      peeked.event = event;
      peeked.pid = u32(p + 20);
      peeked.cred = credAt(buf, p, n - 1, tid === 0x75 || tid === 0x7c, tid >= 0x7a);
      return true;
    }
    pos += n;
  }
  return false;
}

/** factsFromRange over a whole Buffer holding one record. */
export function factsFromBytes(b: Buffer, offset: number, platform: Platform = 'openbsm'): RecordFacts | undefined {
  return factsFromRange(b, 0, b.length, offset, platform);
}
