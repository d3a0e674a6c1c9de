/**
 * The library entry points: feed records (decoded, or raw framed bytes on the fast path), get process events.
 * A tracker = reorder buffer (time order within a bound) + process table.
 */
import { decodeRecord } from '../format/decode-record.js';
import { Framer } from '../format/framer.js';
import type { BsmRecord, Diagnostic } from '../format/types.js';
import { factsFromRecord, type RecordFacts } from './facts.js';
import type { Platform } from './lifecycle-events.js';
import { ProcessTable, type ProcessTableOptions } from './process-table.js';
import { factsFromBytes } from './raw-facts.js';
import { ReorderBuffer } from './reorder-buffer.js';
import type { ActivityStats, ProcessEvent, ProcessInfo } from './types.js';

export interface TrackerOptions extends ProcessTableOptions {
  /** How far out of time order records may arrive and still be applied in order (ms). Default 1000. */
  reorderMs?: number;
  /** A step back in time larger than this restarts the reorder window (ReorderBuffer). Default max(60 s, 10 × reorderMs). */
  jumpMs?: number;
  /** Event numbering of the trail's kernel (lifecycle numbers are the same on both today). Default 'openbsm'. */
  platform?: Platform;
  /**
   * Stop applying records newer than this time (ms since the epoch): the table then shows the processes live at
   * that moment (`ps --at`). Records past it are dropped after the reorder buffer.
   */
  until?: number;
}

export class ProcessTracker {
  readonly table: ProcessTable;
  private readonly buf: ReorderBuffer<RecordFacts>;
  private readonly platform: Platform;
  private readonly until: number;
  private pending: ProcessEvent[] = [];
  private readonly apply = (f: RecordFacts): void => {
    if (f.time > this.until) return;
    this.table.apply(f, this.emit);
  };
  private readonly emit = (e: ProcessEvent): void => {
    this.pending.push(e);
  };

  constructor(opts: TrackerOptions = {}) {
    this.table = new ProcessTable(opts);
    this.buf = new ReorderBuffer(opts.reorderMs ?? 1000, opts.jumpMs);
    this.platform = opts.platform ?? 'openbsm';
    this.until = opts.until ?? Infinity;
  }

  get stats(): ActivityStats {
    const s = this.table.stats;
    s.lateRecords = this.buf.late;
    s.timeJumps = this.buf.jumps;
    return s;
  }

  /** Adds a decoded record. Returns the events now due (the array is the caller's). */
  push(r: BsmRecord): ProcessEvent[] {
    const f = factsFromRecord(r, this.platform);
    if (f) this.buf.push(f, this.apply);
    return this.take();
  }

  /**
   * Adds one framed record's raw bytes (fast path: only the needed fields are read; anything unusual goes through
   * the exact decoder). Standalone file tokens are ignored.
   */
  pushBytes(bytes: Buffer, offset: number): ProcessEvent[] {
    let f = factsFromBytes(bytes, offset, this.platform);
    if (!f) {
      if (bytes[0] === 0x11) return this.take();
      const r = decodeRecord(bytes, offset);
      f = factsFromRecord(r, this.platform);
      if (!f) {
        this.table.stats.undecodable++;
        return this.take();
      }
    }
    this.buf.push(f, this.apply);
    return this.take();
  }

  /** End of input: releases the reorder buffer. */
  end(): ProcessEvent[] {
    this.buf.flush(this.apply);
    return this.take();
  }

  /** Snapshots of the live processes, by pid. */
  live(): ProcessInfo[] {
    return this.table.live();
  }

  private take(): ProcessEvent[] {
    if (this.pending.length === 0) return EMPTY;
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

const EMPTY: ProcessEvent[] = [];
Object.freeze(EMPTY);

/** Process events from any record stream (trail reader, pipe, collector). */
export async function* processEvents(records: AsyncIterable<BsmRecord>, opts: TrackerOptions = {}): AsyncGenerator<ProcessEvent, ProcessTracker> {
  const t = new ProcessTracker(opts);
  for await (const r of records) yield* t.push(r);
  yield* t.end();
  return t;
}

/**
 * Process events from raw byte chunks (a file or pipe stream), on the fast path: framing without decoding every
 * token. Framing damage goes to `onDiagnostic`.
 */
export async function* processEventsFromChunks(
  chunks: AsyncIterable<Buffer>,
  opts: TrackerOptions & { onDiagnostic?: (d: Diagnostic) => void; tracker?: ProcessTracker } = {},
): AsyncGenerator<ProcessEvent, ProcessTracker> {
  const t = opts.tracker ?? new ProcessTracker(opts);
  let out: ProcessEvent[] = [];
  const framer = new Framer({
    record(bytes, offset, kind) {
      if (kind !== 'record') return;
      const ev = t.pushBytes(bytes, offset);
      for (let i = 0; i < ev.length; i++) out.push(ev[i]);
    },
    diagnostic(d) {
      opts.onDiagnostic?.(d);
    },
  });
  for await (const c of chunks) {
    framer.push(c);
    if (out.length) {
      const batch = out;
      out = [];
      yield* batch;
    }
  }
  framer.end();
  if (out.length) yield* out;
  yield* t.end();
  return t;
}
