/** Starts and stops the pipe drain thread (pipe-drain-worker.ts) and relays its messages. */
import { Worker } from 'node:worker_threads';
import { BsmkitError } from '../errors.js';
import { SHARED, type DrainInit, type DrainMessage, type PipeDeviceSpec } from './pipe-drain-protocol.js';

export interface PipeDrainOptions {
  device: PipeDeviceSpec;
  qlimit?: number | 'max';
  readBytes?: number;
  maxOutstandingBytes?: number;
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

export class PipeDrain {
  readonly shared = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  opened: Promise<Extract<DrainMessage, { t: 'open' }>>;

  constructor(opts: PipeDrainOptions) {
    const init: DrainInit = {
      device: opts.device,
      qlimit: opts.qlimit ?? 'max',
      shared: this.shared.buffer as SharedArrayBuffer,
      readBytes: opts.readBytes ?? 4 << 20,
      maxOutstandingBytes: opts.maxOutstandingBytes ?? 64 << 20,
      drainOnStop: true,
    };
    this.worker = new Worker(workerUrl(), { workerData: init });
    let resolveOpen!: (m: Extract<DrainMessage, { t: 'open' }>) => void;
    let rejectOpen!: (e: Error) => void;
    this.opened = new Promise((res, rej) => {
      resolveOpen = res;
      rejectOpen = rej;
    });
    this.opened.catch(() => undefined);
    this.worker.on('message', (m: DrainMessage) => {
      if (m.t === 'open') resolveOpen(m);
      if (m.t === 'error') rejectOpen(new BsmkitError('BSMKIT_E_PIPE', m.message));
      opts.onMessage(m);
    });
    this.worker.on('error', (err) => {
      rejectOpen(err);
      opts.onMessage({ t: 'error', message: `pipe drain thread: ${err.message}`, code: 'EIO' });
    });
    this.exited = new Promise((r) => this.worker.once('exit', () => r()));
  }

  /** The main thread has processed a batch of `kb` KiB. */
  processed(kb: number): void {
    Atomics.sub(this.shared, SHARED.OUTSTANDING_KB, kb);
  }

  /** A new trail read happened: returns the epoch to tag its records with. */
  nextEpoch(): number {
    return Atomics.add(this.shared, SHARED.EPOCH, 1) + 1;
  }

  /** Asks the drain to read what is queued and stop; resolves when the thread has exited. */
  async stop(): Promise<void> {
    Atomics.store(this.shared, SHARED.STOP, 1);
    Atomics.notify(this.shared, SHARED.STOP);
    const t = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(t);
  }
}
