/**
 * The allocation-free walk over a record's tokens: token ids and byte ranges into a reusable index.
 *
 * Hot paths (validate, select, render) use this instead of materialising token objects (bench decode: objects
 * cost ~4x the walk). decodeRecord builds the object model on top of the same walk, so both agree on where
 * every token starts and ends. `tokenEnd` must give exactly decodeToken(...).length (checked by
 * test/format/token-index.test.ts over the corpus and random records).
 */
import { u16, u32, view } from './decode-token.js';
import { TRAILER_MAGIC, TRAILER_SIZE } from './token-ids.js';

/**
 * How many alternative string counts are tried for over-counted exec args tokens, per record: a budget shared by
 * all such tokens of the record, so nested retries cannot multiply (hostile input would otherwise cost 4096^n).
 */
const MAX_COUNT_TRIALS = 4096;

function strEnd(b: Buffer, p: number, limit: number): number {
  if (p + 2 > limit) return -1;
  const e = p + 2 + u16(p);
  return e > limit ? -1 : e;
}

function nulStrings(b: Buffer, p: number, limit: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const nul = b.indexOf(0, p);
    if (nul < 0 || nul >= limit) return -1;
    p = nul + 1;
  }
  return p;
}

/**
 * End offset of the token at `off` (which must be < limit), or -1 when it cannot be decoded within `limit`.
 * `stringLimit` caps the strings read for exec args/env (see decodeToken).
 */
export function tokenEnd(b: Buffer, off: number, limit: number, stringLimit = -1): number {
  view(b);
  const p = off + 1;
  let e: number;
  switch (b[off]) {
    case 0x14: e = off + 18; break;
    case 0x74: e = off + 26; break;
    case 0x15:
    case 0x79: {
      if (off + 14 > limit) return -1;
      const t = u32(p + 9);
      if (t !== 4 && t !== 16) return -1;
      e = off + 14 + t + (b[off] === 0x79 ? 16 : 8);
      break;
    }
    case 0x13: e = off + 7; break;
    case 0x11: return strEnd(b, p + 8, limit);
    case 0x21: {
      if (off + 4 > limit) return -1;
      const unit = b[p + 1];
      if (unit > 3) return -1;
      e = off + 4 + b[p + 2] * (1 << unit);
      break;
    }
    case 0x22: e = off + 6; break;
    case 0x23:
    case 0x28:
    case 0x60: return strEnd(b, p, limit);
    case 0x24:
    case 0x26: e = off + 37; break;
    case 0x75:
    case 0x77: e = off + 41; break;
    case 0x7a:
    case 0x7b:
    case 0x7c:
    case 0x7d: {
      const q = p + (b[off] >= 0x7c ? 36 : 32);
      if (q + 4 > limit) return -1;
      const t = u32(q);
      if (t !== 4 && t !== 16) return -1;
      e = q + 4 + t;
      break;
    }
    case 0x27: e = off + 6; break;
    case 0x72: e = off + 10; break;
    case 0x29: {
      if (off + 3 > limit) return -1;
      e = off + 3 + u16(p);
      break;
    }
    case 0x2a: e = off + 5; break;
    case 0x7e: {
      if (off + 5 > limit) return -1;
      const t = u32(p);
      if (t !== 4 && t !== 16) return -1;
      e = off + 5 + t;
      break;
    }
    case 0x2b: e = off + 21; break;
    case 0x2c: e = off + 3; break;
    case 0x2d: return strEnd(b, p + 5, limit);
    case 0x71: return strEnd(b, p + 9, limit);
    case 0x2e: e = off + 15; break;
    case 0x2f: e = off + 5; break;
    case 0x32: e = off + 29; break;
    case 0x38: {
      const e1 = strEnd(b, p, limit);
      return e1 < 0 ? -1 : strEnd(b, e1, limit);
    }
    case 0x39: return strEnd(b, p + 1, limit);
    case 0x3b: {
      if (off + 3 > limit) return -1;
      e = off + 3 + 4 * u16(p);
      break;
    }
    case 0x3c:
    case 0x3d:
    case 0xee:
    case 0xef: {
      if (off + 5 > limit) return -1;
      const n = u32(p);
      return nulStrings(b, off + 5, limit, stringLimit >= 0 && stringLimit < n ? stringLimit : n);
    }
    case 0x25: {
      if (off + 3 > limit) return -1;
      const n = u16(p);
      return nulStrings(b, off + 3, limit, stringLimit >= 0 && stringLimit < n ? stringLimit : n);
    }
    case 0x3e: e = off + 29; break;
    case 0x73: e = off + 33; break;
    case 0x52: e = off + 9; break;
    case 0x7f: {
      if (off + 7 > limit) return -1;
      const t = u16(p + 4);
      if (t !== 4 && t !== 16) return -1;
      e = off + 11 + 2 * t;
      break;
    }
    case 0x80: e = off + 9; break;
    case 0x81: e = off + 21; break;
    case 0x82: {
      if (off + 4 > limit) return -1;
      const nul = b.indexOf(0, p + 2);
      return nul < 0 || nul >= limit ? -1 : nul + 1;
    }
    case 0x83: e = off + 17; break;
    case 0x84:
    case 0x85: return strEnd(b, p + 17, limit);
    case 0xed: {
      let q = p + 4;
      for (let i = 0; i < 3; i++) {
        if (q + 2 > limit) return -1;
        q += 2 + u16(q) + (i < 2 ? 1 : 0);
      }
      e = q;
      break;
    }
    default:
      return -1;
  }
  return e > limit ? -1 : e;
}

/** True when the 7 bytes at `at` are a trailer whose count equals `size`. */
export function trailerMatches(b: Buffer, at: number, size: number): boolean {
  if (at < 0 || at + TRAILER_SIZE > b.length || b[at] !== 0x13) return false;
  view(b);
  return u16(at + 1) === TRAILER_MAGIC && u32(at + 3) === size;
}

function isExecStrings(id: number): boolean {
  return id === 0x3c || id === 0x3d;
}

/**
 * A reusable index of one record's tokens. `walk(bytes)` fills it; entries 0..count-1 are the header, the body
 * tokens and (when valid) the trailer, in order.
 */
export class TokenIndex {
  ids = new Uint8Array(64);
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Strings to read for an exec args/env token recovered from an over-count (§5.4); -1 = as declared. */
  stringLimits = new Int32Array(64);
  count = 0;
  /** The 7 bytes at the record's end are a trailer whose count equals the record length. */
  trailerOk = false;
  /** Offset of the first token that could not be decoded, or -1 when every token decoded. */
  failAt = -1;
  /** True when an exec args/env token holds fewer strings than it declares. */
  execTruncated = false;
  /** Count trials left for this record (see MAX_COUNT_TRIALS). */
  private trialsLeft = 0;

  private add(id: number, start: number, end: number, stringLimit: number): void {
    if (this.count === this.ids.length) this.grow();
    const i = this.count++;
    this.ids[i] = id;
    this.starts[i] = start;
    this.ends[i] = end;
    this.stringLimits[i] = stringLimit;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Uint8Array(n); ids.set(this.ids); this.ids = ids;
    const s = new Int32Array(n); s.set(this.starts); this.starts = s;
    const e = new Int32Array(n); e.set(this.ends); this.ends = e;
    const l = new Int32Array(n); l.set(this.stringLimits); this.stringLimits = l;
  }

  /**
   * Walks one framed record. Returns false when `bytes` does not start with a decodable header (nothing indexed).
   */
  walk(b: Buffer): boolean {
    this.count = 0;
    this.failAt = -1;
    this.execTruncated = false;
    this.trialsLeft = MAX_COUNT_TRIALS;
    const n = b.length;
    const hid = b[0];
    if (!(hid === 0x14 || hid === 0x15 || hid === 0x74 || hid === 0x79)) return false;
    const hEnd = tokenEnd(b, 0, n);
    if (hEnd < 0) return false;
    view(b);
    const at = n - TRAILER_SIZE;
    this.trailerOk = at >= hEnd && b[at] === 0x13 && u16(at + 1) === TRAILER_MAGIC && u32(at + 3) === n;
    this.add(hid, 0, hEnd, -1);
    const limit = this.trailerOk ? at : n;
    if (!this.body(b, hEnd, limit)) {
      // keep what decoded before the failure; the rest is one opaque range when the trailer is known
      if (this.trailerOk) this.add(b[this.failAt], this.failAt, limit, -2);
    }
    if (this.trailerOk) this.add(0x13, at, n, -1);
    return true;
  }

  /** Walks body tokens from pos to limit; on failure sets failAt and returns false. */
  private body(b: Buffer, pos: number, limit: number): boolean {
    while (pos < limit) {
      const id = b[pos];
      const e = tokenEnd(b, pos, limit);
      if (isExecStrings(id)) return this.execThenRest(b, pos, e, limit);
      if (e < 0) {
        this.failAt = pos;
        return false;
      }
      this.add(id, pos, e, -1);
      pos = e;
    }
    return true;
  }

  /** An exec args/env token: as declared if the rest decodes exactly to limit, else the smallest count that does. */
  private execThenRest(b: Buffer, pos: number, e: number, limit: number): boolean {
    const mark = this.count;
    if (e >= 0) {
      this.add(b[pos], pos, e, -1);
      if (this.body(b, e, limit)) return true;
      this.count = mark;
    }
    const failAt = e < 0 ? pos : this.failAt;
    const declared = pos + 5 <= limit ? u32(pos + 1) : 0;
    for (let k = 0; k < declared && this.trialsLeft > 0; k++) {
      this.trialsLeft--;
      view(b);
      const ek = tokenEnd(b, pos, limit, k);
      if (ek < 0) break;
      this.add(b[pos], pos, ek, k);
      this.failAt = -1;
      if (this.body(b, ek, limit)) {
        this.execTruncated = true;
        return true;
      }
      this.count = mark;
    }
    // No count works: keep the declared reading as far as it went.
    this.count = mark;
    if (e >= 0) {
      this.add(b[pos], pos, e, -1);
      this.failAt = -1;
      return this.body(b, e, limit);
    }
    this.failAt = failAt;
    return false;
  }
}

/**
 * True when the record in b[start, end) would decode with no diagnostic at all: a header whose size is the record's
 * length, every body token decodable and ending exactly at a valid trailer, no data token with an unknown print
 * format, no over-counted exec strings. The validate and select fast paths call this per record and fall back to
 * decodeRecord (for the exact diagnostics) only when it says no; test/format/token-index.test.ts checks that it
 * agrees with decodeRecord.
 */
export function isCleanRecord(b: Buffer, start: number, end: number): boolean {
  const hid = b[start];
  if (hid === 0x11) return tokenEnd(b, start, end) === end; // a standalone file token
  if (!(hid === 0x14 || hid === 0x15 || hid === 0x74 || hid === 0x79)) return false;
  const n = end - start;
  if (n < 25) return false;
  let pos = tokenEnd(b, start, end);
  if (pos < 0) return false;
  const at = end - TRAILER_SIZE;
  if (pos > at || u32(start + 1) !== n) return false;
  if (b[at] !== 0x13 || u16(at + 1) !== TRAILER_MAGIC || u32(at + 3) !== n) return false;
  while (pos < at) {
    const id = b[pos];
    if (id === 0x21 && b[pos + 1] > 4) return false;
    const e = tokenEnd(b, pos, at);
    if (e < 0) return false;
    pos = e;
  }
  return pos === at;
}
