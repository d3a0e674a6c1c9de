/**
 * The library's drain thread (kernel-audit-pipe.md §7, §19.4): the shared drain loop (drain-loop.ts) handing raw
 * batches to openPipeDrain (pipe-drain.ts), transferred, not copied.
 *
 * Memory is bounded: once `maxBufferedBytes` have been handed over and not yet released by the consumer, the
 * thread stops reading; the kernel queue then fills and the kernel drops, which the counters report as usual.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DrainLoop, type PipeCounters } from './drain-loop.js';
import type { PipeDrop } from './drop-locator.js';
import { deviceFromHandle, type DeviceHandle } from './open-device.js';
import type { PipeBaseline } from './setup.js';
import { setThreadPriority, type DrainPriority, type PriorityOutcome } from './thread-priority.js';

export type { PipeCounters } from './drain-loop.js';

export interface DrainWorkerData {
  handle: DeviceHandle;
  baseline: PipeBaseline;
  readSize: number;
  batchBytes: number;
  maxBufferedBytes: number;
  /** SharedArrayBuffer: Int32 [0] stop flag; BigInt64 at byte 8: bytes released by the consumer. */
  control: SharedArrayBuffer;
  priority: DrainPriority;
}

export type DrainMessage =
  | { type: 'batch'; buffer: ArrayBuffer; length: number; offset: number; drops: PipeDrop[]; counters: PipeCounters }
  | { type: 'ready'; priority: PriorityOutcome }
  | {
      type: 'end';
      drops: PipeDrop[];
      counters: PipeCounters;
      /** GET_QLEN right before close(): records the close discarded (DrainLoop.close()); null: unknown. */
      discardedAtClose: number | null;
      error?: { code: string; message: string };
    };

const STOP = 0;

function run(): void {
  const data = workerData as DrainWorkerData;
  const port = parentPort!;
  const ctl = new Int32Array(data.control, 0, 2);
  const released = new BigInt64Array(data.control, 8, 1);
  const dev = deviceFromHandle(data.handle);
  let posted = 0;
  const held = (): number => posted - Number(Atomics.load(released, 0));
  const loop = new DrainLoop({
    device: dev,
    baseline: data.baseline,
    readSize: data.readSize,
    bufferBytes: data.batchBytes,
    stopRequested: () => Atomics.load(ctl, STOP) !== 0,
    overCap: () => held() + data.batchBytes > data.maxBufferedBytes,
    consumerIdle: () => held() === 0,
    pause: (ms) => void Atomics.wait(ctl, STOP, 0, ms),
    onBatch: (b, transfer) => {
      posted += b.buffer.byteLength;
      const msg: DrainMessage = { type: 'batch', buffer: b.buffer, length: b.length, offset: b.offset, drops: b.drops, counters: b.counters };
      port.postMessage(msg, transfer);
    },
  });
  let error: { code: string; message: string } | undefined;
  try {
    // before the first read, and before the owner drops privileges (it waits for 'ready')
    port.postMessage({ type: 'ready', priority: setThreadPriority(data.priority) } satisfies DrainMessage);
    loop.run();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    error = { code: e.code ?? 'BSMKIT_E_PIPE_READ', message: e.message ?? String(err) };
  }
  try {
    loop.flush();
  } catch {
    /* the device is gone: nothing more to hand over */
  }
  let discardedAtClose: number | null = null;
  try {
    discardedAtClose = loop.close();
  } catch {
    /* going away anyway */
  }
  // Drops past the last record read: their records never arrived (closed, or the device went away).
  const end: DrainMessage = { type: 'end', drops: loop.trailingDrops(), counters: { ...loop.counters }, discardedAtClose, error };
  port.postMessage(end);
}

run();
