/** Messages between the collector and its pipe drain thread (pipe-drain-worker.ts). */
import type { Diagnostic } from '../format/types.js';

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
} as const;

export interface DrainInit {
  device: PipeDeviceSpec;
  qlimit: number | 'max';
  shared: SharedArrayBuffer;
  readBytes: number;
  maxOutstandingBytes: number;
  maxRecordSize?: number;
  /** Keep reading until the queue is empty after a stop was requested. */
  drainOnStop: boolean;
}

/** Records dropped by the kernel between two pipe byte offsets (from the GET_DROPS delta). */
export interface DropGap {
  records: number;
  /** Pipe offset after which the drops happened (end of what was queued at the previous poll). */
  from: number;
  /** Pipe offset before which they happened (end of what is queued now). */
  to: number;
}

export type DrainMessage =
  | { t: 'open'; qlimit: number; qlimitMax: number; haveCounters: boolean; name: string }
  | { t: 'batch'; data: ArrayBuffer; ends: Uint32Array; offs: Float64Array; drops: number; gap?: DropGap; diags: Diagnostic[]; kb: number }
  | { t: 'mark'; epoch: number; at: number; drops: number; gap?: DropGap }
  | { t: 'error'; message: string; code: string }
  | { t: 'closed'; drops: number; bytes: number };
