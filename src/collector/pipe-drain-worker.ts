/**
 * The collector's pipe drain thread: the shared drain loop (sources/pipe/drain-loop.ts) in framed mode, so each
 * batch holds whole records with their ends and pipe offsets, ready for spool.appendBatch; drops come placed by
 * GET_DROPS/GET_INSERTS after every read (drop-locator.ts) as DropGaps.
 *
 * Besides batches it posts "drained" marks for the hybrid reconciler (reconcile.ts): the queue was found empty
 * after the trail epoch loaded before looking. Marks follow the batches read before them. A real pipe is looked at
 * with non-blocking reads; a kernel model pipe blocks in read(), and the main thread interrupts it (SHARED.BLOCKED)
 * when a mark is due. When the main thread has more than `maxOutstandingBytes` unprocessed, the drain stops
 * reading: the kernel then drops, and the drop counter accounts for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DrainLoop, type EmptyKind } from '../sources/pipe/drain-loop.js';
import type { PipeDrop } from '../sources/pipe/drop-locator.js';
import { deviceFromHandle } from '../sources/pipe/open-device.js';
import { setThreadPriority } from '../sources/pipe/thread-priority.js';
import { SHARED, type DrainInit, type DrainMessage, type DropGap } from './pipe-drain-protocol.js';

const init = workerData as DrainInit;
const shared = new Int32Array(init.shared);
const post = (m: DrainMessage, transfer?: ArrayBuffer[]): void => parentPort!.postMessage(m, transfer ?? []);

const gapOf = (d: PipeDrop): DropGap => ({ records: d.records, from: d.earliestOffset, to: d.latestOffset });

function gapsOf(drops: PipeDrop[]): { gap?: DropGap; gaps?: DropGap[] } {
  if (drops.length === 0) return {};
  const gaps = drops.map(gapOf);
  const gap: DropGap = { records: 0, from: Infinity, to: -Infinity };
  for (const g of gaps) {
    gap.records += g.records;
    gap.from = Math.min(gap.from, g.from);
    gap.to = Math.max(gap.to, g.to);
  }
  return { gap, gaps };
}

function main(): void {
  const dev = deviceFromHandle(init.handle);
  const blocking = typeof dev.pollSync !== 'function';
  let epochBefore = 0;
  let atBefore = 0;
  let sentEpoch = 0;
  let sentAt = 0;
  let lastMarkEpoch = -1;
  let lastMarkAt = 0;
  const stopRequested = (): boolean => Atomics.load(shared, SHARED.STOP) !== 0;
  const loop = new DrainLoop({
    device: dev,
    baseline: init.baseline,
    readSize: init.readBytes,
    bufferBytes: Math.max(init.readBytes, 4 << 20),
    frame: { maxRecordSize: init.maxRecordSize },
    drainOnStop: init.drainOnStop,
    stopRequested,
    overCap: () => Atomics.load(shared, SHARED.OUTSTANDING_KB) * 1024 > init.maxOutstandingBytes,
    consumerIdle: () => Atomics.load(shared, SHARED.OUTSTANDING_KB) === 0,
    // Woken as soon as the main thread has processed a batch (or a stop is requested): every millisecond paused is
    // a millisecond of records the kernel queue (about 1 ms at 1M records/s) cannot hold.
    pause: (ms) => void Atomics.wait(shared, SHARED.OUTSTANDING_KB, Atomics.load(shared, SHARED.OUTSTANDING_KB), ms),
    beforeRead: () => {
      // What a mark may claim: loaded before looking at the queue. A device reading ahead answers with the read
      // sent during the previous call: what was loaded before that call.
      const epoch = Atomics.load(shared, SHARED.EPOCH);
      const at = Date.now();
      if (loop.readsAhead) {
        epochBefore = sentEpoch;
        atBefore = sentAt;
      } else {
        epochBefore = epoch;
        atBefore = at;
      }
      sentEpoch = epoch;
      sentAt = at;
      if (blocking) Atomics.store(shared, SHARED.BLOCKED, 1);
    },
    onBatch: (b, transfer) => {
      const kb = Math.ceil(b.length / 1024);
      Atomics.add(shared, SHARED.OUTSTANDING_KB, kb);
      // ends and offs are this batch's own arrays (drain-loop.ts slices them): moved, not copied
      post({ t: 'batch', data: b.buffer, ends: b.ends!, offs: b.offs!, drops: b.counters.dropsSinceFlush, ...gapsOf(b.bounded), diags: b.diags ?? [], kb }, [...transfer, b.ends!.buffer as ArrayBuffer, b.offs!.buffer as ArrayBuffer]);
    },
    onEmpty: (kind: EmptyKind, flush) => {
      let epoch = epochBefore;
      let at = atBefore;
      if (kind === 'interrupted') {
        // only the main thread's interrupt says when the queue was seen empty (a signal's EINTR does not)
        if (Atomics.load(shared, SHARED.BLOCKED) !== 2) return;
        epoch = Atomics.load(shared, SHARED.INTR_EPOCH);
        at = init.timeBase + Atomics.load(shared, SHARED.INTR_AT);
      }
      if (epoch === lastMarkEpoch && at - lastMarkAt < 100 && !stopRequested()) return;
      flush();
      post({ t: 'mark', epoch, at, drops: loop.counters.dropsSinceFlush });
      lastMarkEpoch = epoch;
      lastMarkAt = at;
    },
  });
  try {
    // before the first read, and before the collector drops privileges (it waits for 'open')
    post({ ...init.open, priority: setThreadPriority(init.priority) });
    loop.run();
    loop.endFraming();
  } catch (err) {
    post({ t: 'error', message: `audit pipe read: ${(err as Error).message}`, code: (err as { code?: string }).code ?? 'EIO' });
  }
  // what the close discards (GET_QLEN right before it; drops since the last read are placed with it)
  let discardedAtClose: number | null = null;
  try {
    discardedAtClose = loop.close();
  } catch {
    /* gone already */
  }
  // drops placed after the last byte read: their records never came
  const trailing = loop.trailingBounded();
  if (trailing.length > 0) post({ t: 'batch', data: new ArrayBuffer(0), ends: new Uint32Array(0), offs: new Float64Array(0), drops: loop.counters.dropsSinceFlush, ...gapsOf(trailing), diags: [], kb: 0 });
  post({ t: 'closed', drops: loop.counters.dropsSinceFlush, bytes: loop.bytesRead, discardedAtClose });
}

main();
