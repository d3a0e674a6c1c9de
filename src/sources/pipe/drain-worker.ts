/**
 * The drain thread (kernel-audit-pipe.md §7, §19.4): reads the pipe into large buffers as fast as the kernel fills
 * it, whatever the main thread is doing, and hands each filled buffer over (transferred, not copied). After every
 * read it reads GET_DROPS and GET_INSERTS, so each drop is placed in the stream (drop-locator.ts).
 *
 * Memory is bounded: once `maxBufferedBytes` have been handed over and not yet released by the consumer, the
 * thread stops reading; the kernel queue then fills and the kernel drops, which the counters report as usual.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AUDITPIPE, ioctlGetCounter, ioctlSetU32, isErrno } from './device.js';
import { DropLocator, RecordCounter, type PipeDrop } from './drop-locator.js';
import { deviceFromHandle, type DeviceHandle } from './open-device.js';
import type { PipeBaseline } from './setup.js';

export interface DrainWorkerData {
  handle: DeviceHandle;
  baseline: PipeBaseline;
  readSize: number;
  batchBytes: number;
  maxBufferedBytes: number;
  /** SharedArrayBuffer: Int32 [0] stop flag; BigInt64 at byte 8: bytes released by the consumer. */
  control: SharedArrayBuffer;
}

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
  /** Times the thread paused because the consumer held maxBufferedBytes. */
  stalls: number;
}

export type DrainMessage =
  | { type: 'batch'; buffer: ArrayBuffer; length: number; offset: number; drops: PipeDrop[]; counters: PipeCounters }
  | { type: 'ready' }
  | { type: 'end'; drops: PipeDrop[]; counters: PipeCounters; error?: { code: string; message: string } };

const STOP = 0;

function run(): void {
  const data = workerData as DrainWorkerData;
  const port = parentPort!;
  const ctl = new Int32Array(data.control, 0, 2);
  const released = new BigInt64Array(data.control, 8, 1);
  const dev = deviceFromHandle(data.handle);
  const polling = typeof dev.pollSync === 'function';
  const combined = typeof dev.readWithCountersSync === 'function';
  const cbuf = Buffer.alloc(16);
  const base = data.baseline;
  const locator = new DropLocator(base.qlimit, base.drops, base.inserts);
  const counter = new RecordCounter();
  const pending: PipeDrop[] = [];
  let batchDrops: PipeDrop[] = [];
  const c: PipeCounters = {
    inserts: base.inserts, reads: base.reads, drops: base.drops, qlen: 0, qlimit: base.qlimit,
    insertsSinceFlush: 0, dropsSinceFlush: 0, recordsRead: 0, readCalls: 0, interrupted: 0, stalls: 0,
  };
  // A pending drop gets its byte offset when the stream reaches its record index.
  const resolveReached = (): void => {
    while (pending.length > 0 && pending[0]!.recordIndex <= counter.count) {
      const d = pending.shift()!;
      d.offset = counter.recStart;
      batchDrops.push(d);
    }
    counter.watch = pending.length > 0 ? pending[0]!.recordIndex : -1;
  };
  counter.onWatch = resolveReached;

  let buf = new ArrayBuffer(data.batchBytes);
  let view = Buffer.from(buf);
  let pos = 0;
  let batchOffset = 0;
  let posted = 0n;
  const minRoom = Math.min(data.readSize, 65536);

  // GET_READS is statistics only: read it at most every 100 ms. The queue length follows from the counters (the
  // records inserted since the FLUSH minus those our reads completed), which costs no extra request per batch.
  let readsAt = 0;
  const post = (): void => {
    if (pos === 0 && batchDrops.length === 0) return;
    c.qlen = Math.max(0, locator.inserts - counter.count);
    const now = Date.now();
    if (now - readsAt >= 100) {
      readsAt = now;
      try {
        c.reads = ioctlGetCounter(dev, AUDITPIPE.GET_READS) % 0x100000000;
      } catch {
        /* statistics only */
      }
    }
    let out: ArrayBuffer;
    if (pos <= data.batchBytes / 2) {
      out = buf.slice(0, pos); // small batch: copy it and keep the large buffer
    } else {
      out = buf;
      buf = new ArrayBuffer(data.batchBytes);
      view = Buffer.from(buf);
    }
    posted += BigInt(out.byteLength);
    const msg: DrainMessage = { type: 'batch', buffer: out, length: pos, offset: batchOffset, drops: batchDrops, counters: { ...c } };
    port.postMessage(msg, [out]);
    batchOffset += pos;
    pos = 0;
    batchDrops = [];
  };

  // Idle (a poll timed out): drops can happen with nothing left to read (allocation failures of the last records),
  // so look at the counters now instead of when the next record arrives.
  const idleCheck = (): void => {
    const drops = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) % 0x100000000;
    const inserts = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS) % 0x100000000;
    if (drops === c.drops && inserts === c.inserts) return;
    c.drops = drops;
    c.inserts = inserts;
    const d = locator.afterRead(counter.count, true, drops, inserts, counter.synced);
    c.insertsSinceFlush = locator.inserts;
    c.dropsSinceFlush = locator.drops;
    if (d) {
      pending.push(d);
      resolveReached();
    }
  };

  let error: { code: string; message: string } | undefined;
  try {
    // Real pipes are read in non-blocking mode with poll(2) (a timeout lets the thread see a stop request);
    // model pipes block and are woken by an interrupt (EINTR).
    ioctlSetU32(dev, AUDITPIPE.FIONBIO, polling ? 1 : 0);
    port.postMessage({ type: 'ready' } satisfies DrainMessage);
    while (Atomics.load(ctl, STOP) === 0) {
      if (posted - Atomics.load(released, 0) + BigInt(data.batchBytes) > BigInt(data.maxBufferedBytes)) {
        post();
        c.stalls++;
        // the consumer is behind: wait for it to release memory (the kernel queue absorbs, then drops)
        Atomics.wait(ctl, STOP, 0, 50);
        continue;
      }
      if (data.batchBytes - pos < minRoom) post();
      const want = Math.min(data.readSize, data.batchBytes - pos);
      let n: number;
      try {
        if (combined) n = dev.readWithCountersSync!(view, pos, want, cbuf);
        else n = dev.readSync(view, pos, want);
      } catch (err) {
        if (isErrno(err, 'EINTR')) {
          c.interrupted++;
          continue;
        }
        if (isErrno(err, 'EAGAIN')) {
          post();
          if (polling && !dev.pollSync!(100)) {
            idleCheck();
            post();
          }
          continue;
        }
        throw err;
      }
      c.readCalls++;
      if (n === 0) {
        post();
        if (polling) dev.pollSync!(100);
        continue;
      }
      counter.walk(view, pos, pos + n);
      pos += n;
      // the counters right after the read (drops first, then inserts: see drop-locator.ts)
      let drops: number;
      let inserts: number;
      if (combined) {
        drops = cbuf.readUInt32LE(0);
        inserts = cbuf.readUInt32LE(8);
      } else {
        drops = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS) % 0x100000000;
        inserts = ioctlGetCounter(dev, AUDITPIPE.GET_INSERTS) % 0x100000000;
      }
      c.drops = drops;
      c.inserts = inserts;
      const d = locator.afterRead(counter.count, n < want, drops, inserts, counter.synced);
      c.insertsSinceFlush = locator.inserts;
      c.dropsSinceFlush = locator.drops;
      c.recordsRead = counter.count;
      if (d) {
        pending.push(d);
        resolveReached();
      }
      // a short read emptied the queue: the next one would wait, so hand over what we have now
      if (n < want) post();
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    error = { code: e.code ?? 'BSMKIT_E_PIPE_READ', message: e.message ?? String(err) };
  }
  post();
  try {
    dev.close();
  } catch {
    /* going away anyway */
  }
  // Drops past the last record read: their records never arrived (closed, or the device went away).
  const end: DrainMessage = { type: 'end', drops: pending.map((d) => ({ ...d, offset: batchOffset })), counters: { ...c }, error };
  port.postMessage(end);
}

run();
