/**
 * The reduce pipeline: byte chunks in, selected records out, byte-identical (auditreduce.md §7.1–7.2).
 *
 * Framing has a fast path and a general path. The fast path takes a record when its header size is sane and the
 * trailer at that size matches — exactly the framer's first rule — and evaluates it in place without copying or
 * decoding; consecutive selected records leave as one slice. Anything else (junk, a bad size or trailer, a
 * truncated end) hands the rest of that input to format's Framer, which resyncs and reports; its records go
 * through the full decoder. Damage is reported as `file:offset: reason` and never stops the input (corrected
 * mode); openbsm mode reproduces upstream's stop at the first framing error and its sticky error.
 */
import { decodeRecord } from '../format/decode-record.js';
import { Framer } from '../format/framer.js';
import { trailerMatches } from '../format/token-index.js';
import { MAX_USER_RECORD } from '../format/token-ids.js';
import type { Diagnostic } from '../format/types.js';
import { DAMAGED, headerMillis, headerSeconds, MATCH, UNSURE, type Selection } from './compile.js';

export interface ReduceStats {
  /** Records seen (standalone file tokens not included). */
  records: number;
  selected: number;
  /** Standalone file tokens seen and passed. */
  fileTokens: number;
  fileTokensSelected: number;
  /** Records with damage (not emitted unless keepErrors). */
  damaged: number;
  /** Error diagnostics reported (framing and record damage). */
  errors: number;
  warnings: number;
  /** Bytes skipped while resynchronising. */
  skippedBytes: number;
  /** openbsm mode: inputs where processing stopped at a framing error, as upstream does. */
  stoppedInputs: number;
}

export function emptyStats(): ReduceStats {
  return { records: 0, selected: 0, fileTokens: 0, fileTokensSelected: 0, damaged: 0, errors: 0, warnings: 0, skippedBytes: 0, stoppedInputs: 0 };
}

export interface ScanOptions {
  /** Judge damaged records on what decoded and emit them when selected (corrected mode; default: never emit). */
  keepErrors?: boolean;
  /** Emit consecutive selected records as one slice (binary output). */
  coalesce?: boolean;
  maxRecordSize?: number;
  /** Every diagnostic, with the input's name. */
  onDiagnostic?: (input: string, d: Diagnostic) => void;
}

/**
 * Receives b[start, end): one or more whole selected records (or file tokens), in input order; `offset` is the
 * absolute input offset of b[start].
 */
export type Emit = (b: Buffer, start: number, end: number, offset: number) => void;

const be32 = (b: Buffer, p: number): number => b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);

/** Selects the records of one input, chunk by chunk. */
export class InputScanner {
  private readonly sel: Selection;
  private readonly name: string;
  private readonly stats: ReduceStats;
  private readonly emit: Emit;
  private readonly keepErrors: boolean;
  private readonly coalesce: boolean;
  private readonly max: number;
  private readonly onDiagnostic: ScanOptions['onDiagnostic'];
  private readonly compat: boolean;
  private readonly invert: boolean;
  /** Unframed bytes carried to the next chunk, and the absolute offset of their first byte. */
  private tail: Buffer | null = null;
  private base = 0;
  /** Set once the fast path met something it does not frame: the rest of the input goes through the Framer. */
  private framer: Framer | null = null;
  /** openbsm mode: upstream's `err`, never reset within a file (§5 bug 2). */
  private sticky = false;
  /** openbsm mode: stopped at a framing error (libbsm au_read_rec has no resync, §5 bug 13). */
  private stopped = false;
  private runB: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runOffset = 0;

  constructor(sel: Selection, name: string, stats: ReduceStats, emit: Emit, opts: ScanOptions = {}) {
    this.sel = sel;
    this.name = name;
    this.stats = stats;
    this.emit = emit;
    this.keepErrors = opts.keepErrors === true;
    this.coalesce = opts.coalesce !== false;
    this.max = opts.maxRecordSize ?? MAX_USER_RECORD;
    this.onDiagnostic = opts.onDiagnostic;
    this.compat = sel.options.mode === 'openbsm';
    this.invert = sel.options.invert === true;
    sel.resetStream();
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.stopped) return;
    if (this.framer) {
      this.framer.push(chunk);
      return;
    }
    let c = chunk;
    // An item straddling the chunk boundary is completed with just the bytes it needs: concatenating the held
    // tail with the whole next chunk would copy every byte of the input once more.
    while (this.tail) {
      const t = this.tail;
      const take = Math.min(c.length, this.itemNeed(t) - t.length);
      const head = Buffer.concat([t, c.subarray(0, take)]);
      c = c.subarray(take);
      this.tail = null;
      if (!this.scan(head)) {
        if (c.length) this.framer!.push(c);
        return;
      }
      if (c.length === 0) return;
    }
    this.scan(c);
  }

  /** Bytes needed to complete the first item of a held tail (or a few more, when its length is not known yet). */
  private itemNeed(t: Buffer): number {
    const id = t[0];
    if (id === 0x11) return t.length >= 11 ? 11 + ((t[9]! << 8) | t[10]!) : 11;
    if ((id === 0x14 || id === 0x15 || id === 0x74 || id === 0x79) && t.length >= 5) {
      const size = be32(t, 1);
      if (size > t.length && size <= this.max) return size;
    }
    return Math.max(t.length + 1, 5);
  }

  /** The fast path over one buffer; false when it handed the input over to the Framer. */
  private scan(b: Buffer): boolean {
    const n = b.length;
    const max = this.max;
    let p = 0;
    for (;;) {
      if (n - p < 5) break;
      const id = b[p]!;
      if (id === 0x14 || id === 0x15 || id === 0x74 || id === 0x79) {
        const size = be32(b, p + 1);
        if (size < 25 || size > max) return this.handOver(b, p);
        const e = p + size;
        if (e > n) break;
        if (!trailerMatches(b, e - 7, size)) return this.handOver(b, p);
        this.fastRecord(b, p, e);
        p = e;
      } else if (id === 0x11) {
        if (n - p < 11) break;
        const e = p + 11 + ((b[p + 9]! << 8) | b[p + 10]!);
        if (e > n) break;
        this.fileToken(b, p, e, this.base + p);
        p = e;
      } else {
        return this.handOver(b, p);
      }
    }
    this.flushRun();
    this.tail = p < n ? b.subarray(p) : null;
    this.base += p;
    return true;
  }

  /** End of input: a held partial record is handed to the Framer, which reports it. */
  end(): void {
    if (this.stopped) return;
    if (!this.framer && this.tail) {
      const t = this.tail;
      this.tail = null;
      this.handOver(t, 0);
    }
    this.framer?.end();
    this.flushRun();
  }

  private handOver(b: Buffer, p: number): false {
    this.flushRun();
    this.tail = null;
    const start = this.base + p;
    this.framer = new Framer(
      {
        record: (bytes, offset, kind) => {
          if (this.stopped) return;
          if (kind === 'file-token') this.fileToken(bytes, 0, bytes.length, offset);
          else this.slowRecord(bytes, offset);
          this.flushRun();
        },
        diagnostic: (d) => this.frameDiagnostic(d),
      },
      { maxRecordSize: this.max, startOffset: start },
    );
    this.framer.push(b.subarray(p));
    return false;
  }

  private frameDiagnostic(d: Diagnostic): void {
    if (this.stopped) return;
    this.report(d);
    if (d.skipped) this.stats.skippedBytes += d.skipped;
    if (this.compat && (d.code === 'BSM_E_JUNK' || d.code === 'BSM_E_BAD_SIZE' || d.code === 'BSM_E_TRUNCATED')) {
      this.stopped = true;
      this.stats.stoppedInputs++;
    }
  }

  private report(d: Diagnostic): void {
    if (d.severity === 'error') this.stats.errors++;
    else this.stats.warnings++;
    this.onDiagnostic?.(this.name, d);
  }

  private fastRecord(b: Buffer, s: number, e: number): void {
    this.stats.records++;
    let print: boolean;
    if (this.sticky) {
      print = false;
    } else {
      // Under -v a rejected record is emitted, so it must have been walked whole (validated).
      const v = this.sel.matchBytes(b, s, e, this.invert);
      if (v === UNSURE) {
        this.flushRun();
        this.stats.records--; // counted again by slowRecord
        this.slowRecord(b.subarray(s, e), this.base + s);
        return;
      }
      print = v === MATCH;
    }
    if (this.invert) print = !print;
    if (print) this.select(b, s, e, this.base + s);
  }

  /** The general path: decode, report, judge. */
  private slowRecord(bytes: Buffer, offset: number): void {
    this.stats.records++;
    const r = decodeRecord(bytes, offset);
    for (const d of r.diagnostics) this.report(d);
    let print: boolean;
    if (this.sticky) {
      print = false;
    } else {
      const v = this.sel.matchRecord(r, this.keepErrors);
      if (v === DAMAGED) {
        this.stats.damaged++;
        if (this.compat) {
          this.sticky = true;
          print = false; // inverted below, as upstream does (§5 bug 11)
        } else {
          return; // corrected mode: reported, never emitted (not even by -v) unless keepErrors
        }
      } else {
        print = v === MATCH;
        if (!r.intact && r.diagnostics.some((d) => d.severity === 'error')) this.stats.damaged++;
      }
    }
    if (this.invert) print = !print;
    if (print) this.select(bytes, 0, bytes.length, offset);
  }

  private fileToken(b: Buffer, s: number, e: number, offset: number): void {
    this.stats.fileTokens++;
    let print = this.sticky ? false : this.sel.fileTokenMatches;
    if (this.invert) print = !print;
    if (print) {
      this.stats.fileTokensSelected++;
      this.stats.selected--; // counted as a file token, not a record
      this.select(b, s, e, offset);
    }
  }

  private select(b: Buffer, s: number, e: number, offset: number): void {
    this.stats.selected++;
    if (!this.coalesce) {
      this.emit(b, s, e, offset);
      return;
    }
    if (this.runB === b && this.runEnd === s) {
      this.runEnd = e;
      return;
    }
    this.flushRun();
    this.runB = b;
    this.runStart = s;
    this.runEnd = e;
    this.runOffset = offset;
  }

  private flushRun(): void {
    if (this.runB) {
      this.emit(this.runB, this.runStart, this.runEnd, this.runOffset);
      this.runB = null;
    }
  }
}

/** Time of a selected record or file token at b[s], for merging: seconds and milliseconds. */
export function itemTime(b: Buffer, s: number): [number, number] {
  if (b[s] === 0x11) return [be32(b, s + 1), be32(b, s + 5)];
  return [headerSeconds(b, s), headerMillis(b, s)];
}
