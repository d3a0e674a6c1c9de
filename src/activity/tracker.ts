/**
 * The library entry points: feed records (decoded, or raw framed bytes on the fast path), get process events.
 * A tracker = reorder buffer (time order within a bound) + process table.
 *
 * Events are delivered either to `onEvent` (synchronously, as records are fed: the fast path) or returned by each
 * push call.
 */
import { decodeRecord } from '../format/decode-record.js';
import { Framer } from '../format/framer.js';
import type { BsmRecord, Diagnostic } from '../format/types.js';
import { factsFromRecord, newFacts, type RecordFacts } from './facts.js';
import type { Platform } from './lifecycle-events.js';
import { ProcessTable, type ProcessTableOptions } from './process-table.js';
import { factsFromRange, peekSubject, peeked } from './raw-facts.js';
import { ReorderBuffer } from './reorder-buffer.js';
import type { ActivityStats, ProcessEvent, ProcessInfo } from './types.js';

/** Default reorder bound (ms): see docs/process-activity.md. */
export const DEFAULT_REORDER_MS = 1000;

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
  /** Receives every event as soon as it is due; push methods then return nothing. */
  onEvent?: (e: ProcessEvent) => void;
}

/** One input being fed as byte chunks (a file, a pipe): frames records and hands them to its tracker. */
export interface ChunkInput {
  push(chunk: Buffer): void;
  /** End of this input (a truncated last record is reported as a diagnostic). */
  end(): void;
}

const EMPTY: ProcessEvent[] = [];
Object.freeze(EMPTY);

export class ProcessTracker {
  readonly table: ProcessTable;
  private readonly buf: ReorderBuffer<RecordFacts>;
  private readonly platform: Platform;
  private readonly until: number;
  private readonly onEvent: ((e: ProcessEvent) => void) | undefined;
  private pending: ProcessEvent[] = [];
  private source: string | undefined;
  private readonly apply = (f: RecordFacts): void => {
    if (f.time > this.until) return;
    this.source = f.source;
    this.table.apply(f, this.emit);
  };
  private readonly emit = (e: ProcessEvent): void => {
    if (this.source !== undefined) e.source = this.source;
    if (this.onEvent) this.onEvent(e);
    else this.pending.push(e);
  };

  constructor(opts: TrackerOptions = {}) {
    this.table = new ProcessTable(opts);
    this.buf = new ReorderBuffer(opts.reorderMs ?? DEFAULT_REORDER_MS, opts.jumpMs);
    this.platform = opts.platform ?? 'openbsm';
    this.until = opts.until ?? Infinity;
    this.onEvent = opts.onEvent;
  }

  get stats(): ActivityStats {
    const s = this.table.stats;
    s.lateRecords = this.buf.late;
    s.timeJumps = this.buf.jumps;
    return s;
  }

  /** Records held by the reorder buffer. */
  get held(): number {
    return this.buf.size;
  }

  /** Adds a decoded record. Returns the events now due (empty with `onEvent`). */
  push(r: BsmRecord, source?: string): ProcessEvent[] {
    const f = factsFromRecord(r, this.platform);
    if (f) {
      f.source = source;
      this.buf.push(f, this.apply);
    }
    return this.take();
  }

  /**
   * Adds one framed record, buf[start, end) (fast path: only the needed fields are read; anything unusual goes
   * through the exact decoder). Standalone file tokens are ignored.
   */
  pushRange(buf: Buffer, start: number, end: number, offset: number, source?: string): ProcessEvent[] {
    let f: RecordFacts | undefined;
    if (peekSubject(buf, start, end, this.platform)) {
      // Records that only confirm what the table knows (their subject is a live process with unchanged
      // credentials) are applied in place; the others need just their subject in the reorder buffer.
      // The clock moves first, so the table holds everything due before this record's time.
      if (peeked.time <= this.until && this.buf.advance(peeked.time, this.apply) &&
          this.table.touchInPlace(peeked.pid, peeked.cred!, peeked.time)) {
        return this.take();
      }
      f = newFacts(peeked.time, peeked.event, offset, undefined);
      f.pid = peeked.pid;
      f.cred = peeked.cred;
    } else {
      f = factsFromRange(buf, start, end, offset, this.platform);
    }
    if (!f) {
      if (buf[start] === 0x11) return this.take();
      f = factsFromRecord(decodeRecord(buf.subarray(start, end), offset), this.platform);
      if (!f) {
        this.table.stats.undecodable++;
        return this.take();
      }
    }
    f.source = source;
    this.buf.push(f, this.apply);
    return this.take();
  }

  /** pushRange over a Buffer holding exactly one record. */
  pushBytes(bytes: Buffer, offset: number, source?: string): ProcessEvent[] {
    return this.pushRange(bytes, 0, bytes.length, offset, source);
  }

  /**
   * A new byte input (file, pipe) for this tracker: chunks are framed on the zero-copy path and every record is
   * applied. `source` names the input in events; framing damage goes to `onDiagnostic`.
   */
  input(source?: string, onDiagnostic?: (d: Diagnostic) => void): ChunkInput {
    const framer = new Framer({
      range: (buf, start, end, offset, kind) => {
        if (kind !== 'record') return;
        const ev = this.pushRange(buf, start, end, offset, source);
        for (let i = 0; i < ev.length; i++) this.pending.push(ev[i]);
      },
      diagnostic: (d) => onDiagnostic?.(d),
    });
    return { push: (c) => framer.push(c), end: () => framer.end() };
  }

  /** Events produced by `input()` feeding since the last call (empty with `onEvent`). */
  drain(): ProcessEvent[] {
    return this.take();
  }

  /** End of all input: releases the reorder buffer. */
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

/** Process events from any record stream (trail reader, pipe, collector). Returns the tracker when done. */
export async function* processEvents(records: AsyncIterable<BsmRecord>, opts: Omit<TrackerOptions, 'onEvent'> = {}): AsyncGenerator<ProcessEvent, ProcessTracker> {
  const t = new ProcessTracker(opts);
  for await (const r of records) yield* t.push(r);
  yield* t.end();
  return t;
}

/**
 * Process events from raw byte chunks (a file or pipe stream), on the fast path: framing without decoding every
 * token. Framing damage goes to `onDiagnostic`. Returns the tracker when done.
 */
export async function* processEventsFromChunks(
  chunks: AsyncIterable<Buffer>,
  opts: Omit<TrackerOptions, 'onEvent'> & { onDiagnostic?: (d: Diagnostic) => void; source?: string } = {},
): AsyncGenerator<ProcessEvent, ProcessTracker> {
  const t = new ProcessTracker(opts);
  const input = t.input(opts.source, opts.onDiagnostic);
  for await (const c of chunks) {
    input.push(c);
    yield* t.drain();
  }
  input.end();
  yield* t.drain();
  yield* t.end();
  return t;
}
