/** Messages between the collector and its pipe drain thread (pipe-drain-worker.ts). */
import type { Diagnostic } from '../format/types.js';
import type { DeviceHandle } from '../sources/pipe/open-device.js';
import type { PipeBaseline } from '../sources/pipe/setup.js';
import type { DrainPriority, PriorityOutcome } from '../sources/pipe/thread-priority.js';

export type PipeDeviceSpec =
  /** A kernel model's simulated /dev/auditpipe (testing/kernel-model): its endpoint directory. */
  | { kind: 'simulated'; endpoint: string }
  /** The real device (needs the native ioctl helper). */
  | { kind: 'native'; path: string };

/** Int32 slots of the shared control buffer. */
export const SHARED = {
  /** Non-zero: stop reading. */
  STOP: 0,
  /** Incremented by the main thread each time it reads trail records (reconcile.ts). */
  EPOCH: 1,
  /** KiB posted by the drain and not yet processed by the main thread. */
  OUTSTANDING_KB: 2,
  /**
   * A model pipe's read blocks while the queue is empty, so the thread cannot look at the queue on its own:
   * 1 = blocked in read(); the main thread then sets 2, stores the epoch and time (INTR_EPOCH, INTR_AT: ms since
   * DrainInit.timeBase) and interrupts the read. The EINTR proves the queue was empty after that epoch: a mark.
   */
  BLOCKED: 3,
  INTR_EPOCH: 4,
  INTR_AT: 5,
} as const;

/** Int32 slots in `DrainInit.shared`. */
export const SHARED_SLOTS = 8;

export interface DrainInit {
  /** The pipe, opened and set up (qlimit, FLUSH) on the main thread; the thread owns it from now on. */
  handle: DeviceHandle;
  baseline: PipeBaseline;
  shared: SharedArrayBuffer;
  /** Date.now() the INTR_AT slot counts from. */
  timeBase: number;
  readBytes: number;
  maxOutstandingBytes: number;
  maxRecordSize?: number;
  /** Keep reading until the queue is empty after a stop was requested. */
  drainOnStop: boolean;
  /** The drain thread's scheduling (sources/pipe/thread-priority.ts), set by the thread before it reads. */
  priority: DrainPriority;
  /** The 'open' message the thread posts once it reads the pipe, but for `priority`, which the thread adds. */
  open: Omit<Extract<DrainMessage, { t: 'open' }>, 'priority'>;
}

/**
 * Records dropped by the kernel, and where: between two pipe byte offsets. From the GET_DROPS and GET_INSERTS
 * deltas after each read (sources/pipe/drop-locator.ts): a tail drop's place is exact (from = to); an allocation
 * failure's is known to lie between the records read before the read that saw it and those inserted by then.
 */
export interface DropGap {
  records: number;
  /** Pipe offset after which the drops happened. */
  from: number;
  /** Pipe offset before which they happened (= from when the place is exact). */
  to: number;
}

export type DrainMessage =
  | { t: 'open'; qlimit: number; qlimitMax: number; haveCounters: boolean; name: string; priority: PriorityOutcome }
  | {
      t: 'batch';
      /** Whole records back to back: record i is data[ends[i−1] (or 0), ends[i]), at pipe offset offs[i]. */
      data: ArrayBuffer;
      ends: Uint32Array;
      offs: Float64Array;
      /** Kernel drops since the pipe was opened. */
      drops: number;
      /** The drops placed with this batch, merged into one range (every gap of `gaps` lies within it). */
      gap?: DropGap;
      /** The drops placed with this batch, each with its own range. */
      gaps?: DropGap[];
      diags: Diagnostic[];
      kb: number;
    }
  | { t: 'mark'; epoch: number; at: number; drops: number; gap?: DropGap }
  | { t: 'error'; message: string; code: string }
  | {
      t: 'closed';
      /** Kernel drops since the pipe was opened (with those counted right before the close). */
      drops: number;
      bytes: number;
      /**
       * Records still queued in the kernel when the drain closed the pipe, which the close discarded (counted by no
       * kernel counter, kernel-audit-pipe.md §3, §5): AUDITPIPE_GET_QLEN read right before close(). They came after
       * the last record of the stream (offset `bytes`). A lower bound on a real device: records queued between that
       * reading and close() are discarded too and cannot be known (a window of two system calls; none against the
       * kernel model, which answers both in one exchange). The collector's drain reads until the queue is empty
       * before it closes, so no record read in part is among them. Null when the device could not be asked (it
       * went away).
       */
      discardedAtClose: number | null;
    };
