/**
 * Starts and stops the collector's pipe drain thread (pipe-drain-worker.ts) and relays its messages. The pipe is
 * opened and set up here, on the calling thread, in the order of kernel-audit-pipe.md §19.3 (sources/pipe
 * setup.ts: qlimit, FLUSH, counter baseline), so it is open before the caller drops privileges; the thread then
 * owns it.
 */
import { Worker } from 'node:worker_threads';
import { BsmkitError } from '../errors.js';
import { AUDITPIPE, ioctlGetU32 } from '../sources/pipe/device.js';
import { deviceLabel, openDevice, releaseHandle, wakeReader, type DeviceHandle, type HandOffDevice } from '../sources/pipe/open-device.js';
import { configurePipe } from '../sources/pipe/setup.js';
import type { DrainPriority } from '../sources/pipe/thread-priority.js';
import { SHARED, SHARED_SLOTS, type DrainInit, type DrainMessage, type PipeDeviceSpec } from './pipe-drain-protocol.js';

export interface PipeDrainOptions {
  device: PipeDeviceSpec;
  qlimit?: number | 'max';
  /** Bytes asked per read (default 1 MiB). */
  readBytes?: number;
  maxOutstandingBytes?: number;
  /** The drain thread's scheduling (default 'high', sources/pipe/thread-priority.ts). */
  priority?: DrainPriority;
  onMessage(m: DrainMessage): void;
}

const isTs = import.meta.url.endsWith('.ts');

function workerUrl(): URL {
  const target = new URL(isTs ? './pipe-drain-worker.ts' : './pipe-drain-worker.js', import.meta.url);
  if (!isTs) return target;
  // Running from sources: the worker needs the TypeScript loader registered in its own thread.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(target.href)});`;
  return new URL('data:text/javascript,' + encodeURIComponent(code));
}

type OpenMessage = Extract<DrainMessage, { t: 'open' }>;

const SETUP = 'audit pipe setup: ';

/**
 * A failed open or setup as one BsmkitError whose message starts with "audit pipe setup: " once. An error that
 * already says what to do keeps its own BSMKIT_ code (BSMKIT_E_AUDITPIPE_ACCESS, BSMKIT_E_UNSUPPORTED_PLATFORM,
 * BSMKIT_E_PIPE_SETUP, ...); a bare device error (errno code) becomes BSMKIT_E_PIPE.
 */
export function setupError(err: unknown): BsmkitError {
  const e = err as { message?: string; code?: unknown };
  const text = e?.message ?? String(err);
  const message = text.startsWith(SETUP) ? text : SETUP + text;
  const code = typeof e?.code === 'string' && e.code.startsWith('BSMKIT_') ? e.code : 'BSMKIT_E_PIPE';
  return new BsmkitError(code, message, { cause: err });
}

/** How often the main thread looks whether a blocked model read should be interrupted for a mark. */
const WATCH_MS = 20;
/** A mark at least this often while the pipe is idle (as the worker does for pipes it can poll). */
const MARK_EVERY_MS = 100;

export class PipeDrain {
  readonly shared = new Int32Array(new SharedArrayBuffer(SHARED_SLOTS * 4));
  private readonly worker: Worker | null = null;
  private readonly handle: DeviceHandle | null = null;
  private readonly exited: Promise<void>;
  private readonly timeBase = Date.now();
  private watch: NodeJS.Timeout | null = null;
  opened: Promise<OpenMessage>;

  constructor(opts: PipeDrainOptions) {
    let dev: HandOffDevice | undefined;
    let open: DrainInit['open'];
    let init: DrainInit;
    try {
      dev = openDevice(opts.device.kind === 'simulated' ? { endpoint: opts.device.endpoint } : { path: opts.device.path });
      const qlimitMax = ioctlGetU32(dev, AUDITPIPE.GET_QLIMIT_MAX);
      const baseline = configurePipe(dev, { qlimit: opts.qlimit ?? 'max' });
      this.handle = dev.handle();
      open = { t: 'open', qlimit: baseline.qlimit, qlimitMax, haveCounters: true, name: deviceLabel(this.handle) };
      init = {
        handle: this.handle,
        baseline,
        shared: this.shared.buffer as SharedArrayBuffer,
        timeBase: this.timeBase,
        readBytes: opts.readBytes ?? 1 << 20,
        maxOutstandingBytes: opts.maxOutstandingBytes ?? 64 << 20,
        drainOnStop: true,
        priority: opts.priority ?? 'high',
        open,
      };
    } catch (err) {
      try {
        dev?.close();
      } catch {
        /* failed anyway */
      }
      // Reported once, through `opened` (the caller awaits it before anything else), not as an 'error' message
      // too; and with one "audit pipe setup:" prefix (setup.ts's errors carry it already).
      this.opened = Promise.reject(setupError(err));
      this.opened.catch(() => undefined);
      this.exited = Promise.resolve();
      return;
    }
    // resolved once the thread reads the pipe (records committed before are in the kernel queue)
    let resolveOpen!: (m: OpenMessage) => void;
    let rejectOpen!: (e: Error) => void;
    this.opened = new Promise((res, rej) => {
      resolveOpen = res;
      rejectOpen = rej;
    });
    this.opened.catch(() => undefined);
    const worker = new Worker(workerUrl(), { workerData: init });
    this.worker = worker;
    worker.on('message', (m: DrainMessage) => {
      if (m.t === 'open') resolveOpen(m);
      if (m.t === 'error') rejectOpen(new BsmkitError('BSMKIT_E_PIPE', m.message));
      opts.onMessage(m);
    });
    worker.on('error', (err) => {
      rejectOpen(err);
      opts.onMessage({ t: 'error', message: `pipe drain thread: ${err.message}`, code: 'EIO' });
    });
    this.exited = new Promise((r) =>
      worker.once('exit', () => {
        rejectOpen(new BsmkitError('BSMKIT_E_PIPE', 'the pipe drain thread ended'));
        if (this.watch) clearInterval(this.watch);
        releaseHandle(this.handle!);
        r();
      }),
    );
    if (this.handle!.kind === 'model') {
      let lastEpoch = -1;
      let lastAt = 0;
      this.watch = setInterval(() => {
        const epoch = Atomics.load(this.shared, SHARED.EPOCH);
        const now = Date.now();
        if (epoch === lastEpoch && now - lastAt < MARK_EVERY_MS) return;
        if (Atomics.compareExchange(this.shared, SHARED.BLOCKED, 1, 2) !== 1) return;
        // epoch and time first: the interrupt's EINTR proves the queue was empty after them
        Atomics.store(this.shared, SHARED.INTR_EPOCH, epoch);
        Atomics.store(this.shared, SHARED.INTR_AT, now - this.timeBase);
        lastEpoch = epoch;
        lastAt = now;
        wakeReader(this.handle!);
      }, WATCH_MS);
      this.watch.unref();
    }
  }

  /** The main thread has processed a batch of `kb` KiB. */
  processed(kb: number): void {
    Atomics.sub(this.shared, SHARED.OUTSTANDING_KB, kb);
    // a drain paused at its cap resumes at once
    Atomics.notify(this.shared, SHARED.OUTSTANDING_KB);
  }

  /** A new trail read happened: returns the epoch to tag its records with. */
  nextEpoch(): number {
    return Atomics.add(this.shared, SHARED.EPOCH, 1) + 1;
  }

  /** Asks the drain to read what is queued and stop; resolves when the thread has exited. */
  async stop(): Promise<void> {
    if (!this.worker) return;
    Atomics.store(this.shared, SHARED.STOP, 1);
    Atomics.notify(this.shared, SHARED.STOP);
    Atomics.notify(this.shared, SHARED.OUTSTANDING_KB);
    let done = false;
    void this.exited.then(() => (done = true));
    const deadline = Date.now() + 5000;
    // a model pipe's read blocks in the model: interrupt it until the thread is gone
    while (!done && Date.now() < deadline) {
      if (this.handle?.kind === 'model') wakeReader(this.handle);
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 20))]);
    }
    if (!done) await this.worker.terminate();
    await this.exited;
  }
}
