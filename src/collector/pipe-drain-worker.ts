/**
 * The pipe drain: runs on its own worker thread so nothing downstream can stall it (kernel-audit-pipe.md §19.4).
 *
 * Setup order of §19.3: open, SET_QLIMIT, FLUSH, then read. Each loop: FIONREAD; when the queue is empty, post a
 * "drained" mark (with the trail epoch loaded before looking, see reconcile.ts) and sleep 1 ms; otherwise poll
 * GET_DROPS (mod 2^32 delta: a positive delta is a gap before the bytes about to be read), read, frame, and post
 * the records (one transferred buffer per read). When the main thread has more than `maxOutstandingBytes` unprocessed,
 * the drain stops reading: the kernel then drops, and the drop counter accounts for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Framer, type FramerRangeSink } from '../format/framer.js';
import type { Diagnostic } from '../format/types.js';
import { AUDITPIPE, ioctlGetCounter, ioctlGetU32, ioctlSetU32, isErrno, type AuditPipeDevice } from '../sources/pipe/device.js';
import { openDevice, type WorkerDevice } from '../sources/pipe/open-device.js';
import { SHARED, type DrainInit, type DrainMessage } from './pipe-drain-protocol.js';

const init = workerData as DrainInit;
const shared = new Int32Array(init.shared);
const post = (m: DrainMessage, transfer?: ArrayBuffer[]): void => parentPort!.postMessage(m, transfer ?? []);

function open(): AuditPipeDevice & WorkerDevice {
  return (init.device.kind === 'simulated' ? openDevice({ endpoint: init.device.endpoint }) : openDevice({ path: init.device.path })) as AuditPipeDevice & WorkerDevice;
}

const stopping = (): boolean => Atomics.load(shared, SHARED.STOP) !== 0;
const nap = (ms: number): void => void Atomics.wait(shared, SHARED.STOP, 0, ms);

function main(): void {
  let dev: AuditPipeDevice & WorkerDevice;
  try {
    dev = open();
  } catch (err) {
    post({ t: 'error', message: (err as Error).message, code: (err as { code?: string }).code ?? 'EIO' });
    return;
  }
  let qlimit = 0;
  let qlimitMax = 0;
  let dropsBase = 0;
  let haveCounters = true;
  try {
    qlimitMax = ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT_MAX);
    const want = init.qlimit === 'max' ? qlimitMax : init.qlimit;
    if (want > 0) ioctlSetU32(dev, AUDITPIPE.SET_QLIMIT, want);
    qlimit = ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT);
    dev.ioctlSync(AUDITPIPE.FLUSH, Buffer.alloc(0));
    try {
      ioctlSetU32(dev, AUDITPIPE.FIONBIO, 1);
    } catch {
      /* FIONREAD decides when to read anyway */
    }
    try {
      dropsBase = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS);
    } catch {
      haveCounters = false;
    }
  } catch (err) {
    post({ t: 'error', message: `audit pipe setup: ${(err as Error).message}`, code: (err as { code?: string }).code ?? 'EIO' });
    dev.close();
    return;
  }
  post({ t: 'open', qlimit, qlimitMax, haveCounters, name: (dev as { name?: string }).name ?? init.device.kind });

  let drops = 0; // since open, unwrapped
  let lastRaw = dropsBase;
  const pollDrops = (): number => {
    if (!haveCounters) return 0;
    const raw = ioctlGetCounter(dev, AUDITPIPE.GET_DROPS);
    const delta = (raw - lastRaw) % 0x100000000;
    lastRaw = raw;
    drops += delta < 0 ? delta + 0x100000000 : delta;
    return drops;
  };

  // Framed records of the current read are packed into `out`; its buffer is transferred to the main thread.
  let out = Buffer.allocUnsafeSlow(1 << 20);
  let outLen = 0;
  let ends: number[] = [];
  let offs: number[] = [];
  let diags: Diagnostic[] = [];
  const sink: FramerRangeSink = {
    range(buf, start, end, offset, kind) {
      if (kind !== 'record') return;
      const n = end - start;
      if (outLen + n > out.length) {
        const nb = Buffer.allocUnsafeSlow(Math.max(out.length * 2, outLen + n));
        out.copy(nb, 0, 0, outLen);
        out = nb;
      }
      buf.copy(out, outLen, start, end);
      outLen += n;
      ends.push(outLen);
      offs.push(offset);
    },
    diagnostic(d) {
      diags.push(d);
    },
  };
  const framer = new Framer(sink, { maxRecordSize: init.maxRecordSize });
  let pipeOffset = 0;
  let readAtPoll = 0; // pipe offset read when the drop counter was last polled
  let lastMarkEpoch = -1;
  let lastMarkAt = 0;
  let lastDrops = 0;

  // One device call per read when busy (each call is a round trip to the kernel model, or a syscall): the read is
  // non-blocking, and a read that returns less than the buffer emptied the queue. The drop counter is polled every
  // 10 ms while busy and on every idle turn.
  const readBuf = Buffer.allocUnsafeSlow(init.readBytes);
  const combined = typeof dev.readWithCountersSync === 'function';
  const cbuf = Buffer.alloc(16);
  cbuf.writeBigUInt64LE(BigInt(dropsBase), 0);
  let lastPoll = 0;
  let pending: { records: number; from: number } | undefined;
  let idle = true;
  try {
    while (!stopping() || init.drainOnStop) {
      if (Atomics.load(shared, SHARED.OUTSTANDING_KB) * 1024 > init.maxOutstandingBytes) {
        if (stopping()) break;
        nap(1);
        continue;
      }
      const epoch = Atomics.load(shared, SHARED.EPOCH);
      const at = Date.now();
      if (!combined && (idle || at - lastPoll >= 10)) {
        const d = pollDrops();
        lastPoll = at;
        if (d > lastDrops) pending = { records: d - lastDrops + (pending?.records ?? 0), from: pending?.from ?? readAtPoll };
        lastDrops = d;
        readAtPoll = pipeOffset;
      }
      let n = 0;
      try {
        n = combined ? dev.readWithCountersSync!(readBuf, 0, readBuf.length, cbuf) : dev.readSync(readBuf, 0, readBuf.length);
      } catch (err) {
        if (!isErrno(err, 'EAGAIN') && !isErrno(err, 'EINTR')) throw err;
      }
      if (n > 0) {
        framer.push(Buffer.from(readBuf.subarray(0, n)));
        pipeOffset += n;
      }
      if (combined && haveCounters) {
        // Counters answered right after the read: drops counted now sit after the previous read's end and before
        // the end of this read when it emptied the queue.
        const raw = Number(cbuf.readBigUInt64LE(0));
        const delta = (raw - lastRaw) % 0x100000000;
        lastRaw = raw;
        const d = drops + (delta < 0 ? delta + 0x100000000 : delta);
        drops = d;
        if (d > lastDrops) pending = { records: d - lastDrops + (pending?.records ?? 0), from: pending?.from ?? readAtPoll };
        lastDrops = d;
        readAtPoll = pipeOffset;
      }
      const drained = n < readBuf.length;
      // Drops counted before this read sit before the end of what this read emptied.
      const gap = drained && pending ? { ...pending, to: pipeOffset } : undefined;
      if (gap) pending = undefined;
      if (ends.length > 0 || diags.length > 0 || gap) {
        const data = out.buffer.slice(out.byteOffset, out.byteOffset + outLen);
        const kb = Math.ceil(outLen / 1024);
        Atomics.add(shared, SHARED.OUTSTANDING_KB, kb);
        post({ t: 'batch', data, ends: Uint32Array.from(ends), offs: Float64Array.from(offs), drops: lastDrops, gap, diags, kb }, [data as ArrayBuffer]);
        outLen = 0;
        ends = [];
        offs = [];
        diags = [];
      }
      idle = n === 0;
      if (idle) {
        if (epoch !== lastMarkEpoch || at - lastMarkAt >= 100 || stopping()) {
          post({ t: 'mark', epoch, at, drops: lastDrops });
          lastMarkEpoch = epoch;
          lastMarkAt = at;
        }
        if (stopping()) break;
        if (dev.pollSync) dev.pollSync(1);
        else nap(1);
      }
    }
  } catch (err) {
    post({ t: 'error', message: `audit pipe read: ${(err as Error).message}`, code: (err as { code?: string }).code ?? 'EIO' });
  }
  try {
    dev.close();
  } catch {
    /* gone already */
  }
  post({ t: 'closed', drops, bytes: pipeOffset });
}

main();
