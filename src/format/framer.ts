/**
 * Splits a byte stream (trail file, pipe reads, spool segment) into records, across chunk boundaries.
 *
 * Frames on the header's size field and checks the trailer (bsm-format.md §2.4). When they disagree it decides,
 * in order: the declared size is right if a plausible record follows it (bad trailer, XNU header32_ex size bug);
 * otherwise the trailer found by walking the tokens is right (damaged size field); otherwise the declared size is
 * kept. Unframeable bytes are skipped by scanning for the next plausible record, and reported.
 * Nothing here throws on bad input: problems go to the sink as Diagnostics.
 */
import { tokenEnd, trailerMatches } from './token-index.js';
import { isHeaderId, MAX_USER_RECORD } from './token-ids.js';
import type { Diagnostic } from './types.js';

// Plain byte arithmetic: Buffer.readUInt32BE is several times slower on Node 20 (bench frame).
const be32 = (b: Buffer, p: number): number => b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
const be16 = (b: Buffer, p: number): number => (b[p] << 8) | b[p + 1];

/** Smallest possible record: header32 (18) + trailer (7). */
export const MIN_RECORD_SIZE = 25;

export interface FramerSink {
  /**
   * A framed record or standalone file token. `bytes` is a view that stays valid (the framer never reuses memory).
   * A record whose header size was wrong is delivered with its real extent; decodeRecord reports the mismatch.
   */
  record(bytes: Buffer, offset: number, kind: 'record' | 'file-token'): void;
  /** Damage between records: skipped junk, an impossible size, a truncated final record. */
  diagnostic(d: Diagnostic): void;
}

export interface FramerOptions {
  /** Largest record accepted (default 1 MiB, AQ_MAXBUFSZ). */
  maxRecordSize?: number;
  /** Absolute offset of the first byte pushed (when resuming mid-file). */
  startOffset?: number;
}

/**
 * The zero-copy alternative to FramerSink.record: the record is buf[start, end) (no Buffer view made per record,
 * which costs more than framing itself on the hot path). `buf` is valid only during the call.
 */
export interface FramerRangeSink {
  range(buf: Buffer, start: number, end: number, offset: number, kind: 'record' | 'file-token'): void;
  diagnostic(d: Diagnostic): void;
}

/** step() results: an end offset (>= 0), or one of these. Numbers, not objects: one step per record. */
const NEED = -1;
const EMPTY = Buffer.alloc(0);
const BAD = -2;
const TRUNCATED = -3;

export class Framer {
  private readonly sink: FramerSink | FramerRangeSink;
  private readonly ranged: boolean;
  private readonly max: number;
  /** Bytes not yet framed: `held` chunks concatenated lazily once `want` bytes are there. */
  private held: Buffer[] = [];
  private heldLen = 0;
  private want = 0;
  /** Absolute offset of held[0][0]. */
  private base: number;
  /** Junk run being skipped, reported once it ends. */
  private junkStart = -1;

  constructor(sink: FramerSink | FramerRangeSink, opts: FramerOptions = {}) {
    this.sink = sink;
    this.ranged = typeof (sink as FramerRangeSink).range === 'function';
    this.max = opts.maxRecordSize ?? MAX_USER_RECORD;
    this.base = opts.startOffset ?? 0;
  }

  /** Absolute offset of the first byte not yet delivered as a record or reported as junk. */
  get position(): number {
    return this.junkStart >= 0 ? this.junkStart : this.base;
  }

  /** Bytes held back waiting for the rest of a record. */
  get pending(): number {
    return this.heldLen;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.held.push(chunk);
    this.heldLen += chunk.length;
    if (this.heldLen < this.want) return;
    this.run(false);
  }

  /**
   * The bytes held back (the start of an incomplete record), as one buffer. A reader that wants to avoid the framer
   * copying each new chunk behind them copies these to the front of its next read buffer and calls pushReplacing.
   */
  pendingBytes(): Buffer {
    if (this.held.length === 1) return this.held[0];
    if (this.held.length === 0) return EMPTY;
    const b = Buffer.concat(this.held, this.heldLen);
    this.held = [b];
    return b;
  }

  /**
   * Like push, for a buffer that starts with pendingBytes() followed by new input: only the small pending part was
   * copied (by the caller), instead of the whole new chunk being concatenated to it.
   */
  pushReplacing(buf: Buffer): void {
    if (buf.length < this.heldLen) throw new RangeError('pushReplacing: the buffer must start with pendingBytes()');
    this.held = buf.length > 0 ? [buf] : [];
    this.heldLen = buf.length;
    if (this.heldLen < this.want || this.heldLen === 0) return;
    this.run(false);
  }

  /** The input is finished: whatever is held is a truncated record or junk. */
  end(): void {
    this.run(true);
    this.endJunk(this.base);
  }

  /** Frames everything framable in the held bytes; with `final`, nothing is held back. */
  private run(final: boolean): void {
    let b = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldLen);
    let p = 0;
    for (;;) {
      if (p >= b.length) break;
      const s = this.step(b, p, final);
      if (s === NEED) break;
      if (s === TRUNCATED) {
        this.endJunk(this.base + p);
        const size = b.length - p >= 5 ? be32(b, p + 1) : 0;
        const what = b[p] === 0x11 ? 'file token' : 'record';
        const of = size ? ` of ${b[p] === 0x11 ? '' : size + ' '}bytes` : '';
        this.sink.diagnostic({
          code: 'BSM_E_TRUNCATED', offset: this.base + p, skipped: b.length - p, severity: 'error',
          message: `incomplete ${what} at offset ${this.base + p} (${b.length - p} bytes present${b[p] === 0x11 ? '' : of.replace(' of', ', expected')})`,
        });
        p = b.length;
        break;
      }
      if (s === BAD) {
        if (this.junkStart < 0) this.junkStart = this.base + p;
        const q = this.resync(b, p + 1, final);
        p = q;
        continue;
      }
      if (this.junkStart >= 0) this.endJunk(this.base + p);
      const kind = b[p] === 0x11 ? 'file-token' : 'record';
      if (this.ranged) (this.sink as FramerRangeSink).range(b, p, s, this.base + p, kind);
      else (this.sink as FramerSink).record(b.subarray(p, s), this.base + p, kind);
      p = s;
    }
    this.base += p;
    b = b.subarray(p);
    this.held = b.length > 0 ? [b] : [];
    this.heldLen = b.length;
    this.want = b.length > 0 ? this.wantFor(b) : 0;
  }

  /** How many bytes the held record needs before framing can progress (avoids re-concatenating per chunk). */
  private wantFor(b: Buffer): number {
    if (b.length >= 5 && isHeaderId(b[0])) {
      const size = be32(b, 1);
      // a complete record with a good trailer is framed at once (a live source must not wait for the next byte);
      // one with a bad trailer waits in step() for what follows it
      if (size >= MIN_RECORD_SIZE && size <= this.max) return size;
    }
    return b.length + 1;
  }

  private endJunk(at: number): void {
    if (this.junkStart < 0) return;
    const n = at - this.junkStart;
    if (n > 0) {
      this.sink.diagnostic({
        code: 'BSM_E_JUNK', offset: this.junkStart, skipped: n, severity: 'error',
        message: `skipped ${n} byte${n === 1 ? '' : 's'} that do not start a record`,
      });
    }
    this.junkStart = -1;
  }

  /** Frames the record at p, or says it needs more data, or that p does not start a record. */
  private step(b: Buffer, p: number, final: boolean): number {
    const id = b[p];
    const n = b.length - p;
    if (id === 0x11) {
      if (n < 11) return final ? this.truncatedOrBad(b, p) : NEED;
      const nameLen = be16(b, p + 9);
      const end = p + 11 + nameLen;
      if (end > b.length) return final ? this.truncatedOrBad(b, p) : NEED;
      // 0x11 is a common byte: a file token must hold a NUL-terminated name and be followed by a record, another
      // file token or the end of the input, or it is taken for junk (else damage could swallow the next record).
      if (nameLen === 0 || b[end - 1] !== 0) return BAD;
      if (end === b.length) return final ? end : NEED;
      return b[end] === 0x11 || isHeaderId(b[end]) ? end : BAD;
    }
    if (!isHeaderId(id)) return BAD;
    if (n < 5) return final ? this.truncatedOrBad(b, p) : NEED;
    const size = be32(b, p + 1);
    if (size < MIN_RECORD_SIZE || size > this.max) {
      const w = this.walkToTrailer(b, p, final);
      if (w === 'need') return NEED;
      if (w > 0) return w;
      this.sink.diagnostic({
        code: 'BSM_E_BAD_SIZE', offset: this.base + p + 1, severity: 'error',
        message: `record size ${size} at offset ${this.base + p} is outside ${MIN_RECORD_SIZE}..${this.max}`,
      });
      return BAD;
    }
    const end = p + size;
    if (end > b.length) {
      if (!final) return NEED;
      const w = this.walkToTrailer(b, p, final);
      if (typeof w === 'number' && w > 0) return w;
      return this.truncatedOrBad(b, p);
    }
    if (trailerMatches(b, end - 7, size)) return end;
    // The declared size and the trailer disagree. A token walk that reaches a trailer counting exactly the walked
    // length is a self-consistent record: it wins (a damaged size field). Otherwise the declared size stands when a
    // plausible record follows it (a bad trailer, the XNU header32_ex size bug, bsm-format.md §6.1).
    if (end === b.length && !final) return NEED;
    const w = this.walkToTrailer(b, p, final);
    if (typeof w === 'number' && w > 0 && w !== end) return w;
    // A plausible record starting inside the declared extent means the size field is what is damaged: these bytes
    // are junk, and the record inside is delivered.
    if (this.resync(b, p + 1, true) < end) return BAD;
    if (w === 'need' && !this.plausibleAt(b, end)) return NEED;
    return end;
  }

  /** At the end of input: a record start with nothing plausible after it is a truncated record, else junk. */
  private truncatedOrBad(b: Buffer, p: number): number {
    return this.resync(b, p + 1, true) >= b.length ? TRUNCATED : BAD;
  }

  /** A strong check used after damage: a header whose trailer validates (or a file token followed by one). */
  private plausibleAt(b: Buffer, q: number): boolean {
    if (q + 5 > b.length) return false;
    const id = b[q];
    if (!isHeaderId(id)) return false;
    const size = be32(b, q + 1);
    if (size < MIN_RECORD_SIZE || size > this.max || q + size > b.length) return false;
    return trailerMatches(b, q + size - 7, size);
  }

  /**
   * Walks the tokens of the record at p to its trailer; returns the offset just past the trailer, -1 when the
   * walk fails, or 'need' when more bytes could finish it.
   */
  private walkToTrailer(b: Buffer, p: number, final: boolean): number | 'need' {
    const limit = Math.min(b.length, p + this.max);
    const out = limit === b.length && !final && b.length - p < this.max ? 'need' : -1;
    let pos = tokenEnd(b, p, limit);
    if (pos < 0) return out;
    while (pos < limit) {
      if (b[pos] === 0x13) {
        if (pos + 7 > limit) return out;
        // the trailer's count must agree with the walked length, or the walk may have run through the next record
        return trailerMatches(b, pos, pos + 7 - p) ? pos + 7 : -1;
      }
      if (isHeaderId(b[pos])) return -1; // ran into the next record: no trailer of our own
      const e = tokenEnd(b, pos, limit);
      if (e < 0) return out;
      pos = e;
    }
    return out;
  }

  /** Scans from q for the next plausible record; returns its offset (or where more data is needed). */
  private resync(b: Buffer, q: number, final: boolean): number {
    for (; q < b.length; q++) {
      if (!isHeaderId(b[q])) continue;
      if (q + 5 > b.length) return final ? b.length : q;
      const size = be32(b, q + 1);
      if (size < MIN_RECORD_SIZE || size > this.max) continue;
      if (q + size > b.length) {
        if (final) continue;
        return q; // cannot tell yet: wait for the rest
      }
      if (trailerMatches(b, q + size - 7, size)) return q;
    }
    return b.length;
  }
}
