/**
 * A growable output byte buffer with the few writers the NDJSON renderer needs. Writing bytes directly instead of
 * concatenating strings is what lets the renderer keep up with the decoder: per record it avoids ~100 string
 * allocations and the later UTF-8 encoding of the line (bench/micro/json.bench.mjs: string concatenation reached
 * 24 MB/s of input on the 10 MB trail, this writer several times that).
 *
 * Each writer makes room for itself, so callers never size anything.
 */
import { isUtf8 } from 'node:buffer';

/** 1 for bytes that may appear verbatim inside a JSON string: printable ASCII except `"` and `\`. */
export const VERBATIM = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) VERBATIM[c] = c === 0x22 || c === 0x5c ? 0 : 1;

export const HEX = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX[i] = '0123456789abcdef'.charCodeAt(i);

/** Two ASCII digits of 0..99, for the time fields. */
const D2 = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  D2[2 * i] = 48 + Math.floor(i / 10);
  D2[2 * i + 1] = 48 + (i % 10);
}

/**
 * Writes the decimal digits of 0 ≤ n < 2^53 at `p`, returns the end. Two digits per division through the D2
 * table, and 32-bit integer division while the value fits (the fast case: every u32 field).
 */
export function digits(o: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    o[p] = 48 + n;
    return p + 1;
  }
  if (n < 100) {
    o[p] = D2[2 * n];
    o[p + 1] = D2[2 * n + 1];
    return p + 2;
  }
  let len = 3;
  if (n >= 1000) {
    len = n >= 1e9 ? 10 : n >= 1e8 ? 9 : n >= 1e7 ? 8 : n >= 1e6 ? 7 : n >= 1e5 ? 6 : n >= 1e4 ? 5 : 4;
    if (n >= 1e10) for (let x = n / 1e10; x >= 1; x /= 10) len++;
  }
  const end = p + len;
  let q = end;
  while (n > 0xffffffff) {
    const d = Math.floor(n / 100);
    const r = 2 * (n - d * 100);
    o[--q] = D2[r + 1];
    o[--q] = D2[r];
    n = d;
  }
  while (n >= 100) {
    const d = ((n >>> 0) / 100) >>> 0;
    const r = 2 * (n - d * 100);
    o[--q] = D2[r + 1];
    o[--q] = D2[r];
    n = d;
  }
  if (n >= 10) {
    o[--q] = D2[2 * n + 1];
    o[--q] = D2[2 * n];
  } else o[--q] = 48 + n;
  return end;
}

/** A constant JSON fragment as bytes (ASCII expected; anything else is UTF-8 encoded). */
export function frag(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

/** Length of `b` without one trailing NUL (the recorded terminator). */
export function textEnd(b: Uint8Array): number {
  const n = b.length;
  return n > 0 && b[n - 1] === 0 ? n - 1 : n;
}

export class ByteOut {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Takes the bytes written so far (the caller owns them) and starts a fresh buffer of the same size. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }

  /** A constant fragment. */
  f(b: Uint8Array): void {
    const n = b.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n > 32) {
      // Long fragments (record prefixes, errno openings): the native copy wins over the byte loop.
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    const o = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) o[p++] = b[i];
    this.pos = p;
  }

  /** One byte (a `,`, `]`, `}`, `"`…). */
  c(ch: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = ch;
  }

  /** A non-negative integer up to 2^53 in decimal. */
  u(n: number): void {
    if (this.pos + 16 > this.buf.length) this.grow(16);
    this.pos = digits(this.buf, this.pos, n);
  }

  /** A constant key fragment followed by a number: the commonest pair, fused to save a call and a room check. */
  kn(key: Uint8Array, n: number): void {
    const k = key.length;
    if (this.pos + k + 16 > this.buf.length) this.grow(k + 16);
    const o = this.buf;
    let p = this.pos;
    for (let i = 0; i < k; i++) o[p++] = key[i];
    this.pos = digits(o, p, n);
  }

  /** Dotted quad of 4 bytes, quoted, straight into the buffer (no intermediate string). */
  ipv4(b: Uint8Array): void {
    if (this.pos + 17 > this.buf.length) this.grow(17);
    const o = this.buf;
    let p = this.pos;
    o[p++] = 0x22;
    p = digits(o, p, b[0]);
    o[p++] = 0x2e;
    p = digits(o, p, b[1]);
    o[p++] = 0x2e;
    p = digits(o, p, b[2]);
    o[p++] = 0x2e;
    p = digits(o, p, b[3]);
    o[p++] = 0x22;
    this.pos = p;
  }

  /** A 64-bit unsigned value as a JSON string of its decimal digits (exact in every JSON parser). */
  u64(v: bigint): void {
    this.c(0x22);
    if (v <= 0x1fffffffffffffn) this.u(Number(v));
    else this.ascii(v.toString());
    this.c(0x22);
  }

  /** An ASCII string, unquoted and unescaped (digits, ISO times, names from tables). */
  ascii(s: string): void {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const o = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) o[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any JS string as UTF-8, unquoted (it must already be JSON text, e.g. from JSON.stringify). */
  utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** `"<hex>"` of bytes. */
  hex(b: Uint8Array): void {
    const n = b.length;
    this.room(2 * n + 2);
    const o = this.buf;
    let p = this.pos;
    o[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const x = b[i];
      o[p++] = HEX[x >> 4];
      o[p++] = HEX[x & 15];
    }
    o[p++] = 0x22;
    this.pos = p;
  }

  /** Two digits (00-99). */
  d2(n: number): void {
    const o = this.buf;
    o[this.pos++] = D2[2 * n];
    o[this.pos++] = D2[2 * n + 1];
  }

  /**
   * A byte string as a JSON string (docs/json-format.md "Strings"): one trailing NUL dropped, UTF-8 decoded,
   * escaped. Returns false when the bytes are not valid UTF-8 (the text then holds U+FFFD for each bad sequence;
   * the caller adds the `_hex` sibling). Fast path: printable ASCII without `"` and `\` is copied as is.
   */
  str(b: Uint8Array, end = textEnd(b)): boolean {
    if (this.pos + end + 2 > this.buf.length) this.grow(end + 2);
    const o = this.buf;
    const start = this.pos;
    let p = start;
    o[p++] = 0x22;
    for (let i = 0; i < end; i++) {
      const x = b[i];
      if (VERBATIM[x] === 0) return this.strSlow(b, end, start);
      o[p++] = x;
    }
    o[p++] = 0x22;
    this.pos = p;
    return true;
  }

  private strSlow(b: Uint8Array, end: number, start: number): boolean {
    this.pos = start;
    const body = Buffer.from(b.buffer, b.byteOffset, end);
    this.utf8(JSON.stringify(body.toString('utf8')));
    return isUtf8(body);
  }
}
