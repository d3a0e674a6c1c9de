/**
 * The production read path of the audit pipe on Linux: a FIFO read through KoffiPipeDevice (real open(2), read(2)
 * on a non-blocking descriptor, poll(2)) stands in for /dev/auditpipe, as macOS and FreeBSD read it (§7: FIONBIO
 * then poll). What a FIFO cannot do is answer the audit pipe's ioctls: the counters (GET_DROPS, GET_INSERTS) come
 * from a writer thread that plays the kernel's part (§10): for each record it either counts an insert and then
 * writes the record (the kernel counts the insert when it queues it, before any reader can see it) or counts a
 * drop and writes nothing. FIONBIO is passed on as Linux's own FIONBIO on the FIFO, so EAGAIN and poll are real.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AUDITPIPE, DeviceError, KoffiPipeDevice } from '../../src/sources/pipe/index.js';
import type { WorkerDevice } from '../../src/sources/pipe/open-device.js';

const LINUX_FIONBIO = 0x5421;
/** Int32 slots of the shared counters. */
const INSERTS = 0;
const DROPS = 1;
const DONE = 2;

export class FifoPipeDevice implements WorkerDevice {
  readonly counters: Int32Array;
  /** read(2) calls that returned EAGAIN, and poll(2) calls. */
  eagain = 0;
  polls = 0;
  private constructor(
    private readonly fifo: KoffiPipeDevice,
    shared: SharedArrayBuffer,
  ) {
    this.counters = new Int32Array(shared);
  }

  /** Makes the FIFO and opens it for reading (the writer holds it open O_RDWR first, so neither side blocks). */
  static create(dir: string): { path: string; shared: SharedArrayBuffer; open(): FifoPipeDevice } {
    const path = join(dir, 'auditpipe.fifo');
    execFileSync('mkfifo', ['-m', '600', path]);
    const shared = new SharedArrayBuffer(16);
    return { path, shared, open: () => new FifoPipeDevice(KoffiPipeDevice.open(path, { libc: 'libc.so.6' }), shared) };
  }

  readSync(buf: Buffer, offset: number, length: number): number {
    try {
      return this.fifo.readSync(buf, offset, length);
    } catch (err) {
      if (err instanceof DeviceError && err.code === 'EAGAIN') this.eagain++;
      throw err;
    }
  }

  pollSync(timeoutMs: number): boolean {
    this.polls++;
    return this.fifo.pollSync(timeoutMs);
  }

  ioctlSync(request: number, arg: Buffer): void {
    const r = request >>> 0;
    if (r === AUDITPIPE.FIONBIO >>> 0) return this.fifo.ioctlSync(LINUX_FIONBIO, arg);
    if (r === AUDITPIPE.GET_DROPS >>> 0 || r === AUDITPIPE.GET_INSERTS >>> 0) {
      // the kernels fill the low 32 bits of the u64 (§10)
      arg.fill(0, 0, 8);
      arg.writeUInt32LE(Atomics.load(this.counters, r === AUDITPIPE.GET_DROPS >>> 0 ? DROPS : INSERTS) >>> 0, 0);
      return;
    }
    if (r === AUDITPIPE.GET_READS >>> 0) {
      arg.fill(0, 0, 8); // statistics only
      return;
    }
    throw new DeviceError('ENOTTY', `ioctl 0x${r.toString(16)} on the FIFO stand-in`);
  }

  close(): void {
    this.fifo.close();
  }
}

/** What the writer does with each record, in order. `pauseMs` after a record: the writer sleeps (the queue idles). */
export interface WritePlan {
  records: Buffer[];
  dropped: boolean[];
  pauseAfter: Map<number, number>;
}

const WRITER = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { openSync, writeSync, closeSync, constants: C } = require('node:fs');
  const c = new Int32Array(workerData.shared);
  const fd = openSync(workerData.path, C.O_RDWR);
  parentPort.postMessage('open');
  const go = new Int32Array(workerData.go);
  Atomics.wait(go, 0, 0);
  const data = Buffer.from(workerData.data);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let at = 0;
  for (let i = 0; i < workerData.lens.length; i++) {
    const len = workerData.lens[i];
    if (workerData.dropped[i]) Atomics.add(c, ${DROPS}, 1);
    else {
      Atomics.add(c, ${INSERTS}, 1);
      let off = 0;
      while (off < len) off += writeSync(fd, data, at + off, len - off);
    }
    at += len;
    const p = workerData.pauses[i];
    if (p > 0) Atomics.wait(sleeper, 0, 0, p);
  }
  Atomics.store(c, ${DONE}, 1);
  parentPort.postMessage('done');
  // the write end stays open until the reader is done (a real pipe never reports end of file)
  Atomics.wait(go, 0, 1);
  closeSync(fd);
`;

/** Starts the writer thread; it opens the FIFO, then waits for start(). */
export async function startWriter(path: string, shared: SharedArrayBuffer, plan: WritePlan): Promise<{ start(): void; done: Promise<void>; finish(): Promise<void> }> {
  const go = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(WRITER, {
    eval: true,
    workerData: {
      path,
      shared,
      go: go.buffer,
      data: Buffer.concat(plan.records),
      lens: plan.records.map((r) => r.length),
      dropped: plan.dropped,
      pauses: plan.records.map((_, i) => plan.pauseAfter.get(i) ?? 0),
    },
  });
  let doneResolve!: () => void;
  const done = new Promise<void>((r) => (doneResolve = r));
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m) => (m === 'open' ? resolve() : m === 'done' ? doneResolve() : undefined));
    w.once('error', reject);
  });
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  return {
    start: () => {
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
    },
    done,
    finish: async () => {
      Atomics.store(go, 0, 2);
      Atomics.notify(go, 0);
      await exited;
    },
  };
}

export function writerDone(dev: FifoPipeDevice): boolean {
  return Atomics.load(dev.counters, DONE) === 1;
}
