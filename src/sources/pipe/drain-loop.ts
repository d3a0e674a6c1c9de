/**
 * The drain loop, shared by the library's drain thread (drain-worker.ts: raw batches) and the collector's
 * (collector/pipe-drain-worker.ts: batches of whole records). It runs on a dedicated thread (kernel-audit-pipe.md
 * §7, §19.4) and owns the pipe once setup is done:
 *
 * - reads go straight into the buffer that is handed over (no copy per read, none per record);
 * - after every read it takes GET_DROPS then GET_INSERTS and places each drop in the stream (drop-locator.ts);
 * - with `frame`, batches end on record boundaries: the framer runs over the buffer in place and writes each
 *   record's end and stream offset into typed arrays; the partial record at the end moves to the next buffer;
 * - a read that returns less than asked emptied the queue: what was read is handed over then (with a non-blocking
 *   device, only if the consumer has nothing outstanding: larger batches while it is busy, at most 10 ms old).
 *
 * Waiting: real pipes are read in non-blocking mode with poll(2) and a timeout (so the loop sees a stop request);
 * kernel model pipes block in read() and are woken by an interrupt (EINTR), which the owner sends.
 */
import { Framer, type FramerRangeSink } from '../../format/framer.js';
import type { Diagnostic } from '../../format/types.js';
import { AUDITPIPE, ioctlGetCounter, ioctlGetU32, ioctlSetU32, isErrno } from './device.js';
import { DropLocator, RecordCounter, type PipeDrop } from './drop-locator.js';
import type { WorkerDevice } from './open-device.js';
import type { PipeBaseline } from './setup.js';

/**
 * Counters as the last ioctls reported them (raw u32 values: inserts and drops after every read, reads at most
 * every 100 ms; qlen = inserts since the FLUSH − records read) and accumulated since the FLUSH.
 */
export interface PipeCounters {
  inserts: number;
  reads: number;
  drops: number;
  qlen: number;
  qlimit: number;
  /** Since the FLUSH: records inserted, dropped; records completed by our reads; read() calls; EINTRs. */
  insertsSinceFlush: number;
  dropsSinceFlush: number;
  recordsRead: number;
  readCalls: number;
  interrupted: number;
  /** Times the thread paused because the consumer held too much. */
  stalls: number;
}

/** One hand-over. */
export interface DrainBatch {
  /** bytes [0, length) of `buffer`: raw stream bytes, or (framed) whole records back to back. */
  buffer: ArrayBuffer;
  length: number;
  /** Stream offset of byte 0 (raw mode; framed: of the first record). */
  offset: number;
  /** Framed: end of each record in `buffer`, and its stream offset. */
  ends?: Uint32Array;
  offs?: Float64Array;
  /** Framed: framing damage (stream offsets). */
  diags?: Diagnostic[];
  /** Drops whose place the stream has reached, in stream order. */
  drops: PipeDrop[];
  /** Drops whose `latest` bound the stream has reached (latestOffset known), in stream order. */
  bounded: PipeDrop[];
  counters: PipeCounters;
}

/** How a look at the queue found it empty. */
export type EmptyKind = 'short' | 'again' | 'interrupted';

export interface DrainLoopOptions {
  device: WorkerDevice;
  baseline: PipeBaseline;
  /** Bytes asked per read(). */
  readSize: number;
  /** Size of the buffers handed over. */
  bufferBytes: number;
  /** Hand over whole records only (with their ends and offsets). */
  frame?: { maxRecordSize?: number };
  /** Stop requested (checked between reads). */
  stopRequested(): boolean;
  /** After a stop request, keep reading until the queue is found empty. */
  drainOnStop?: boolean;
  /** True while the consumer holds too much: the loop does not read (the kernel queue absorbs, then drops). */
  overCap(): boolean;
  /** True when the consumer has nothing outstanding. */
  consumerIdle(): boolean;
  /** Waits up to `ms` for the consumer (or a stop request). */
  pause(ms: number): void;
  /** Called right before each read (e.g. to note what the owner must know "before looking"). */
  beforeRead?(): void;
  onBatch(b: DrainBatch, transfer: ArrayBuffer[]): void;
  /**
   * The queue was found empty. `interrupted`: a blocked read was interrupted (the queue was empty while it waited).
   * Whatever the owner posts that must come after the records read so far, it posts after calling `flush`.
   */
  onEmpty?(kind: EmptyKind, flush: () => void): void;
}

const MAX_AGE_MS = 10;

export class DrainLoop implements FramerRangeSink {
  private readonly o: DrainLoopOptions;
  private readonly dev: WorkerDevice;
  private readonly polling: boolean;
  private readonly combined: boolean;
  private readonly cbuf = Buffer.alloc(16);
  private readonly locator: DropLocator;
  private readonly counter = new RecordCounter();
  private readonly pending: PipeDrop[] = [];
  private readonly unbounded: PipeDrop[] = [];
  private drops: PipeDrop[] = [];
  private bounded: PipeDrop[] = [];
  readonly counters: PipeCounters;

  private buf: ArrayBuffer;
  private view: Buffer;
  /** Bytes in view: [0, pos). Framed: [0, framed) are whole records, [framed, pos) the start of the next. */
  private pos = 0;
  private framed = 0;
  /** Stream offset of view[0]. */
  private base = 0;
  private batchSince = 0;
  private readsAt = 0;
  /** The device keeps a read outstanding (readAhead). */
  private aheadOn = false;
  /** Whether answers come from reads sent one call earlier (marks must use what was loaded before that call). */
  get readsAhead(): boolean {
    return this.aheadOn;
  }

  // framed mode
  private readonly framer: Framer | null;
  private ends = new Uint32Array(4096);
  private offs = new Float64Array(4096);
  private nrec = 0;
  private diags: Diagnostic[] = [];
  /** Where the bytes the framer holds start in view (framed mode), to move them to the next buffer. */
  private heldFrom = 0;

  constructor(o: DrainLoopOptions) {
    this.o = o;
    this.dev = o.device;
    this.polling = typeof o.device.pollSync === 'function';
    this.combined = typeof o.device.readWithCountersSync === 'function';
    const b = o.baseline;
    this.locator = new DropLocator(b.qlimit, b.drops, b.inserts);
    this.counters = {
      inserts: b.inserts, reads: b.reads, drops: b.drops, qlen: 0, qlimit: b.qlimit,
      insertsSinceFlush: 0, dropsSinceFlush: 0, recordsRead: 0, readCalls: 0, interrupted: 0, stalls: 0,
    };
    this.counter.onWatch = () => this.resolveReached();
    this.buf = new ArrayBuffer(o.bufferBytes);
    this.view = Buffer.from(this.buf);
    this.framer = o.frame ? new Framer(this, { maxRecordSize: o.frame.maxRecordSize }) : null;
  }

  /** Framer sink: a record at buf[start, end) (buf is a view of this.view). Junk between records is squeezed out. */
  range(b: Buffer, start: number, end: number, offset: number): void {
    const at = b.byteOffset - this.view.byteOffset + start;
    const len = end - start;
    if (at !== this.framed) this.view.copyWithin(this.framed, at, at + len);
    if (this.nrec === this.ends.length) {
      const e = new Uint32Array(this.nrec * 2);
      e.set(this.ends);
      this.ends = e;
      const f = new Float64Array(this.nrec * 2);
      f.set(this.offs);
      this.offs = f;
    }
    this.framed += len;
    this.ends[this.nrec] = this.framed;
    this.offs[this.nrec++] = offset;
  }

  diagnostic(d: Diagnostic): void {
    this.diags.push(d);
  }

  /** Pending drops whose record index the stream reached get their byte offsets. */
  private resolveReached(): void {
    const c = this.counter;
    while (this.pending.length > 0 && this.pending[0]!.recordIndex <= c.count) {
      const d = this.pending.shift()!;
      d.offset = c.recStart;
      this.drops.push(d);
    }
    while (this.unbounded.length > 0 && this.unbounded[0]!.latest <= c.count) {
      const d = this.unbounded.shift()!;
      d.latestOffset = c.recStart;
      this.bounded.push(d);
    }
    const a = this.pending.length > 0 ? this.pending[0]!.recordIndex : Infinity;
    const b = this.unbounded.length > 0 ? this.unbounded[0]!.latest : Infinity;
    c.watch = Math.min(a, b) === Infinity ? -1 : Math.min(a, b);
  }

  private takeCounters(drops: number, inserts: number, drained: boolean, beforeOffset: number): void {
    const c = this.counters;
    c.drops = drops;
    c.inserts = inserts;
    const d = this.locator.afterRead(this.counter.count, drained, drops, inserts, this.counter.synced, beforeOffset);
    c.insertsSinceFlush = this.locator.inserts;
    c.dropsSinceFlush = this.locator.drops;
    c.recordsRead = this.counter.count;
    if (d) {
      this.pending.push(d);
      this.unbounded.push(d);
      this.resolveReached();
    }
  }

  /** The counters without a read (idle): drops can happen with nothing left to read. */
  private idleCheck(): void {
    const drops = ioctlGetCounter(this.dev, AUDITPIPE.GET_DROPS) % 0x100000000;
    const inserts = ioctlGetCounter(this.dev, AUDITPIPE.GET_INSERTS) % 0x100000000;
    if (drops === this.counters.drops && inserts === this.counters.inserts) return;
    this.takeCounters(drops, inserts, true, this.counter.recStart);
  }

  private readonly flushFn = (): void => this.flush();

  /** Hands over what was read (and the drops placed so far). */
  flush(): void {
    const framed = this.framer !== null;
    const len = framed ? this.framed : this.pos;
    if (len === 0 && this.drops.length === 0 && this.bounded.length === 0 && this.diags.length === 0) {
      if (framed && this.heldFrom > 0) {
        // only skipped bytes before the held record: make room
        this.view.copy(this.view, 0, this.heldFrom, this.pos);
        this.base += this.heldFrom;
        this.pos -= this.heldFrom;
        this.heldFrom = 0;
        this.framer!.pushReplacing(this.view.subarray(0, this.pos));
      }
      return;
    }
    const c = this.counters;
    c.qlen = Math.max(0, this.locator.inserts - this.counter.count);
    const now = Date.now();
    // (not with a read outstanding: the request would wait for it)
    if (!this.aheadOn && now - this.readsAt >= 100) {
      this.readsAt = now;
      try {
        c.reads = ioctlGetCounter(this.dev, AUDITPIPE.GET_READS) % 0x100000000;
      } catch {
        /* statistics only */
      }
    }
    // framed: the start of the next record (what the framer holds) moves to the front of the buffer
    const carry = framed ? this.heldFrom : this.pos;
    const rest = this.pos - carry;
    let out: ArrayBuffer;
    if (len <= this.buf.byteLength / 2) {
      out = this.buf.slice(0, len); // small batch: copy it and keep the large buffer
      if (rest > 0) this.view.copy(this.view, 0, carry, this.pos);
    } else {
      out = this.buf;
      this.buf = new ArrayBuffer(this.o.bufferBytes);
      const nv = Buffer.from(this.buf);
      if (rest > 0) this.view.copy(nv, 0, carry, this.pos);
      this.view = nv;
    }
    const b: DrainBatch = { buffer: out, length: len, offset: this.base, drops: this.drops, bounded: this.bounded, counters: { ...c } };
    if (framed) {
      b.offset = this.nrec > 0 ? this.offs[0]! : this.base;
      b.ends = this.ends.slice(0, this.nrec);
      b.offs = this.offs.slice(0, this.nrec);
      b.diags = this.diags;
      this.nrec = 0;
      this.diags = [];
      this.framed = 0;
      this.heldFrom = 0;
      if (rest > 0) this.framer!.pushReplacing(this.view.subarray(0, rest));
    }
    this.base += carry;
    this.pos = rest;
    this.drops = [];
    this.bounded = [];
    this.batchSince = now;
    this.o.onBatch(b, [out]);
  }

  /** Reads until a stop request (and, with drainOnStop, until the queue is found empty). Throws on device errors. */
  run(): void {
    const o = this.o;
    const dev = this.dev;
    // Real pipes: non-blocking reads and poll(2). Model pipes: blocking reads (woken by an interrupt).
    ioctlSetU32(dev, AUDITPIPE.FIONBIO, this.polling ? 1 : 0);
    // a blocking device keeps a read outstanding where it can, so it is served as soon as records come
    if (!this.polling && this.combined && dev.readAhead) {
      dev.readAhead(true);
      this.aheadOn = true;
    }
    // the same size every read (a read sent ahead was sent with the size of the one before)
    const minRoom = o.readSize;
    let stopping = false;
    for (;;) {
      if (!stopping && o.stopRequested()) {
        if (!o.drainOnStop) break;
        stopping = true;
        // read what is queued without waiting for more (and send nothing ahead: it would be read after the end)
        if (this.aheadOn) {
          dev.readAhead!(false);
          this.aheadOn = false;
        }
        if (!this.polling) ioctlSetU32(dev, AUDITPIPE.FIONBIO, 1);
      }
      if (!stopping && o.overCap()) {
        this.flush();
        this.counters.stalls++;
        o.pause(50);
        continue;
      }
      if (this.view.length - this.pos < minRoom) this.flush();
      const want = Math.min(o.readSize, this.view.length - this.pos);
      const beforeOffset = this.counter.recStart;
      o.beforeRead?.();
      let n: number;
      try {
        n = this.combined ? dev.readWithCountersSync!(this.view, this.pos, want, this.cbuf) : dev.readSync(this.view, this.pos, want);
      } catch (err) {
        if (isErrno(err, 'EINTR')) {
          this.counters.interrupted++;
          this.flush();
          o.onEmpty?.('interrupted', this.flushFn);
          // stopping: the next read does not block (and finds what came meanwhile)
          continue;
        }
        if (isErrno(err, 'EAGAIN')) {
          this.flush();
          o.onEmpty?.('again', this.flushFn);
          if (stopping) break;
          if (this.polling && !dev.pollSync!(20)) {
            this.idleCheck();
            this.flush();
          }
          continue;
        }
        throw err;
      }
      this.counters.readCalls++;
      if (n === 0) {
        this.flush();
        o.onEmpty?.('again', this.flushFn);
        if (stopping) break;
        if (this.polling) dev.pollSync!(20);
        continue;
      }
      this.counter.walk(this.view, this.pos, this.pos + n);
      this.pos += n;
      // the counters right after the read (drops first, then inserts: see drop-locator.ts)
      if (this.combined) this.takeCounters(this.cbuf.readUInt32LE(0), this.cbuf.readUInt32LE(8), n < want, beforeOffset);
      else {
        const drops = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) % 0x100000000;
        this.takeCounters(drops, ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS) % 0x100000000, n < want, beforeOffset);
      }
      if (this.framer) {
        // frame in place: what the framer holds (view[heldFrom, from)) plus this read
        this.framer.pushReplacing(this.view.subarray(this.heldFrom, this.pos));
        this.heldFrom = this.pos - this.framer.pending;
      }
      if (n < want) {
        // The queue is empty now. A blocking read would wait with these bytes unsent: hand them over. A
        // non-blocking one comes back at once: keep filling while the consumer is busy with earlier batches.
        if (!this.polling || stopping || o.consumerIdle() || Date.now() - this.batchSince >= MAX_AGE_MS) this.flush();
        o.onEmpty?.('short', this.flushFn);
        if (stopping) break;
      }
    }
    this.flush();
  }

  /**
   * Closes the pipe, reading right before what the close discards (kernel-audit-pipe.md §3, §5: close() drops the
   * queue, no counter counts it). Returns GET_QLEN as read right before close(): the records queued and not read,
   * including a head record read in part (whose bytes end the stream as a truncated record). Records the kernel
   * queues between that reading and close() are discarded too and cannot be known: on a real device the count is
   * a lower bound (short by what arrives in the few microseconds between the two system calls); the kernel model
   * answers both in one exchange, so there it is exact. Drops counted by the same reading (after the last read)
   * are placed like any other (trailingDrops/trailingBounded). Null when the device could not answer (it went
   * away: nothing is known about its queue).
   */
  close(): number | null {
    const dev = this.dev;
    let qlen: number | null = null;
    let drops: number;
    let inserts: number;
    try {
      if (dev.closeWithCountersSync) {
        qlen = dev.closeWithCountersSync(this.cbuf);
        drops = this.cbuf.readUInt32LE(0);
        inserts = this.cbuf.readUInt32LE(8);
      } else {
        drops = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) % 0x100000000;
        inserts = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS) % 0x100000000;
        qlen = ioctlGetU32(dev, AUDITPIPE.GET_QLEN);
      }
      // no read since the last one: the queue was found empty by it or these drops came after it (idleCheck)
      this.takeCounters(drops, inserts, true, this.counter.recStart);
    } catch {
      qlen = null;
    }
    try {
      dev.close();
    } catch {
      /* gone already */
    }
    return qlen;
  }

  /** Stream bytes read since the FLUSH. */
  get bytesRead(): number {
    return this.counter.pos;
  }

  /** At the end: drops placed after the last byte read (their records never came). */
  trailingDrops(): PipeDrop[] {
    const end = this.counter.pos;
    for (const d of this.pending) d.offset = end;
    for (const d of this.unbounded) d.latestOffset = end;
    return this.pending.map((d) => ({ ...d }));
  }

  /** At the end: drops whose `latest` bound was never reached (it is the end of the stream). */
  trailingBounded(): PipeDrop[] {
    const end = this.counter.pos;
    return this.unbounded.map((d) => ({ ...d, offset: d.offset >= 0 ? d.offset : end, latestOffset: end }));
  }

  /** Framed mode, at the end: a partial record still held is reported (BSM_E_TRUNCATED). */
  endFraming(): void {
    if (!this.framer) return;
    this.framer.end();
    this.flush();
  }
}
