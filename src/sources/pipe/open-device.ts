/**
 * Which audit pipe to open, and how an opened one moves to the drain worker. A pipe is configured on the calling
 * thread (errors surface where they can be handled), then its descriptors are handed to the worker thread, which
 * owns it from then on (file descriptors are process-wide).
 */
import { BsmkitError } from '../../errors.js';
import type { AuditPipeDevice } from './device.js';
import { AUDITPIPE_PATH, KoffiPipeDevice, type AuditPipeHandle, type KoffiOpenOptions } from './koffi-device.js';
import { SimulatedPipeDevice, type SimulatedDeviceHandle } from './simulated-device.js';

/**
 * The device to read:
 * - `{ path }` (default `/dev/auditpipe`): the kernel's audit pipe, through koffi (macOS, FreeBSD);
 * - `{ endpoint }`: a pipe of the kernel model serving that directory (`bsmkit simulate`, startKernelModel());
 * - `{ open }`: a factory for an already-chosen device; it must support `handle()` (both devices above do).
 */
export type DeviceSpec =
  | { path?: string; libc?: string; endpoint?: undefined; open?: undefined }
  | { endpoint: string; timeoutMs?: number; path?: undefined; open?: undefined }
  | { open: () => HandOffDevice; path?: undefined; endpoint?: undefined };

export type DeviceHandle = AuditPipeHandle | SimulatedDeviceHandle;

/** A device that can be handed to another thread. */
export interface HandOffDevice extends AuditPipeDevice {
  handle(): DeviceHandle;
}

/** A device re-created from its handle on the worker thread, with the wait strategy its kind supports. */
export interface WorkerDevice extends AuditPipeDevice {
  /** poll(2) for readability (real pipe, read in non-blocking mode); absent: reads block and are interrupted. */
  pollSync?(timeoutMs: number): boolean;
  /** read() then GET_DROPS and GET_INSERTS (16 bytes: two u64le) in one exchange, where the device can. */
  readWithCountersSync?(buf: Buffer, offset: number, length: number, counters: Buffer): number;
  /**
   * Keeps one read (with its counters) outstanding: each answer comes from a read sent one call earlier, so the
   * device is never without a reader while the caller works. Other requests first wait for that read's answer.
   */
  readAhead?(on?: boolean): void;
  /**
   * GET_DROPS, GET_INSERTS (into `counters`: two u64le) and GET_QLEN (returned), then close, with nothing committed
   * in between where the device can (the kernel model). Absent: the drain loop issues the ioctls, then close().
   */
  closeWithCountersSync?(counters: Buffer): number;
}

export function openDevice(spec: DeviceSpec = {}): HandOffDevice {
  if (spec.open) {
    const dev = spec.open();
    if (typeof (dev as Partial<HandOffDevice>).handle !== 'function') {
      throw new BsmkitError('BSMKIT_E_DEVICE', 'the device factory returned a device without handle(): it cannot be read on the drain thread');
    }
    return dev;
  }
  if (spec.endpoint !== undefined) return SimulatedPipeDevice.open(spec.endpoint, { timeoutMs: spec.timeoutMs });
  const opts: KoffiOpenOptions = spec.libc ? { libc: spec.libc } : {};
  return KoffiPipeDevice.open(spec.path ?? AUDITPIPE_PATH, opts);
}

/** A name for messages and cursors. */
export function deviceLabel(h: DeviceHandle): string {
  return h.kind === 'model' ? `model:${h.endpoint}#${h.name}` : h.path;
}

export function deviceFromHandle(h: DeviceHandle): WorkerDevice {
  return h.kind === 'model' ? SimulatedPipeDevice.fromHandle(h) : KoffiPipeDevice.fromHandle(h);
}

/** After the worker is done with a handed-over device: releases what the opening thread still holds. */
export function releaseHandle(h: DeviceHandle): void {
  if (h.kind === 'model') SimulatedPipeDevice.closeHandle(h);
}

/**
 * Wakes the worker's blocked read so it sees the stop request (model pipes; real pipes poll with a timeout). Uses
 * what was opened with the pipe, so it works after the process dropped privileges.
 */
export function wakeReader(h: DeviceHandle): void {
  if (h.kind === 'model') SimulatedPipeDevice.interruptHandle(h);
}
