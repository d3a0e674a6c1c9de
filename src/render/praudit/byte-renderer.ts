/**
 * The fast path of `bsmkit print` in praudit's text modes: renders a framed record straight from its bytes into an
 * output Buffer, with no token objects, no per-record strings and no Buffer views (bench print -n: the object
 * model and string building cost ~20x the framing).
 *
 * It handles clean records only: header size equal to the record length, a valid trailer, every token of a kind
 * listed in `renderToken` and decodable exactly up to the trailer. Anything else (damage, which needs its
 * diagnostics, and rare tokens such as data, uuid, identity) returns false with nothing written, and the caller
 * renders that record through decodeRecord and the string renderer. Output is byte-identical to
 * createPrauditRenderer for every record it accepts (test/render/praudit-bytes.test.ts checks that over the corpus).
 */
import { returnStatusTable } from '../errno.js';
import { hostPlatform } from '../platform.js';
import { hostUserNames } from '../users.js';
import { ipv6ZeroRun } from './addr.js';
import { createCtimeWriter, defaultTimeZone } from './ctime.js';
import { TEXT_NAME_BY_ID, type PrauditOptions } from './renderer.js';

export interface PrauditByteRenderer {
  /**
   * Renders the clean record (or standalone file token) in b[start, end) and returns true; returns false, writing
   * nothing, when the record is not clean or holds a token this path does not render.
   */
  record(b: Buffer, start: number, end: number): boolean;
  /** Appends text produced elsewhere (latin1: one char per byte), e.g. a record the slow path rendered. */
  add(s: string): void;
  /** Bytes waiting in the output. */
  readonly size: number;
  /** Hands over the rendered output; the buffers are not touched again. */
  take(): Buffer[];
}

const CHUNK = 1 << 20;
const IPC_TYPE = ['', 'Message IPC', 'Semaphore IPC', 'Shared Memory IPC'];
const HEX = Buffer.from('0123456789abcdef', 'latin1');

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** "00" … "99": two digits per division in dec(). */
const DIGITS2 = latin1(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));
const be32 = (b: Buffer, q: number): number => b[q] * 0x1000000 + ((b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]);
const be16 = (b: Buffer, q: number): number => (b[q] << 8) | b[q + 1];

// ---- writers: each writes into o at p and returns the new position; the caller has ensured the room ----
// (position in and out as plain numbers keeps it in a register: closure state measured ~2x slower)

function putB(o: Buffer, p: number, src: Buffer): number {
  const n = src.length;
  if (n > 32) return p + src.copy(o, p);
  for (let i = 0; i < n; i++) o[p++] = src[i];
  return p;
}
function putS(o: Buffer, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
  return p;
}
/** Unsigned decimal of 0 <= v < 2^53. */
function dec(o: Buffer, p: number, v: number): number {
  if (v < 10) {
    o[p] = 48 + v;
    return p + 1;
  }
  if (v < 0x80000000) {
    const n = v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7
      : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
    let q = p + n;
    while (v >= 100) {
      const t = (v / 100) | 0;
      const r = (v - t * 100) << 1;
      o[--q] = DIGITS2[r + 1];
      o[--q] = DIGITS2[r];
      v = t;
    }
    if (v >= 10) {
      o[--q] = DIGITS2[(v << 1) + 1];
      o[--q] = DIGITS2[v << 1];
    } else o[--q] = 48 + v;
    return p + n;
  }
  let n = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
  let q = p + n;
  while (v >= 10) {
    const t = Math.floor(v / 10);
    o[--q] = 48 + v - t * 10;
    v = t;
  }
  o[--q] = 48 + v;
  return p + n;
}
/** `%d` of a 32-bit value. */
function sdec(o: Buffer, p: number, v: number): number {
  v |= 0;
  if (v < 0) {
    o[p] = 45;
    return dec(o, p + 1, -v);
  }
  return dec(o, p, v);
}
function hex(o: Buffer, p: number, v: number): number {
  let n = 1;
  for (let t = v >>> 4; t !== 0; t >>>= 4) n++;
  let q = p + n;
  do {
    o[--q] = HEX[v & 15];
    v >>>= 4;
  } while (v !== 0);
  return p + n;
}
function oct(o: Buffer, p: number, v: number): number {
  let n = 1;
  for (let t = v >>> 3; t !== 0; t >>>= 3) n++;
  let q = p + n;
  do {
    o[--q] = 48 + (v & 7);
    v >>>= 3;
  } while (v !== 0);
  return p + n;
}
/** `%#x`: 0 prints as `0`. */
function altHex(o: Buffer, p: number, v: number): number {
  if (v !== 0) {
    o[p++] = 48;
    o[p++] = 120;
  }
  return hex(o, p, v);
}
function byteHex(o: Buffer, p: number, v: number): number {
  o[p] = 48;
  o[p + 1] = 120;
  o[p + 2] = HEX[v >> 4];
  o[p + 3] = HEX[v & 15];
  return p + 4;
}
function ipv4(o: Buffer, p: number, b: Buffer, q: number): number {
  p = dec(o, p, b[q]);
  o[p++] = 46;
  p = dec(o, p, b[q + 1]);
  o[p++] = 46;
  p = dec(o, p, b[q + 2]);
  o[p++] = 46;
  return dec(o, p, b[q + 3]);
}
/** inet_ntop(AF_INET6) as addr.ts ipv6(), written as bytes. */
function ipv6w(o: Buffer, p: number, b: Buffer, at: number): number {
  const run = ipv6ZeroRun(b, at);
  const bestBase = run < 0 ? -1 : run >> 4, bestLen = run & 15;
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) o[p++] = 58;
      continue;
    }
    if (i !== 0) o[p++] = 58;
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && be16(b, at + 10) === 0xffff))) {
      return ipv4(o, p, b, at + 12);
    }
    p = hex(o, p, be16(b, at + 2 * i));
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) o[p++] = 58;
  return p;
}
const INVALID = latin1('invalid');
function ipEx(o: Buffer, p: number, type: number, b: Buffer, q: number): number {
  if (type === 4) return ipv4(o, p, b, q);
  if (type === 16) return ipv6w(o, p, b, q);
  return putB(o, p, INVALID);
}
/** praudit's print_string: the bytes with every NUL left out. */
function noNul(o: Buffer, p: number, b: Buffer, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c !== 0) o[p++] = c;
  }
  return p;
}
/** Up to the first NUL (strlen). */
function cstr(o: Buffer, p: number, b: Buffer, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c === 0) break;
    o[p++] = c;
  }
  return p;
}
function u64dec(o: Buffer, p: number, b: Buffer, q: number): number {
  const hi = be32(b, q);
  if (hi < 0x200000) return dec(o, p, hi * 0x100000000 + be32(b, q + 4));
  return putS(o, p, b.readBigUInt64BE(q).toString());
}
function s64dec(o: Buffer, p: number, b: Buffer, q: number): number {
  const hi = be32(b, q);
  if (hi < 0x200000) return dec(o, p, hi * 0x100000000 + be32(b, q + 4));
  return putS(o, p, b.readBigInt64BE(q).toString());
}
function u64hex(o: Buffer, p: number, b: Buffer, q: number): number {
  const hi = be32(b, q);
  const lo = be32(b, q + 4);
  if (hi === 0) return hex(o, p, lo);
  p = hex(o, p, hi);
  for (let s = 28; s >= 0; s -= 4) o[p++] = HEX[(lo >>> s) & 15];
  return p;
}
/** End of a str16 (u16 length, bytes) at q, or -1 past `lim` (as token-index.ts strEnd). */
function strEnd(b: Buffer, q: number, lim: number): number {
  if (q + 2 > lim) return -1;
  const e = q + 2 + be16(b, q);
  return e > lim ? -1 : e;
}

/** Returns a byte renderer for the text modes, or undefined for options it does not cover (-x). */
export function createPrauditByteRenderer(opts: PrauditOptions): PrauditByteRenderer | undefined {
  if (opts.xml) return undefined;
  const D = latin1(opts.delimiter ?? ',');
  // A one-byte delimiter is written inline; longer ones (rare) are left to the string renderer.
  if (D.length !== 1) return undefined;
  const dLen = 1;
  const d0 = D[0];
  const raw = opts.raw === true;
  const oneLine = opts.oneLine === true;
  const numericIds = raw || opts.noResolve === true;
  const users = numericIds ? undefined : (opts.users ?? hostUserNames());
  const status = returnStatusTable(opts.platform ?? hostPlatform()).map(latin1);
  const ctime = raw ? undefined : createCtimeWriter(opts.timeZone ?? defaultTimeZone());
  const events = opts.events;
  const short = opts.short === true;
  const TE = oneLine ? d0 : 10; // after every token: the delimiter with -l, else a newline
  const RECORD_END = oneLine ? latin1('\n') : latin1('');
  const MSEC_HEAD = latin1(' + ');
  const MSEC_TAIL = latin1(' msec');
  const ERROR = latin1('Error ');
  const USE_OK = latin1('successful use of priv');
  const USE_FAIL = latin1('failed use of priv');
  const names: (Buffer | undefined)[] = new Array(256);
  for (let id = 0; id < 256; id++) {
    const n = TEXT_NAME_BY_ID[id];
    if (n !== undefined) names[id] = raw ? latin1(String(id)) : latin1(n);
  }
  const ipcTypes = IPC_TYPE.map(latin1);
  const eventCache: (Buffer | undefined)[] = new Array(65536);
  const userCache = new Map<number, Buffer>();
  const groupCache = new Map<number, Buffer>();
  // The longest name (event, user, group) seen so far: the room reserved per token covers 5 of them. A longer
  // name is only found while writing; the record is then rendered again with enough room (OOB typed-array
  // writes are dropped, so nothing else is touched meanwhile).
  let longestName = 32;
  let redo = false;
  const noted = (n: Buffer): Buffer => {
    if (n.length > longestName) {
      longestName = n.length;
      redo = true;
    }
    return n;
  };

  // ---- output: records never span two buffers, so a refused record is undone by resetting `p` ----
  let o = Buffer.allocUnsafe(CHUNK);
  let p = 0;
  let recStart = 0;
  const full: Buffer[] = [];
  let fullBytes = 0;

  /** Makes room for n more bytes after `at` (the current record moves to a new buffer); returns the new `at`. */
  function grow(at: number, n: number): number {
    const keep = at - recStart;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, 2 * (keep + n)));
    o.copy(next, 0, recStart, at);
    if (recStart > 0) {
      full.push(o.subarray(0, recStart));
      fullBytes += recStart;
    }
    o = next;
    p -= recStart; // p is the record's start while it is being written
    recStart = 0;
    return keep;
  }

  function event(out: Buffer, w: number, ev: number): number {
    let e = eventCache[ev];
    if (e === undefined) {
      const d = raw ? undefined : events.describe(ev);
      e = noted(latin1(d === undefined ? String(ev) : short ? d.name : d.description));
      eventCache[ev] = e;
    }
    return putB(out, w, e);
  }
  function user(out: Buffer, w: number, id: number): number {
    if (!users) return sdec(out, w, id);
    let n = userCache.get(id);
    if (n === undefined) {
      n = noted(latin1(users.user(id) ?? String(id | 0)));
      userCache.set(id, n);
    }
    return putB(out, w, n);
  }
  function group(out: Buffer, w: number, id: number): number {
    if (!users) return sdec(out, w, id);
    let n = groupCache.get(id);
    if (n === undefined) {
      n = noted(latin1(users.group(id) ?? String(id | 0)));
      groupCache.set(id, n);
    }
    return putB(out, w, n);
  }
  function time32(out: Buffer, w: number, sec: number): number {
    return ctime ? ctime(out, w, sec) : dec(out, w, sec);
  }
  function msec(out: Buffer, w: number, ms: number): number {
    if (raw) return dec(out, w, ms);
    w = putB(out, w, MSEC_HEAD);
    w = dec(out, w, ms);
    return putB(out, w, MSEC_TAIL);
  }
  function ret(out: Buffer, w: number, n: number): number {
    return raw ? dec(out, w, n) : putB(out, w, status[n]);
  }
  /** The header fields shared by header32 and header32_ex: size, version, event, modifier. */
  function headerHead(out: Buffer, w: number, b: Buffer, q: number): number {
    w = dec(out, w, be32(b, q)); out[w++] = d0;
    w = dec(out, w, b[q + 4]); out[w++] = d0;
    w = event(out, w, be16(b, q + 5)); out[w++] = d0;
    w = dec(out, w, be16(b, q + 7));
    out[w] = d0;
    return w + 1;
  }
  function subject(out: Buffer, w: number, b: Buffer, q: number): number {
    w = user(out, w, be32(b, q)); out[w++] = d0;
    w = user(out, w, be32(b, q + 4)); out[w++] = d0;
    w = group(out, w, be32(b, q + 8)); out[w++] = d0;
    w = user(out, w, be32(b, q + 12)); out[w++] = d0;
    w = group(out, w, be32(b, q + 16)); out[w++] = d0;
    w = dec(out, w, be32(b, q + 20)); out[w++] = d0;
    w = dec(out, w, be32(b, q + 24));
    out[w] = d0;
    return w + 1;
  }

  /**
   * Renders the token at `off` (name, fields, token end) at `w` if it lies within `lim`; returns the output
   * position after it, or -1 when the token does not decode there or is a kind this path leaves to the slow
   * renderer. `tokenEnd` receives the token's end offset. The extent rules are token-index.ts tokenEnd's, so a
   * record accepted here is one that decodeRecord decodes without a diagnostic.
   */
  let tokEnd = 0;

  // The most frequent kernel tokens get small functions of their own (the helpers inline into them; the big
  // switch below is too large for that): header32, subject32, return32, trailer.
  function header32(b: Buffer, off: number, out: Buffer, w: number): number {
    const q = off + 1;
    w = putB(out, w, names[0x14]!); out[w++] = d0;
    w = headerHead(out, w, b, q);
    w = time32(out, w, be32(b, q + 9)); out[w++] = d0;
    w = msec(out, w, be32(b, q + 13));
    tokEnd = off + 18;
    out[w] = TE;
    return w + 1;
  }
  function subject32(b: Buffer, off: number, out: Buffer, w: number): number {
    const q = off + 1;
    w = putB(out, w, names[0x24]!); out[w++] = d0;
    w = subject(out, w, b, q);
    w = dec(out, w, be32(b, q + 28)); out[w++] = d0;
    w = ipv4(out, w, b, q + 32);
    tokEnd = off + 37;
    out[w] = TE;
    return w + 1;
  }
  function return32(b: Buffer, off: number, out: Buffer, w: number): number {
    w = putB(out, w, names[0x27]!); out[w++] = d0;
    w = ret(out, w, b[off + 1]); out[w++] = d0;
    w = dec(out, w, be32(b, off + 2));
    tokEnd = off + 6;
    out[w] = TE;
    return w + 1;
  }
  function trailer(b: Buffer, off: number, out: Buffer, w: number): number {
    w = putB(out, w, names[0x13]!); out[w++] = d0;
    w = dec(out, w, be32(b, off + 3));
    tokEnd = off + 7;
    out[w] = TE;
    return w + 1;
  }

  function path(b: Buffer, off: number, lim: number, w: number): number {
    const e = strEnd(b, off + 1, lim);
    if (e < 0) return -1;
    const need = 64 + e - off;
    if (w + need > o.length) w = grow(w, need);
    const out = o;
    w = putB(out, w, names[0x23]!); out[w++] = d0;
    w = noNul(out, w, b, off + 3, e);
    tokEnd = e;
    out[w] = TE;
    return w + 1;
  }
  function arg32(b: Buffer, off: number, lim: number, w: number): number {
    const e = strEnd(b, off + 6, lim);
    if (e < 0) return -1;
    const need = 64 + e - off;
    if (w + need > o.length) w = grow(w, need);
    const out = o;
    w = putB(out, w, names[0x2d]!); out[w++] = d0;
    w = dec(out, w, b[off + 1]); out[w++] = d0;
    out[w++] = 48;
    out[w++] = 120;
    w = hex(out, w, be32(b, off + 2)); out[w++] = d0;
    w = noNul(out, w, b, off + 8, e);
    tokEnd = e;
    out[w] = TE;
    return w + 1;
  }
  function attr32(b: Buffer, off: number, out: Buffer, w: number): number {
    const q = off + 1;
    w = putB(out, w, names[0x3e]!); out[w++] = d0;
    w = oct(out, w, be32(b, q)); out[w++] = d0;
    w = user(out, w, be32(b, q + 4)); out[w++] = d0;
    w = group(out, w, be32(b, q + 8)); out[w++] = d0;
    w = dec(out, w, be32(b, q + 12)); out[w++] = d0;
    w = s64dec(out, w, b, q + 16); out[w++] = d0;
    w = dec(out, w, be32(b, q + 24));
    tokEnd = off + 29;
    out[w] = TE;
    return w + 1;
  }

  function token(b: Buffer, off: number, lim: number, w: number): number {
    const id = b[off];
    if (id === 0x23) return path(b, off, lim, w);
    if (id === 0x2d) return arg32(b, off, lim, w);
    const name = names[id];
    if (name === undefined) return -1;
    // room for the fixed part of any token: numbers, addresses, up to 5 names, the delimiters
    let need = 256 + 5 * longestName + 24 * dLen;
    if (w + need > o.length) w = grow(w, need);
    let out = o;
    const q = off + 1;
    let e: number;
    if (id === 0x24) return off + 37 > lim ? -1 : subject32(b, off, out, w);
    if (id === 0x27) return off + 6 > lim ? -1 : return32(b, off, out, w);
    if (id === 0x14) return off + 18 > lim ? -1 : header32(b, off, out, w);
    if (id === 0x13) return off + 7 > lim ? -1 : trailer(b, off, out, w);
    if (id === 0x3e) return off + 29 > lim ? -1 : attr32(b, off, out, w);
    switch (id) {
      case 0x14: // header32
        e = off + 18;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = headerHead(out, w, b, q);
        w = time32(out, w, be32(b, q + 9)); out[w++] = d0;
        w = msec(out, w, be32(b, q + 13));
        break;
      case 0x15: { // header32_ex
        if (off + 14 > lim) return -1;
        const type = be32(b, q + 9);
        if (type !== 4 && type !== 16) return -1;
        e = off + 22 + type;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = headerHead(out, w, b, q);
        w = ipEx(out, w, type, b, q + 13); out[w++] = d0;
        const t = q + 13 + type;
        w = time32(out, w, be32(b, t)); out[w++] = d0;
        w = msec(out, w, be32(b, t + 4));
        break;
      }
      case 0x13: // trailer (its extent is checked by record())
        e = off + 7;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, be32(b, q + 2));
        break;
      case 0x11: // file
        e = strEnd(b, q + 8, lim);
        if (e < 0) return -1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = time32(out, w, be32(b, q)); out[w++] = d0;
        w = msec(out, w, be32(b, q + 4)); out[w++] = d0;
        w = noNul(out, w, b, q + 10, e);
        break;
      case 0x24: case 0x26: case 0x75: case 0x77: case 0x7a: case 0x7b: case 0x7c: case 0x7d: {
        const wide = id === 0x75 || id === 0x77 || id === 0x7c || id === 0x7d;
        let a = q + (wide ? 36 : 32);
        let type = 4;
        if (id >= 0x7a) {
          if (a + 4 > lim) return -1;
          type = be32(b, a);
          if (type !== 4 && type !== 16) return -1;
          a += 4;
        }
        e = a + type;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = subject(out, w, b, q);
        w = wide ? u64dec(out, w, b, q + 28) : dec(out, w, be32(b, q + 28));
        out[w++] = d0;
        w = type === 4 ? ipv4(out, w, b, a) : ipv6w(out, w, b, a);
        break;
      }
      case 0x27: // return32
        e = off + 6;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = ret(out, w, b[q]); out[w++] = d0;
        w = dec(out, w, be32(b, q + 1));
        break;
      case 0x72: // return64
        e = off + 10;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = ret(out, w, b[q]); out[w++] = d0;
        w = s64dec(out, w, b, q + 1);
        break;
      case 0x2d: // arg32
      case 0x71: { // arg64
        const wide = id === 0x71;
        e = strEnd(b, q + (wide ? 9 : 5), lim);
        if (e < 0) return -1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, b[q]); out[w++] = d0;
        out[w++] = 48;
        out[w++] = 120;
        w = wide ? u64hex(out, w, b, q + 1) : hex(out, w, be32(b, q + 1));
        out[w++] = d0;
        w = noNul(out, w, b, q + (wide ? 11 : 7), e);
        break;
      }
      case 0x23: case 0x28: case 0x60: // path, text, zonename
        e = strEnd(b, q, lim);
        if (e < 0) return -1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = noNul(out, w, b, q + 2, e);
        break;
      case 0x3e: case 0x73: // attr32, attr64
        e = off + (id === 0x73 ? 33 : 29);
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = oct(out, w, be32(b, q)); out[w++] = d0;
        w = user(out, w, be32(b, q + 4)); out[w++] = d0;
        w = group(out, w, be32(b, q + 8)); out[w++] = d0;
        w = dec(out, w, be32(b, q + 12)); out[w++] = d0;
        w = s64dec(out, w, b, q + 16); out[w++] = d0;
        w = id === 0x73 ? u64dec(out, w, b, q + 24) : dec(out, w, be32(b, q + 24));
        break;
      case 0x3c: case 0x3d: { // exec args / env: every string up to its NUL, as declared
        if (off + 5 > lim) return -1;
        const n = be32(b, q);
        let s = off + 5;
        for (let i = 0; i < n; i++) {
          const nul = b.indexOf(0, s);
          if (nul < 0 || nul >= lim) return -1;
          s = nul + 1;
        }
        e = s;
        need += n * dLen + e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name);
        s = off + 5;
        for (let i = 0; i < n; i++) {
          out[w++] = d0;
          for (let c = b[s++]; c !== 0; c = b[s++]) out[w++] = c;
        }
        break;
      }
      case 0x52: // exit
        e = off + 9;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = putB(out, w, ERROR);
        w = dec(out, w, be32(b, q)); out[w++] = d0;
        w = dec(out, w, be32(b, q + 4));
        break;
      case 0x22: { // ipc
        e = off + 6;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        const t = b[q];
        w = !raw && t >= 1 && t <= 3 ? putB(out, w, ipcTypes[t]) : dec(out, w, t);
        out[w++] = d0;
        w = dec(out, w, be32(b, q + 1));
        break;
      }
      case 0x32: // ipc_perm
        e = off + 29;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = user(out, w, be32(b, q)); out[w++] = d0;
        w = group(out, w, be32(b, q + 4)); out[w++] = d0;
        w = user(out, w, be32(b, q + 8)); out[w++] = d0;
        w = group(out, w, be32(b, q + 12)); out[w++] = d0;
        w = oct(out, w, be32(b, q + 16)); out[w++] = d0;
        w = dec(out, w, be32(b, q + 20)); out[w++] = d0;
        w = dec(out, w, be32(b, q + 24));
        break;
      case 0x2a: // in_addr
        e = off + 5;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = ipv4(out, w, b, q);
        break;
      case 0x7e: { // in_addr_ex
        if (off + 5 > lim) return -1;
        const type = be32(b, q);
        if (type !== 4 && type !== 16) return -1;
        e = off + 5 + type;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = ipEx(out, w, type, b, q + 4);
        break;
      }
      case 0x2b: // ip
        e = off + 21;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = byteHex(out, w, b[q]); out[w++] = d0;
        w = byteHex(out, w, b[q + 1]); out[w++] = d0;
        w = dec(out, w, be16(b, q + 2)); out[w++] = d0;
        w = dec(out, w, be16(b, q + 4)); out[w++] = d0;
        w = dec(out, w, be16(b, q + 6)); out[w++] = d0;
        w = byteHex(out, w, b[q + 8]); out[w++] = d0;
        w = byteHex(out, w, b[q + 9]); out[w++] = d0;
        w = dec(out, w, be16(b, q + 10)); out[w++] = d0;
        w = ipv4(out, w, b, q + 12); out[w++] = d0;
        w = ipv4(out, w, b, q + 16);
        break;
      case 0x2c: // iport
        e = off + 3;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = altHex(out, w, be16(b, q));
        break;
      case 0x29: { // opaque
        if (off + 3 > lim) return -1;
        const n = be16(b, q);
        e = off + 3 + n;
        if (e > lim) return -1;
        need += 2 * n;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, n); out[w++] = d0;
        if (n > 0) {
          out[w++] = 48;
          out[w++] = 120;
          for (let i = q + 2; i < e; i++) {
            out[w++] = HEX[b[i] >> 4];
            out[w++] = HEX[b[i] & 15];
          }
        }
        break;
      }
      case 0x2f: // seq
        e = off + 5;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, be32(b, q));
        break;
      case 0x2e: // socket
        e = off + 15;
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, be16(b, q)); out[w++] = d0;
        w = dec(out, w, be16(b, q + 2)); out[w++] = d0;
        w = ipv4(out, w, b, q + 4); out[w++] = d0;
        w = dec(out, w, be16(b, q + 8)); out[w++] = d0;
        w = ipv4(out, w, b, q + 10);
        break;
      case 0x7f: { // socket_ex
        if (off + 7 > lim) return -1;
        const type = be16(b, q + 4);
        if (type !== 4 && type !== 16) return -1;
        e = off + 11 + 2 * type;
        if (e > lim) return -1;
        const la = q + 8;
        const rp = la + type;
        w = putB(out, w, name); out[w++] = d0;
        w = altHex(out, w, be16(b, q)); out[w++] = d0;
        w = altHex(out, w, be16(b, q + 2)); out[w++] = d0;
        w = altHex(out, w, be16(b, q + 6)); out[w++] = d0;
        w = ipEx(out, w, type, b, la); out[w++] = d0;
        w = altHex(out, w, be16(b, rp)); out[w++] = d0;
        w = ipEx(out, w, type, b, rp + 2);
        break;
      }
      case 0x80: // socket-inet
      case 0x81: // socket-inet6
        e = off + (id === 0x80 ? 9 : 21);
        if (e > lim) return -1;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, be16(b, q)); out[w++] = d0;
        w = dec(out, w, be16(b, q + 2)); out[w++] = d0;
        w = id === 0x80 ? ipv4(out, w, b, q + 4) : ipv6w(out, w, b, q + 4);
        break;
      case 0x82: { // socket-unix
        if (off + 4 > lim) return -1;
        const nul = b.indexOf(0, q + 2);
        if (nul < 0 || nul >= lim) return -1;
        e = nul + 1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = dec(out, w, be16(b, q)); out[w++] = d0;
        w = cstr(out, w, b, q + 2, e);
        break;
      }
      case 0x39: // upriv
        e = strEnd(b, q + 1, lim);
        if (e < 0) return -1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = putB(out, w, b[q] ? USE_OK : USE_FAIL); out[w++] = d0;
        w = noNul(out, w, b, q + 3, e);
        break;
      case 0x38: { // privset
        const e1 = strEnd(b, q, lim);
        e = e1 < 0 ? -1 : strEnd(b, e1, lim);
        if (e < 0) return -1;
        need += e - off;
        if (w + need > o.length) w = grow(w, need);
        out = o;
        w = putB(out, w, name); out[w++] = d0;
        w = noNul(out, w, b, q + 2, e1); out[w++] = d0;
        w = noNul(out, w, b, e1 + 2, e);
        break;
      }
      case 0x3b: { // newgroups
        if (off + 3 > lim) return -1;
        const n = be16(b, q);
        e = off + 3 + 4 * n;
        if (e > lim) return -1;
        w = putB(out, w, name);
        for (let i = 0; i < n; i++) {
          need = longestName + 12 + dLen;
          if (w + need > o.length) w = grow(w, need);
          out = o;
          out[w++] = d0;
          w = group(out, w, be32(b, q + 2 + 4 * i));
        }
        break;
      }
      default:
        return -1;
    }
    tokEnd = e;
    out[w] = TE;
    return w + 1;
  }

  function record(b: Buffer, start: number, end: number): boolean {
    redo = false;
    const ok = renderRecord(b, start, end);
    if (!redo) return ok;
    p = recStart; // drop the first attempt (recStart follows the record when the buffer grows)
    return renderRecord(b, start, end);
  }

  function renderRecord(b: Buffer, start: number, end: number): boolean {
    recStart = p;
    const id = b[start];
    if (id === 0x11) {
      // a standalone file token: the framer gave it its exact extent
      const w = token(b, start, end, p);
      if (w < 0 || tokEnd !== end) return false;
      p = putB(o, w, RECORD_END);
      return true;
    }
    // 64-bit headers are rare: the slow path renders them
    if (!(id === 0x14 || id === 0x15)) return false;
    const n = end - start;
    const at = end - 7;
    if (n < 25 || be32(b, start + 1) !== n) return false;
    if (b[at] !== 0x13 || b[at + 1] !== 0xb1 || b[at + 2] !== 0x05 || be32(b, at + 3) !== n) return false;
    let w = token(b, start, at, p);
    let pos = tokEnd;
    while (w >= 0 && pos < at) {
      w = token(b, pos, at, w);
      pos = tokEnd;
    }
    if (w < 0 || pos !== at) return false;
    w = token(b, at, end, w);
    p = putB(o, w, RECORD_END);
    return true;
  }

  return {
    record,
    add(s: string): void {
      recStart = p;
      if (p + s.length > o.length) p = grow(p, s.length);
      p = putS(o, p, s);
    },
    get size(): number {
      return fullBytes + p;
    },
    take(): Buffer[] {
      if (p > 0) {
        full.push(o.subarray(0, p));
        o = Buffer.allocUnsafe(CHUNK);
        p = 0;
      }
      recStart = 0;
      fullBytes = 0;
      return full.splice(0);
    },
  };
}
