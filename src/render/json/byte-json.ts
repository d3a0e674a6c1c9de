/**
 * The fast path of `bsmkit print --json`: renders a framed record to its NDJSON line straight from the record's
 * bytes, with no token objects, no per-record strings and no Buffer views (profile of the decoded path: a fifth of
 * the time went to decodeRecord building token objects, and GC after it).
 *
 * It renders clean records only: header size equal to the record length, a valid trailer, and every body token of a
 * kind handled below, decodable exactly up to the trailer (token-index.ts tokenEnd's rules, so such a record is one
 * decodeRecord decodes without a diagnostic). Anything else (damage, which needs its diagnostics; data tokens;
 * standalone file tokens; oversized records) returns false with nothing written, and the caller pushes
 * decodeRecord's result through `push`, which renders it with the decoded-record renderer into the same output and
 * with the same XNU state. Output is byte-identical to createJsonRenderer (test/render/json-bytes.test.ts).
 */
import { isUtf8 } from 'node:buffer';
import type { BsmRecord } from '../../format/types.js';
import { tokenEnd } from '../../format/token-index.js';
import { u16, u32, view } from '../../format/decode-token.js';
import { ByteOut, digits, frag, HEX, VERBATIM } from './byte-out.js';
import { ipv6Text } from './addr-text.js';
import { Renderer, type JsonOptions } from './record-json.js';
import {
  typeFrag, type Opening,
  F_OFFSET, F_LENGTH, F_TRUE, F_FALSE, F_DIAGS, F_RAW, F_POS_OFFSET, F_SIZE, F_VERSION, F_ADDRTYPE, F_ADDR, F_TIME,
  F_SEC, F_MSEC, F_COUNT, F_NAME, F_NAME_HEX, F_IPCID, F_PATH, F_PATH_HEX, F_EUID, F_EGID, F_RUID, F_RGID, F_PID,
  F_SID, F_PORT, F_VALUE, F_TEXT, F_TEXT_HEX, F_ZONE_HEX, F_TOS, F_TOTALLENGTH, F_IPID, F_FRAGOFFSET, F_TTL,
  F_PROTOCOL, F_CHECKSUM, F_SRC, F_DST, F_SOCKTYPE, F_LOCALPORT, F_LOCALADDR, F_REMOTEPORT, F_REMOTEADDR, F_SEQ,
  F_UID, F_GID, F_CUID, F_CGID, F_MODE, F_KEY, F_PRIVTYPE_HEX, F_PRIVSET, F_PRIVSET_HEX, F_PRIV, F_PRIV_HEX,
  F_TRUNCATED, F_STRINGS, F_STRINGS_HEX, F_NULL, F_FSID, F_NODEID, F_DEV, F_PORTRECORDED, F_PORTSWAPPED, F_UUID,
  F_SIGNINGID, F_SIGNINGID_HEX, F_SIGNINGIDTRUNC, F_TEAMID, F_TEAMID_HEX, F_TEAMIDTRUNC, F_CDHASH,
  COMMA, QUOTE, CLOSE_OBJ, CLOSE_ARR, NL,
  O_TRAILER, O_TRAILER_STD, O_FILE, O_IPC, O_PATH, O_SUBJECTS, O_TEXT, O_ZONENAME, O_OPAQUE, O_IN_ADDR,
  O_IN_ADDR_EX, O_IP, O_IPORT, O_ARG32, O_ARG64, O_SOCKET, O_SEQ, O_IPC_PERM, O_PRIVSET, O_UPRIV, O_NEWGROUPS,
  O_STRING_LISTS, O_ATTR32, O_ATTR64, O_EXIT, O_SOCKET_EX, O_SOCKINET32, O_SOCKINET128, O_SOCKUNIX, O_RIGHTS,
  O_ARG_UUID, O_RET_UUID, O_IDENTITY,
  KIND_HEADER, KIND_HEADER_SIZE, F_TOKENS_AFTER_HEADER, F_END_CLEAN,
  DOMAIN_NAMES, SOCKTYPE_NAMES, IPC_NAMES, errnoFrags, ret32Frags, ret64Frags,
} from './fragments.js';

export interface JsonByteRenderer {
  /**
   * Appends the NDJSON line (with its newline) of the clean record in b[start, end), found at `offset` in its
   * source, and returns true; returns false, writing nothing, when this path does not render it: the caller then
   * decodes the record and passes it to `push`.
   */
  record(b: Buffer, start: number, end: number, offset: number): boolean;
  /** Appends the line of a decoded record (the fallback), in order with the lines `record` wrote. */
  push(rec: BsmRecord): void;
  /** Bytes written and not yet taken. */
  readonly pending: number;
  /** The pending bytes (UTF-8 NDJSON); the caller owns them. */
  take(): Buffer;
}

/** Records longer than this go to the fallback: the room reserved per record is a multiple of its length. */
const MAX_FAST = 1 << 16;
/**
 * Output bytes reserved per input byte. The densest case is a run of empty 3-byte path_attr tokens with token
 * positions (~32 output bytes per input byte); strings expand at most 6x (`\u00XX`), plus 2x for `_hex`.
 */
const ROOM_PER_BYTE = 48;
const ROOM_FIXED = 1024;
const TRAILER = 7;
const TRAILER_MAGIC = 0xb105;

// ---- positional writers: each writes at p of o (room already reserved) and returns the end -----------------

function putF(o: Uint8Array, p: number, f: Uint8Array): number {
  const n = f.length;
  // The native copy wins from about 16 bytes on (measured on Node 20: 3x faster at 40 bytes, slower at 8).
  if (n > 16) {
    o.set(f, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) o[p++] = f[i];
  return p;
}
function kn(o: Uint8Array, p: number, key: Uint8Array, n: number): number {
  const k = key.length;
  for (let i = 0; i < k; i++) o[p++] = key[i];
  if (n < 10) {
    // ids, flags and zero fields: most values are one digit
    o[p] = 48 + n;
    return p + 1;
  }
  return digits(o, p, n);
}
/** The 64-bit big-endian value at q as a quoted decimal (ByteOut.u64). */
function u64q(o: Uint8Array, p: number, b: Buffer, q: number): number {
  const hi = u32(q);
  o[p++] = QUOTE;
  if (hi < 0x200000) p = digits(o, p, hi * 0x100000000 + u32(q + 4));
  else p = ascii(o, p, b.readBigUInt64BE(q).toString());
  o[p] = QUOTE;
  return p + 1;
}
/** The 64-bit value at q as a number for the time writer (inexact above 2^53, where the time is null anyway). */
function u64n(q: number): number {
  return u32(q) * 0x100000000 + u32(q + 4);
}
function ascii(o: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
  return p;
}
/** Quoted dotted quad of the 4 bytes at q. */
function ipv4q(o: Uint8Array, p: number, b: Buffer, q: number): number {
  o[p++] = QUOTE;
  p = digits(o, p, b[q]);
  o[p++] = 0x2e;
  p = digits(o, p, b[q + 1]);
  o[p++] = 0x2e;
  p = digits(o, p, b[q + 2]);
  o[p++] = 0x2e;
  p = digits(o, p, b[q + 3]);
  o[p] = QUOTE;
  return p + 1;
}
/** Quoted address text of the `len` (4 or 16) bytes at q. */
function addrq(o: Uint8Array, p: number, b: Buffer, q: number, len: number): number {
  if (len === 4) return ipv4q(o, p, b, q);
  o[p++] = QUOTE;
  p = ascii(o, p, ipv6Text(b, q));
  o[p] = QUOTE;
  return p + 1;
}
/** Quoted lowercase hex of b[s, e). */
function hexq(o: Uint8Array, p: number, b: Buffer, s: number, e: number): number {
  o[p++] = QUOTE;
  for (let i = s; i < e; i++) {
    const x = b[i];
    o[p++] = HEX[x >> 4];
    o[p++] = HEX[x & 15];
  }
  o[p] = QUOTE;
  return p + 1;
}

/** Set by strq: whether the last string was valid UTF-8 (false: the caller adds the `_hex` sibling). */
let strOk = true;
/** ByteOut.str over b[s, e): the string rule of docs/json-format.md (one trailing NUL dropped). */
function strq(o: Buffer, p: number, b: Buffer, s: number, e: number): number {
  if (e > s && b[e - 1] === 0) e--;
  const start = p;
  o[p++] = QUOTE;
  for (let i = s; i < e; i++) {
    const x = b[i];
    if (VERBATIM[x] === 0) return strSlow(o, start, b, s, e);
    o[p++] = x;
  }
  o[p] = QUOTE;
  strOk = true;
  return p + 1;
}
function strSlow(o: Buffer, p: number, b: Buffer, s: number, e: number): number {
  strOk = isUtf8(b.subarray(s, e));
  return p + o.write(JSON.stringify(b.toString('utf8', s, e)), p, 'utf8');
}
/** A string value plus `hexKey` and the hex of all its bytes (NUL included) when it is not valid UTF-8. */
function strv(o: Buffer, p: number, hexKey: Uint8Array, b: Buffer, s: number, e: number): number {
  p = strq(o, p, b, s, e);
  if (strOk) return p;
  p = putF(o, p, hexKey);
  return hexq(o, p, b, s, e);
}
/** Whether strq would find b[s, e) valid (for strings_hex). */
function strValid(b: Buffer, s: number, e: number): boolean {
  if (e > s && b[e - 1] === 0) e--;
  for (let i = s; i < e; i++) if (VERBATIM[b[i]] === 0) return isUtf8(b.subarray(s, e));
  return true;
}

/** Token openings by id, for the kinds whose first key follows the type directly. */
const OPEN = new Array<Opening | undefined>(256);
for (const [id, type] of [[0x24, 'subject32'], [0x26, 'process32'], [0x75, 'subject64'], [0x77, 'process64'],
  [0x7a, 'subject32_ex'], [0x7b, 'process32_ex'], [0x7c, 'subject64_ex'], [0x7d, 'process64_ex']] as const) {
  OPEN[id] = O_SUBJECTS.get(type);
}
for (const [id, type] of [[0x3c, 'exec_args'], [0x3d, 'exec_env'], [0x25, 'path_attr'], [0xee, 'krb5_principal'], [0xef, 'cert_hash']] as const) {
  OPEN[id] = O_STRING_LISTS.get(type);
}
/** Lengths of the fixed-size body tokens (token-index.ts tokenEnd's), 0 for the others: saves the walk a call. */
const FIXED_LENGTH = new Uint8Array(256);
for (const [id, n] of [[0x24, 37], [0x26, 37], [0x75, 41], [0x77, 41], [0x27, 6], [0x72, 10], [0x2a, 5], [0x2b, 21],
  [0x2c, 3], [0x2e, 15], [0x2f, 5], [0x32, 29], [0x3e, 29], [0x73, 33], [0x52, 9], [0x80, 9], [0x81, 21], [0x83, 17],
  [0x22, 6], [0x13, 7]] as const) {
  FIXED_LENGTH[id] = n;
}
const HEADER_INDEX_BY_ID = new Int8Array(256).fill(-1);
HEADER_INDEX_BY_ID[0x14] = 0;
HEADER_INDEX_BY_ID[0x15] = 1;
HEADER_INDEX_BY_ID[0x74] = 2;
HEADER_INDEX_BY_ID[0x79] = 3;
const HEADER_TYPE_FRAGS = ['header32', 'header32_ex', 'header64', 'header64_ex'].map(typeFrag);
const O_UUID_DASH = [4, 6, 8, 10];

class ByteRenderer implements JsonByteRenderer {
  private readonly slow: Renderer;
  private readonly out: ByteOut;
  private readonly errno = errnoFrags();
  private readonly ret32 = ret32Frags();
  private readonly ret64 = ret64Frags();
  private readonly positions: boolean;
  private readonly raw: boolean;
  private readonly xnuMode: boolean | 'auto';
  /** Record being rendered: its start (token offsets are relative to it) and end of body (the trailer). */
  private rs = 0;
  private at = 0;
  private hEnd = 0;
  /** Whether the current record holds an identity token: -1 not yet known. */
  private idHere = -1;

  constructor(opts: JsonOptions) {
    this.slow = new Renderer(opts, true);
    this.out = this.slow.out;
    this.positions = opts.tokenPositions === true;
    this.raw = opts.raw === true;
    this.xnuMode = opts.xnu ?? 'auto';
  }

  get pending(): number {
    return this.out.pos;
  }

  take(): Buffer {
    return this.out.take();
  }

  push(rec: BsmRecord): void {
    this.slow.push(rec);
  }

  record(b: Buffer, start: number, end: number, offset: number): boolean {
    const n = end - start;
    const hid = b[start];
    const hx = HEADER_INDEX_BY_ID[hid];
    if (hx < 0 || n < 25 || n > MAX_FAST) return false;
    view(b);
    const at = end - TRAILER;
    if (u32(start + 1) !== n || b[at] !== 0x13 || u16(at + 1) !== TRAILER_MAGIC || u32(at + 3) !== n) return false;
    const hEnd = tokenEnd(b, start, end);
    if (hEnd < 0 || hEnd > at) return false;
    this.rs = start;
    this.at = at;
    this.hEnd = hEnd;
    this.idHere = -1;
    const ev = this.slow.eventFields(u16(start + 6));
    const out = this.out;
    out.room(ROOM_PER_BYTE * n + ROOM_FIXED + ev.length);
    const o = out.buf;
    let p = out.pos;

    p = this.header(o, p, b, start, n, hx, hEnd, offset, ev);

    // body tokens, then the trailer
    let pos = hEnd;
    while (pos < at) {
      const fixed = FIXED_LENGTH[b[pos]];
      const e = fixed !== 0 ? pos + fixed : tokenEnd(b, pos, at);
      if (e < 0 || e > at) return false;
      p = this.token(o, p, b, pos, e);
      if (p < 0) return false;
      o[p++] = COMMA;
      pos = e;
    }
    if (this.positions) {
      p = putF(o, p, O_TRAILER.type);
      p = kn(o, p, F_POS_OFFSET, at - start);
      p = kn(o, p, F_LENGTH, TRAILER);
      p = putF(o, p, O_TRAILER.key);
      p = digits(o, p, TRAILER_MAGIC);
      p = putF(o, p, F_COUNT);
    } else p = putF(o, p, O_TRAILER_STD);
    p = digits(o, p, n);
    o[p++] = CLOSE_OBJ;
    if (this.raw) {
      p = putF(o, p, F_DIAGS);
      o[p++] = CLOSE_ARR;
      p = putF(o, p, F_RAW);
      p = hexq(o, p, b, start, end);
      o[p++] = CLOSE_OBJ;
    } else p = putF(o, p, F_END_CLEAN);
    o[p++] = NL;
    out.pos = p;
    if (this.idHere === 1 && this.xnuMode === 'auto') this.slow.xnuSeen = true;
    return true;
  }

  /** The record prefix and the header object, up to the opening of the tokens array. */
  private header(o: Buffer, p: number, b: Buffer, start: number, n: number, hx: number, hEnd: number, offset: number, ev: Uint8Array): number {
    p = kn(o, p, F_OFFSET, offset);
    p = kn(o, p, F_LENGTH, n);
    if (this.positions) {
      p = putF(o, p, KIND_HEADER[1]);
      p = putF(o, p, HEADER_TYPE_FRAGS[hx]);
      p = kn(o, p, F_POS_OFFSET, 0);
      p = kn(o, p, F_LENGTH, hEnd - start);
      p = putF(o, p, F_SIZE);
    } else p = putF(o, p, KIND_HEADER_SIZE[hx][1]);
    const q = start + 1;
    p = digits(o, p, n);
    p = kn(o, p, F_VERSION, b[q + 4]);
    p = putF(o, p, ev);
    p = digits(o, p, u16(q + 7));
    let t = q + 9;
    if (hx === 1 || hx === 3) {
      const type = u32(t);
      p = kn(o, p, F_ADDRTYPE, type);
      p = putF(o, p, F_ADDR);
      p = addrq(o, p, b, t + 4, type);
      t += 4 + type;
    }
    if (hx < 2) {
      const sec = u32(t), msec = u32(t + 4);
      p = putF(o, p, F_TIME);
      p = this.slow.time.put(o, p, sec, msec);
      p = kn(o, p, F_SEC, sec);
      p = kn(o, p, F_MSEC, msec);
    } else {
      const time = this.slow.time;
      p = putF(o, p, F_TIME);
      p = time.put(o, p, u64n(t), u64n(t + 8));
      p = putF(o, p, F_SEC);
      p = u64q(o, p, b, t);
      p = putF(o, p, F_MSEC);
      p = u64q(o, p, b, t + 8);
    }
    o[p++] = CLOSE_OBJ;
    p = putF(o, p, F_TOKENS_AFTER_HEADER);
    return p;
  }

  /** Opens a token object: merged fragment, or type + positions + first key. */
  private open(o: Uint8Array, p: number, op: Opening, off: number, e: number): number {
    if (!this.positions) return putF(o, p, op.merged);
    p = putF(o, p, op.type);
    p = kn(o, p, F_POS_OFFSET, off - this.rs);
    p = kn(o, p, F_LENGTH, e - off);
    return putF(o, p, op.key);
  }

  /** Whether a socket-inet6 port in this record is XNU's byte-swapped one (Renderer.isXnu). */
  private isXnu(b: Buffer): boolean {
    if (this.xnuMode !== 'auto') return this.xnuMode;
    if (this.slow.xnuSeen) return true;
    if (this.idHere < 0) {
      this.idHere = 0;
      for (let pos = this.hEnd; pos < this.at; ) {
        if (b[pos] === 0xed) {
          this.idHere = 1;
          break;
        }
        const e = tokenEnd(b, pos, this.at);
        if (e < 0) break;
        pos = e;
      }
    }
    return this.idHere === 1;
  }

  /**
   * Writes the token b[off, e) and its closing brace; -1 for a kind left to the fallback. The kernel's everyday
   * tokens get small methods of their own, so the writers inline into them (the big switch is too large for that).
   */
  private token(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    switch (b[off]) {
      case 0x24:
        return this.subject32(o, p, b, off, e);
      case 0x27:
        return this.return32(o, p, b, off, e);
      case 0x2d:
        return this.arg32(o, p, b, off, e);
      case 0x23:
        return this.path(o, p, b, off, e);
      case 0x3e:
        return this.attr32(o, p, b, off, e);
      case 0x52:
        return this.exit(o, p, b, off, e);
      default:
        return this.tokenAny(o, p, b, off, e);
    }
  }

  private subject32(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    const q = off + 1;
    p = this.open(o, p, O_SUBJECT32, off, e);
    p = digits(o, p, u32(q));
    p = kn(o, p, F_EUID, u32(q + 4));
    p = kn(o, p, F_EGID, u32(q + 8));
    p = kn(o, p, F_RUID, u32(q + 12));
    p = kn(o, p, F_RGID, u32(q + 16));
    p = kn(o, p, F_PID, u32(q + 20));
    p = kn(o, p, F_SID, u32(q + 24));
    p = kn(o, p, F_PORT, u32(q + 28));
    p = putF(o, p, F_ADDRTYPE4_ADDR);
    p = ipv4q(o, p, b, q + 32);
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  private return32(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    const st = b[off + 1];
    if (this.positions) {
      p = putF(o, p, O_RETURN32);
      p = kn(o, p, F_POS_OFFSET, off - this.rs);
      p = kn(o, p, F_LENGTH, e - off);
      p = putF(o, p, this.errno[st]);
      p = putF(o, p, F_VALUE);
    } else p = putF(o, p, this.ret32[st]);
    p = digits(o, p, u32(off + 2));
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  private arg32(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    const q = off + 1;
    p = this.open(o, p, O_ARG32, off, e);
    p = digits(o, p, b[q]);
    p = kn(o, p, F_VALUE, u32(q + 1));
    p = putF(o, p, F_TEXT);
    p = strv(o, p, F_TEXT_HEX, b, q + 7, e);
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  private path(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    p = this.open(o, p, O_PATH, off, e);
    p = strv(o, p, F_PATH_HEX, b, off + 3, e);
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  private attr32(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    const q = off + 1;
    p = this.open(o, p, O_ATTR32, off, e);
    p = digits(o, p, u32(q));
    p = kn(o, p, F_UID, u32(q + 4));
    p = kn(o, p, F_GID, u32(q + 8));
    p = kn(o, p, F_FSID, u32(q + 12));
    p = putF(o, p, F_NODEID);
    p = u64q(o, p, b, q + 16);
    p = kn(o, p, F_DEV, u32(q + 24));
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  private exit(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    p = this.open(o, p, O_EXIT, off, e);
    p = digits(o, p, u32(off + 1));
    p = kn(o, p, F_VALUE, u32(off + 5));
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  /** Every other kind this path renders (token() sends the hot ones to their own methods above). */
  private tokenAny(o: Buffer, p: number, b: Buffer, off: number, e: number): number {
    const id = b[off];
    const q = off + 1;
    switch (id) {
      case 0x26:
      case 0x75:
      case 0x77:
      case 0x7a:
      case 0x7b:
      case 0x7c:
      case 0x7d: {
        p = this.open(o, p, OPEN[id]!, off, e);
        p = digits(o, p, u32(q));
        p = kn(o, p, F_EUID, u32(q + 4));
        p = kn(o, p, F_EGID, u32(q + 8));
        p = kn(o, p, F_RUID, u32(q + 12));
        p = kn(o, p, F_RGID, u32(q + 16));
        p = kn(o, p, F_PID, u32(q + 20));
        p = kn(o, p, F_SID, u32(q + 24));
        p = putF(o, p, F_PORT);
        const wide = id === 0x75 || id === 0x77 || id === 0x7c || id === 0x7d;
        let a = q + 28;
        if (wide) {
          p = u64q(o, p, b, a);
          a += 8;
        } else {
          p = digits(o, p, u32(a));
          a += 4;
        }
        let type = 4;
        if (id >= 0x7a) {
          type = u32(a);
          a += 4;
        }
        p = kn(o, p, F_ADDRTYPE, type);
        p = putF(o, p, F_ADDR);
        p = addrq(o, p, b, a, type);
        break;
      }
      case 0x72: {
        const st = b[q];
        if (this.positions) {
          p = putF(o, p, O_RETURN64);
          p = kn(o, p, F_POS_OFFSET, off - this.rs);
          p = kn(o, p, F_LENGTH, e - off);
          p = putF(o, p, this.errno[st]);
          p = putF(o, p, F_VALUE);
        } else p = putF(o, p, this.ret64[st]);
        p = u64q(o, p, b, q + 1);
        break;
      }
      case 0x71:
        p = this.open(o, p, O_ARG64, off, e);
        p = digits(o, p, b[q]);
        p = putF(o, p, F_VALUE);
        p = u64q(o, p, b, q + 1);
        p = putF(o, p, F_TEXT);
        p = strv(o, p, F_TEXT_HEX, b, q + 11, e);
        break;
      case 0x28:
        p = this.open(o, p, O_TEXT, off, e);
        p = strv(o, p, F_TEXT_HEX, b, q + 2, e);
        break;
      case 0x60:
        p = this.open(o, p, O_ZONENAME, off, e);
        p = strv(o, p, F_ZONE_HEX, b, q + 2, e);
        break;
      case 0x73:
        p = this.open(o, p, O_ATTR64, off, e);
        p = digits(o, p, u32(q));
        p = kn(o, p, F_UID, u32(q + 4));
        p = kn(o, p, F_GID, u32(q + 8));
        p = kn(o, p, F_FSID, u32(q + 12));
        p = putF(o, p, F_NODEID);
        p = u64q(o, p, b, q + 16);
        p = putF(o, p, F_DEV);
        p = u64q(o, p, b, q + 24);
        break;
      case 0x3c:
      case 0x3d:
      case 0xee:
      case 0xef:
      case 0x25: {
        const short = id === 0x25;
        p = this.open(o, p, OPEN[id]!, off, e);
        const count = short ? u16(q) : u32(q);
        p = digits(o, p, count);
        p = putF(o, p, F_TRUNCATED);
        p = putF(o, p, F_FALSE);
        p = this.stringList(o, p, b, off + (short ? 3 : 5), count);
        break;
      }
      case 0x22: {
        p = this.open(o, p, O_IPC, off, e);
        const type = b[q];
        p = digits(o, p, type);
        const name = IPC_NAMES.get(type);
        if (name !== undefined) p = putF(o, p, name);
        p = kn(o, p, F_IPCID, u32(q + 1));
        break;
      }
      case 0x80:
        p = this.open(o, p, O_SOCKINET32, off, e);
        p = digits(o, p, u16(q));
        p = kn(o, p, F_PORT, u16(q + 2));
        p = putF(o, p, F_ADDR);
        p = ipv4q(o, p, b, q + 4);
        break;
      case 0x81: {
        const x = this.isXnu(b);
        p = this.open(o, p, O_SOCKINET128, off, e);
        p = digits(o, p, u16(q));
        const port = u16(q + 2);
        p = kn(o, p, F_PORT, x ? ((port & 0xff) << 8) | (port >>> 8) : port);
        p = kn(o, p, F_PORTRECORDED, port);
        p = putF(o, p, F_PORTSWAPPED);
        p = putF(o, p, x ? F_TRUE : F_FALSE);
        p = putF(o, p, F_ADDR);
        p = addrq(o, p, b, q + 4, 16);
        break;
      }
      case 0x7f: {
        p = this.open(o, p, O_SOCKET_EX, off, e);
        const domain = u16(q);
        p = digits(o, p, domain);
        const dn = DOMAIN_NAMES.get(domain);
        if (dn !== undefined) p = putF(o, p, dn);
        const st = u16(q + 2);
        p = kn(o, p, F_SOCKTYPE, st);
        const tn = SOCKTYPE_NAMES.get(st);
        if (tn !== undefined) p = putF(o, p, tn);
        const type = u16(q + 4);
        p = kn(o, p, F_ADDRTYPE, type);
        p = kn(o, p, F_LOCALPORT, u16(q + 6));
        p = putF(o, p, F_LOCALADDR);
        p = addrq(o, p, b, q + 8, type);
        const r = q + 8 + type;
        p = kn(o, p, F_REMOTEPORT, u16(r));
        p = putF(o, p, F_REMOTEADDR);
        p = addrq(o, p, b, r + 2, type);
        break;
      }
      case 0x32:
        p = this.open(o, p, O_IPC_PERM, off, e);
        p = digits(o, p, u32(q));
        p = kn(o, p, F_GID, u32(q + 4));
        p = kn(o, p, F_CUID, u32(q + 8));
        p = kn(o, p, F_CGID, u32(q + 12));
        p = kn(o, p, F_MODE, u32(q + 16));
        p = kn(o, p, F_SEQ, u32(q + 20));
        p = kn(o, p, F_KEY, u32(q + 24));
        break;
      case 0x11: {
        p = this.open(o, p, O_FILE, off, e);
        const sec = u32(q), msec = u32(q + 4);
        p = this.slow.time.put(o, p, sec, msec);
        p = kn(o, p, F_SEC, sec);
        p = kn(o, p, F_MSEC, msec);
        p = putF(o, p, F_NAME);
        p = strv(o, p, F_NAME_HEX, b, q + 10, e);
        break;
      }
      case 0x29:
        p = this.open(o, p, O_OPAQUE, off, e);
        p = hexq(o, p, b, q + 2, e);
        break;
      case 0x2a:
        p = this.open(o, p, O_IN_ADDR, off, e);
        p = ipv4q(o, p, b, q);
        break;
      case 0x7e: {
        p = this.open(o, p, O_IN_ADDR_EX, off, e);
        const type = u32(q);
        p = digits(o, p, type);
        p = putF(o, p, F_ADDR);
        p = addrq(o, p, b, q + 4, type);
        break;
      }
      case 0x2b:
        p = this.open(o, p, O_IP, off, e);
        p = digits(o, p, b[q]);
        p = kn(o, p, F_TOS, b[q + 1]);
        p = kn(o, p, F_TOTALLENGTH, u16(q + 2));
        p = kn(o, p, F_IPID, u16(q + 4));
        p = kn(o, p, F_FRAGOFFSET, u16(q + 6));
        p = kn(o, p, F_TTL, b[q + 8]);
        p = kn(o, p, F_PROTOCOL, b[q + 9]);
        p = kn(o, p, F_CHECKSUM, u16(q + 10));
        p = putF(o, p, F_SRC);
        p = ipv4q(o, p, b, q + 12);
        p = putF(o, p, F_DST);
        p = ipv4q(o, p, b, q + 16);
        break;
      case 0x2c:
        p = this.open(o, p, O_IPORT, off, e);
        p = digits(o, p, u16(q));
        break;
      case 0x2e:
        p = this.open(o, p, O_SOCKET, off, e);
        p = digits(o, p, u16(q));
        p = kn(o, p, F_LOCALPORT, u16(q + 2));
        p = putF(o, p, F_LOCALADDR);
        p = ipv4q(o, p, b, q + 4);
        p = kn(o, p, F_REMOTEPORT, u16(q + 8));
        p = putF(o, p, F_REMOTEADDR);
        p = ipv4q(o, p, b, q + 10);
        break;
      case 0x2f:
        p = this.open(o, p, O_SEQ, off, e);
        p = digits(o, p, u32(q));
        break;
      case 0x38: {
        p = this.open(o, p, O_PRIVSET, off, e);
        const e1 = q + 2 + u16(q);
        p = strv(o, p, F_PRIVTYPE_HEX, b, q + 2, e1);
        p = putF(o, p, F_PRIVSET);
        p = strv(o, p, F_PRIVSET_HEX, b, e1 + 2, e);
        break;
      }
      case 0x39:
        p = this.open(o, p, O_UPRIV, off, e);
        p = digits(o, p, b[q]);
        p = putF(o, p, F_PRIV);
        p = strv(o, p, F_PRIV_HEX, b, q + 3, e);
        break;
      case 0x3b: {
        p = this.open(o, p, O_NEWGROUPS, off, e);
        o[p++] = 0x5b;
        for (let g = q + 2; g < e; g += 4) {
          if (g !== q + 2) o[p++] = COMMA;
          p = digits(o, p, u32(g));
        }
        o[p++] = CLOSE_ARR;
        break;
      }
      case 0x82:
        p = this.open(o, p, O_SOCKUNIX, off, e);
        p = digits(o, p, u16(q));
        p = putF(o, p, F_PATH);
        p = strv(o, p, F_PATH_HEX, b, q + 2, e);
        break;
      case 0x83:
        p = this.open(o, p, O_RIGHTS, off, e);
        o[p++] = 0x5b;
        p = u64q(o, p, b, q);
        o[p++] = COMMA;
        p = u64q(o, p, b, q + 8);
        o[p++] = CLOSE_ARR;
        break;
      case 0x84:
      case 0x85: {
        p = this.open(o, p, id === 0x84 ? O_ARG_UUID : O_RET_UUID, off, e);
        p = digits(o, p, b[q]);
        p = putF(o, p, F_UUID);
        o[p++] = QUOTE;
        for (let i = 0; i < 16; i++) {
          if (O_UUID_DASH.includes(i)) o[p++] = 0x2d;
          const x = b[q + 1 + i];
          o[p++] = HEX[x >> 4];
          o[p++] = HEX[x & 15];
        }
        o[p++] = QUOTE;
        p = putF(o, p, F_TEXT);
        p = strv(o, p, F_TEXT_HEX, b, q + 19, e);
        break;
      }
      case 0xed: {
        this.idHere = 1;
        p = this.open(o, p, O_IDENTITY, off, e);
        p = digits(o, p, u32(q));
        const s1 = q + 6;
        const e1 = s1 + u16(q + 4);
        p = putF(o, p, F_SIGNINGID);
        p = strv(o, p, F_SIGNINGID_HEX, b, s1, e1);
        p = kn(o, p, F_SIGNINGIDTRUNC, b[e1]);
        const s2 = e1 + 3;
        const e2 = s2 + u16(e1 + 1);
        p = putF(o, p, F_TEAMID);
        p = strv(o, p, F_TEAMID_HEX, b, s2, e2);
        p = kn(o, p, F_TEAMIDTRUNC, b[e2]);
        p = putF(o, p, F_CDHASH);
        p = hexq(o, p, b, e2 + 3, e);
        break;
      }
      case 0x13: {
        // A trailer inside the body: decodeRecord keeps whatever magic it has.
        p = this.open(o, p, O_TRAILER, off, e);
        p = digits(o, p, u16(q));
        p = kn(o, p, F_COUNT, u32(q + 2));
        break;
      }
      default:
        // data tokens, headers inside a record: left to the decoded-record renderer
        return -1;
    }
    o[p] = CLOSE_OBJ;
    return p + 1;
  }

  /** `,"strings":[…]` of the `count` NUL-terminated strings from s, plus `strings_hex` when one is not UTF-8. */
  private stringList(o: Buffer, p: number, b: Buffer, s: number, count: number): number {
    p = putF(o, p, F_STRINGS);
    let bad = false;
    let a = s;
    for (let i = 0; i < count; i++) {
      const nul = b.indexOf(0, a);
      if (i) o[p++] = COMMA;
      p = strq(o, p, b, a, nul + 1);
      if (!strOk) bad = true;
      a = nul + 1;
    }
    o[p++] = CLOSE_ARR;
    if (!bad) return p;
    p = putF(o, p, F_STRINGS_HEX);
    a = s;
    for (let i = 0; i < count; i++) {
      const nul = b.indexOf(0, a);
      if (i) o[p++] = COMMA;
      if (strValid(b, a, nul + 1)) p = putF(o, p, F_NULL);
      else p = hexq(o, p, b, a, nul + 1);
      a = nul + 1;
    }
    o[p++] = CLOSE_ARR;
    return p;
  }
}

const O_RETURN32 = typeFrag('return32');
const O_SUBJECT32 = O_SUBJECTS.get('subject32')!;
/** subject32's fixed address type and the address key between the port and the address. */
const F_ADDRTYPE4_ADDR = frag(',"addrType":4,"addr":');
const O_RETURN64 = typeFrag('return64');

/**
 * A byte renderer for a stream of records (createJsonRenderer's output and XNU memory, `record` for clean records
 * from their bytes, `push` for the decoded rest).
 */
export function createJsonByteRenderer(opts: JsonOptions = {}): JsonByteRenderer {
  return new ByteRenderer(opts);
}
