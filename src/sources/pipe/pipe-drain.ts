/**
 * The low-level pipe API: raw batches from the drain thread (an ArrayBuffer of stream bytes, the drops placed in
 * it, the counters), with no per-record objects. The collector spools these bytes as they are; openPipeSource()
 * frames them into records.
 *
 *   const drain = await openPipeDrain({ device: { path: '/dev/auditpipe' } });
 *   for await (const b of drain) { spool.write(b.bytes); ... }  // pulling the next batch releases this one
 *   await drain.close();
 */
import { Worker } from 'node:worker_threads';
import { BsmkitError } from '../../errors.js';
import type { DrainMessage, DrainWorkerData, PipeCounters } from './drain-worker.js';
import type { PipeDrop } from './drop-locator.js';
import { deviceLabel, openDevice, releaseHandle, wakeReader, type DeviceHandle, type DeviceSpec } from './open-device.js';
import { configurePipe, type PipeBaseline, type PipeSetupOptions } from './setup.js';
import type { DrainPriority, PriorityOutcome } from './thread-priority.js';

export type { PipeCounters } from './drain-worker.js';

export interface PipeDrainOptions extends PipeSetupOptions {
  /** Which pipe (default: /dev/auditpipe). */
  device?: DeviceSpec;
  /** Bytes asked per read() (default 1 MiB; at least MAXAUDITDATA, 32767). */
  readSize?: number;
  /** Size of the drain thread's buffers (default 4 MiB): a batch is at most this large. */
  batchBytes?: number;
  /**
   * Memory cap (default 256 MiB): bytes handed to this thread and not yet released. At the cap the drain thread
   * stops reading; the kernel queue fills and drops, and those drops are reported like any other.
   */
  maxBufferedBytes?: number;
  /**
   * Scheduling of the drain thread (default 'high': real-time where the OS allows, thread-priority.ts), so it is
   * not kept from the queue behind busy threads. A refusal is reported in `priority`, not thrown.
   */
  priority?: DrainPriority;
  signal?: AbortSignal;
}

/** One hand-over from the drain thread. */
export interface RawPipeBatch {
  /** The stream bytes: bytes = Buffer over buffer[0, length). */
  buffer: ArrayBuffer;
  bytes: Buffer;
  length: number;
  /** Byte offset of bytes[0] in the pipe stream (bytes read since the FLUSH). */
  offset: number;
  /** Drops whose position became known with this batch, in stream order; offset within [offset, offset+length]. */
  drops: PipeDrop[];
  counters: PipeCounters;
}

export interface PipeDrain extends AsyncIterable<RawPipeBatch> {
  readonly device: string;
  readonly baseline: PipeBaseline;
  /** Counters as of the last batch (or the end). */
  readonly counters: PipeCounters | undefined;
  /**
   * Drops placed after the last byte read, known once the drain ended (the pipe closed before their records came).
   * Their offset is the end of the stream.
   */
  readonly trailingDrops: PipeDrop[];
  /**
   * Once the drain ended: records still queued in the kernel when the pipe was closed, which the close discarded
   * (AUDITPIPE_GET_QLEN right before close(); no kernel counter counts them, kernel-audit-pipe.md §5). It includes
   * a head record read in part (the stream then ends inside it). A lower bound on a real device: records queued
   * between that reading and close() cannot be known. Null when the device could not be asked; undefined before
   * the end.
   */
  readonly discardedAtClose: number | null | undefined;
  /** Bytes the consumer holds (handed over, not released). */
  readonly bufferedBytes: number;
  /** The drain thread's scheduling: what was asked, what it got, and how (or why not). */
  readonly priority: PriorityOutcome;
  /** The next batch (null at the end); releases the previous one. The iterator uses it. */
  next(): Promise<RawPipeBatch | null>;
  /** Tells the drain thread the batch's memory is free (done automatically when the next batch is pulled). */
  release(batch: RawPipeBatch): void;
  /** Stops the drain thread, closes the pipe; iteration ends after the batches already handed over. */
  close(): Promise<void>;
}

const here = import.meta.url;
const isTs = here.endsWith('.ts');

/** Running from sources (tests), the thread registers the TypeScript loader before it loads the worker module. */
const TS_BOOT = `
  const { workerData } = await import('node:worker_threads');
  const { register } = await import(workerData.tsxApi);
  register();
  await import(workerData.module);
`;

function startWorker(data: DrainWorkerData): Worker {
  if (!isTs) return new Worker(new URL('./drain-worker.js', here), { workerData: data });
  const boot = new URL('data:text/javascript,' + encodeURIComponent(TS_BOOT));
  return new Worker(boot, {
    workerData: { ...data, tsxApi: import.meta.resolve('tsx/esm/api'), module: new URL('./drain-worker.ts', here).href },
  });
}

class Drain implements PipeDrain {
  readonly device: string;
  readonly baseline: PipeBaseline;
  counters: PipeCounters | undefined;
  trailingDrops: PipeDrop[] = [];
  discardedAtClose: number | null | undefined = undefined;
  priority: PriorityOutcome;
  private readonly worker: Worker;
  private readonly handle: DeviceHandle;
  private readonly ctl: Int32Array;
  private readonly released: BigInt64Array;
  private readonly queue: RawPipeBatch[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  private error: BsmkitError | null = null;
  private exited: Promise<void>;
  private held = 0;
  private releasedSet = new WeakSet<RawPipeBatch>();
  private last: RawPipeBatch | null = null;
  private iterating = false;

  constructor(handle: DeviceHandle, baseline: PipeBaseline, opts: PipeDrainOptions) {
    this.handle = handle;
    this.device = deviceLabel(handle);
    this.baseline = baseline;
    const requested = opts.priority ?? 'high';
    this.priority = { requested, applied: 'normal', detail: 'the drain thread did not start' };
    const control = new SharedArrayBuffer(16);
    this.ctl = new Int32Array(control, 0, 2);
    this.released = new BigInt64Array(control, 8, 1);
    const batchBytes = Math.max(opts.batchBytes ?? 4 << 20, 65536);
    const data: DrainWorkerData = {
      handle,
      baseline,
      readSize: Math.min(Math.max(opts.readSize ?? 1 << 20, 32767), batchBytes),
      batchBytes,
      maxBufferedBytes: Math.max(opts.maxBufferedBytes ?? 256 << 20, batchBytes * 2),
      control,
      priority: requested,
    };
    this.ready = new Promise((resolve) => (this.onReady = resolve));
    this.worker = startWorker(data);
    this.worker.on('message', (m: DrainMessage) => this.onMessage(m));
    this.worker.on('error', (err) => {
      this.error ??= new BsmkitError('BSMKIT_E_PIPE_READ', `audit pipe drain thread failed: ${err.message}`, { cause: err });
      this.finish();
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      releaseHandle(handle);
      this.finish();
      resolve();
    }));
  }

  get bufferedBytes(): number {
    return this.held;
  }

  /** Resolves once the thread has taken the pipe over (or failed to). */
  readonly ready: Promise<void>;
  private onReady: () => void = () => undefined;

  private onMessage(m: DrainMessage): void {
    if (m.type === 'ready') {
      this.priority = m.priority;
      return this.onReady();
    }
    this.counters = m.counters;
    if (m.type === 'batch') {
      this.held += m.buffer.byteLength;
      this.queue.push({ buffer: m.buffer, bytes: Buffer.from(m.buffer, 0, m.length), length: m.length, offset: m.offset, drops: m.drops, counters: m.counters });
    } else {
      this.trailingDrops = m.drops;
      this.discardedAtClose = m.discardedAtClose;
      if (m.error) this.error ??= new BsmkitError(m.error.code, `audit pipe ${this.device}: ${m.error.message}`);
      this.finish();
    }
    this.wake();
  }

  private finish(): void {
    this.onReady();
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  release(batch: RawPipeBatch): void {
    if (this.releasedSet.has(batch)) return;
    this.releasedSet.add(batch);
    this.held -= batch.buffer.byteLength;
    Atomics.add(this.released, 0, BigInt(batch.buffer.byteLength));
    Atomics.notify(this.ctl, 0);
  }

  async next(): Promise<RawPipeBatch | null> {
    if (this.last) this.release(this.last);
    this.last = null;
    for (;;) {
      const b = this.queue.shift();
      if (b) {
        this.last = b;
        return b;
      }
      if (this.ended) {
        if (this.error) {
          const e = this.error;
          this.error = null;
          throw e;
        }
        return null;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<RawPipeBatch> {
    if (this.iterating) throw new BsmkitError('BSMKIT_E_USAGE', 'a pipe drain can be iterated once');
    this.iterating = true;
    return {
      next: async () => {
        const b = await this.next();
        return b ? { value: b, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private closing: Promise<void> | null = null;

  close(): Promise<void> {
    this.closing ??= (async () => {
      Atomics.store(this.ctl, 0, 1);
      Atomics.notify(this.ctl, 0);
      // a model pipe's read blocks in the model: interrupt it until the thread is gone
      let done = false;
      void this.exited.then(() => (done = true));
      const deadline = Date.now() + 5000;
      while (!done && Date.now() < deadline) {
        wakeReader(this.handle);
        await Promise.race([this.exited, new Promise((r) => setTimeout(r, 20))]);
      }
      if (!done) await this.worker.terminate();
      await this.exited;
    })();
    return this.closing;
  }
}

/**
 * Opens the pipe, sets it up (qlimit, preselection, FLUSH; setup.ts) on this thread, then starts the drain thread.
 * Setup errors (no device, no privilege, a bad class name) are thrown here.
 */
export async function openPipeDrain(opts: PipeDrainOptions = {}): Promise<PipeDrain> {
  if (opts.signal?.aborted) throw new BsmkitError('BSMKIT_E_ABORTED', 'audit pipe: aborted before it was opened');
  const dev = openDevice(opts.device);
  let baseline: PipeBaseline;
  try {
    baseline = configurePipe(dev, opts);
  } catch (err) {
    dev.close();
    throw err;
  }
  const drain = new Drain(dev.handle(), baseline, opts);
  opts.signal?.addEventListener('abort', () => void drain.close(), { once: true });
  await drain.ready;
  return drain;
}
