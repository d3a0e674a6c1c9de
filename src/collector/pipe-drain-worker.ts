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
import { SimulatedPipeDevice } from '../sources/pipe/simulated-device.js';
import { SHARED, type DrainInit, type DrainMessage } from './pipe-drain-protocol.js';

const init = workerData as DrainInit;
const shared = new Int32Array(init.shared);
const post = (m: DrainMessage, transfer?: ArrayBuffer[]): void => parentPort!.postMessage(m, transfer ?? []);

function openDevice(): AuditPipeDevice {
  if (init.device.kind === 'simulated') return SimulatedPipeDevice.open(init.device.endpoint);
  throw Object.assign(new Error(`${init.device.path}: this build has no native audit pipe helper (ioctl); use --source trail`), { code: 'ENOTSUP' });
}

const stopping = (): boolean => Atomics.load(shared, SHARED.STOP) !== 0;
const nap = (ms: number): void => void Atomics.wait(shared, SHARED.STOP, 0, ms);

function main(): void {
  let dev: AuditPipeDevice;
  try {
    dev = openDevice();
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
  let queueEnd = 0; // pipe offset of the end of what was queued at the last drops poll
  let lastMarkEpoch = -1;
  let lastMarkAt = 0;
  let lastDrops = 0;

  try {
    while (!stopping() || init.drainOnStop) {
      if (Atomics.load(shared, SHARED.OUTSTANDING_KB) * 1024 > init.maxOutstandingBytes) {
        if (stopping()) break;
        nap(1);
        continue;
      }
      const epoch = Atomics.load(shared, SHARED.EPOCH);
      const at = Date.now();
      const q = ioctlGetU32(dev, AUDITPIPE.FIONREAD);
      if (q === 0) {
        if (stopping()) break;
        if (epoch !== lastMarkEpoch || at - lastMarkAt >= 100) {
          const d = pollDrops();
          post({ t: 'mark', epoch, at, drops: d, gap: d > lastDrops ? { records: d - lastDrops, from: queueEnd, to: pipeOffset } : undefined });
          lastDrops = d;
          lastMarkEpoch = epoch;
          lastMarkAt = at;
        }
        nap(1);
        continue;
      }
      const d = pollDrops();
      const gap = d > lastDrops ? { records: d - lastDrops, from: queueEnd, to: pipeOffset + q } : undefined;
      lastDrops = d;
      const size = Math.min(init.readBytes, Math.max(q, 65536));
      const buf = Buffer.allocUnsafe(size);
      let n: number;
      try {
        n = dev.readSync(buf, 0, size);
      } catch (err) {
        if (isErrno(err, 'EAGAIN') || isErrno(err, 'EINTR')) continue;
        throw err;
      }
      queueEnd = pipeOffset + Math.max(q, n);
      if (n <= 0) continue;
      framer.push(n === size ? buf : buf.subarray(0, n));
      pipeOffset += n;
      if (ends.length > 0 || diags.length > 0 || gap) {
        const data = out.buffer.slice(out.byteOffset, out.byteOffset + outLen);
        Atomics.add(shared, SHARED.OUTSTANDING_KB, Math.ceil(outLen / 1024));
        post({ t: 'batch', data, ends: Uint32Array.from(ends), offs: Float64Array.from(offs), drops: d, gap, diags, kb: Math.ceil(outLen / 1024) }, [data as ArrayBuffer]);
        outLen = 0;
        ends = [];
        offs = [];
        diags = [];
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
