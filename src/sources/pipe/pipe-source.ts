/**
 * The audit pipe as a RecordSource (source.ts): the drain thread's batches (pipe-drain.ts) framed into records,
 * with each kernel drop as a SourceLoss item at the place in the stream where the records went missing.
 *
 *   const src = await openPipeSource({ device: { path: '/dev/auditpipe' }, preselect: { flags: 'lo,aa', naflags: 'lo' } });
 *   for await (const item of src) { if (item.type === 'record') ...; if (item.type === 'loss') ... }
 *
 * A pipe cannot be resumed: its cursor says how far the stream went (bytes and records since the FLUSH), for
 * reports and for lining the pipe up with the trail.
 */
import { Framer, type FramerSink } from '../../format/framer.js';
import type { Diagnostic } from '../../format/types.js';
import type { LossReport, RecordSource, SourceCursor, SourceItem, SourceLoss, SourceOptions } from '../source.js';
import type { PipeDrop } from './drop-locator.js';
import { openPipeDrain, type PipeCounters, type PipeDrain, type PipeDrainOptions, type RawPipeBatch } from './pipe-drain.js';

export interface PipeCursor extends SourceCursor {
  source: 'pipe';
  device: string;
  /** Stream bytes up to the end of the item (since the FLUSH). */
  offset: number;
  /** Records delivered up to and including the item. */
  records: number;
}

/** Shared by every item of one source. */
export interface PipeMeta {
  device: string;
  mode: 'trail' | 'local';
  qlimit: number;
}

/** A pipe-drops loss: `records` records were dropped by the kernel before stream record `recordIndex`. */
export interface PipeLossReport extends LossReport {
  reason: 'pipe-drops';
  records: number;
  recordIndex: number;
  /** Byte offset in the pipe stream where the dropped records would have been. */
  offset: number;
  /** The position follows from the tail-drop rule without ambiguity (drop-locator.ts). */
  exact: boolean;
  /**
   * Bounds on where the records went missing, whatever they were (drop-locator.ts): not before stream record
   * `earliest` (byte `fromOffset`), not after record `latest`. Tail drops sit exactly at `recordIndex` when `exact`;
   * allocation failures counted with them can be anywhere in the bounds. An inexact loss is placed at `latest`.
   */
  earliest: number;
  latest: number;
}

export type PipeItem = SourceItem<PipeCursor, PipeMeta> & { cursor: PipeCursor };

export interface PipeSourceOptions extends Omit<PipeDrainOptions, 'signal'>, SourceOptions {
  /** Largest record accepted by the framer (default 1 MiB). */
  maxRecordSize?: number;
}

export interface PipeSource extends RecordSource<PipeItem> {
  readonly device: string;
  /** Counters as of the last batch: inserts, reads, drops, qlen (raw u32) and totals since the FLUSH. */
  readonly counters: PipeCounters | undefined;
  /** The raw drain underneath (bytes buffered, baseline). */
  readonly drain: PipeDrain;
}

function lossItem(d: PipeDrop, cursor: PipeCursor): SourceLoss<PipeCursor> {
  const loss: PipeLossReport = {
    reason: 'pipe-drops',
    message: `the kernel dropped ${d.records} record${d.records === 1 ? '' : 's'} on ${cursor.device} before stream record ${d.recordIndex} (byte ${d.offset})${d.exact ? '' : `, position approximate (not before record ${d.earliest}, byte ${d.earliestOffset})`}`,
    certain: true,
    records: d.records,
    recordIndex: d.recordIndex,
    offset: d.offset,
    fromOffset: d.earliestOffset,
    exact: d.exact,
    earliest: d.earliest,
    latest: d.latest,
  };
  return { type: 'loss', loss, cursor };
}

class PipeRecordSource implements PipeSource, FramerSink {
  readonly drain: PipeDrain;
  readonly device: string;
  cursor: PipeCursor | undefined;
  private readonly meta: PipeMeta;
  private readonly framer: Framer;
  private items: PipeItem[] = [];
  private itemPos = 0;
  private drops: PipeDrop[] = [];
  private dropPos = 0;
  private records = 0;
  private ended = false;
  private iterating = false;

  constructor(drain: PipeDrain, opts: PipeSourceOptions) {
    this.drain = drain;
    this.device = drain.device;
    this.meta = { device: drain.device, mode: drain.baseline.mode, qlimit: drain.baseline.qlimit };
    this.framer = new Framer(this, { maxRecordSize: opts.maxRecordSize });
  }

  get counters(): PipeCounters | undefined {
    return this.drain.counters;
  }

  private cur(offset: number): PipeCursor {
    return { source: 'pipe', device: this.device, offset, records: this.records };
  }

  /** Drops placed at or before `offset` go out before what starts there. */
  private dropsUpTo(offset: number): void {
    while (this.dropPos < this.drops.length && this.drops[this.dropPos]!.offset <= offset) {
      const d = this.drops[this.dropPos++]!;
      this.items.push(lossItem(d, this.cur(d.offset)) as PipeItem);
    }
  }

  record(bytes: Buffer, offset: number, kind: 'record' | 'file-token'): void {
    this.dropsUpTo(offset);
    this.records++;
    this.items.push({ type: 'record', kind, bytes, offset, cursor: this.cur(offset + bytes.length), meta: this.meta });
  }

  diagnostic(d: Diagnostic): void {
    this.dropsUpTo(d.offset);
    this.items.push({ type: 'diagnostic', diagnostic: d, cursor: this.cur(d.offset + (d.skipped ?? 0)), meta: this.meta });
  }

  private take(batch: RawPipeBatch): void {
    this.drops = batch.drops;
    this.dropPos = 0;
    this.framer.push(batch.bytes);
    // the rest sit at the end of this batch (before a record still incomplete)
    this.dropsUpTo(Infinity);
  }

  /** A read error, thrown once what came before it (and the drops known at the end) has been handed out. */
  private failure: unknown = null;

  private async fill(): Promise<boolean> {
    this.items = [];
    this.itemPos = 0;
    while (this.items.length === 0) {
      if (this.ended) return false;
      let b: RawPipeBatch | null;
      try {
        b = await this.drain.next();
      } catch (err) {
        this.failure = err;
        b = null;
      }
      if (b) {
        this.take(b);
        continue;
      }
      this.ended = true;
      this.framer.end();
      this.drops = this.drain.trailingDrops;
      this.dropPos = 0;
      this.dropsUpTo(Infinity);
    }
    return true;
  }

  async next(): Promise<IteratorResult<PipeItem>> {
    if (this.itemPos >= this.items.length) {
      const more = await this.fill();
      if (!more) {
        if (this.failure !== null) {
          const e = this.failure;
          this.failure = null;
          throw e;
        }
        return { value: undefined, done: true };
      }
    }
    const item = this.items[this.itemPos++]!;
    this.cursor = item.cursor;
    return { value: item, done: false };
  }

  [Symbol.asyncIterator](): AsyncIterator<PipeItem> {
    if (this.iterating) throw new Error('a pipe source can be iterated once');
    this.iterating = true;
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    await this.drain.close();
  }
}

/**
 * Opens an audit pipe (real, or a kernel model's), sets it up (qlimit to the maximum, optional LOCAL
 * preselection, FLUSH) and starts draining it on a dedicated thread. Items: records, framing diagnostics, and
 * pipe-drops losses (PipeLossReport). Setup errors are thrown here (BsmkitError saying what is missing).
 */
export async function openPipeSource(opts: PipeSourceOptions = {}): Promise<PipeSource> {
  const { signal, maxRecordSize, ...rest } = opts;
  const drain = await openPipeDrain({ ...rest, signal });
  return new PipeRecordSource(drain, { ...rest, maxRecordSize });
}
