/**
 * An audit pipe of the kernel model (testing/kernel-model), behind the same synchronous AuditPipeDevice interface
 * as the real /dev/auditpipe. Each open() makes a FIFO pair and a request/response channel to the model process;
 * every call is one request and one response (protocol.ts), so the model alone holds the pipe's queue.
 * The calls block: use them from a dedicated worker thread (or where the wait is known to be bounded).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants as C, openSync, readSync, readvSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ENDPOINT, errnoName, OP, REQUEST_HEADER, RESPONSE_HEADER } from '../../testing/kernel-model/protocol.js';
import { AUDITPIPE, DeviceError, IOC_IN, IOC_OUT, ioctlArgSize, ioctlName, type AuditPipeDevice } from './device.js';

/** A simulated pipe as it crosses to a worker thread (structured-clone safe). */
export interface SimulatedDeviceHandle {
  kind: 'model';
  name: string;
  endpoint: string;
  reqFd: number;
  respFd: number;
  /**
   * The model's control FIFO, opened for writing with the pipe: how another thread interrupts this pipe's blocked
   * read (interruptHandle). Opened while the opener still has the rights the 0600 FIFO needs, so a process that
   * drops privileges afterwards can still wake its own reader, as it could signal its own thread on a real kernel.
   * −1 when it could not be kept.
   */
  ctlFd: number;
}

export interface SimulatedOpenOptions {
  /** How long to wait for the model to accept the open (default 10 s); then ENXIO. */
  timeoutMs?: number;
}

let counter = 0;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class SimulatedPipeDevice implements AuditPipeDevice {
  private reqFd: number;
  private respFd: number;
  private closed = false;
  private readonly reqBuf = Buffer.alloc(REQUEST_HEADER + 8);
  private readonly respHdr = Buffer.alloc(RESPONSE_HEADER);
  private readonly multiReq = Buffer.alloc(3 * (REQUEST_HEADER + 4));
  /** The FIFO pair's name (also what the model's ground truth calls this pipe's endpoint). */
  readonly name: string;
  /** The model endpoint directory this pipe belongs to. */
  readonly endpoint: string;
  /** Set once handle() gave the descriptors to another thread: this object no longer owns them. */
  private handedOff = false;
  private ownsFds = true;

  /** The control FIFO kept open for interrupts (see SimulatedDeviceHandle.ctlFd); −1: none. */
  private ctlFd: number;

  private constructor(name: string, endpoint: string, reqFd: number, respFd: number, ctlFd = -1) {
    this.name = name;
    this.endpoint = endpoint;
    this.reqFd = reqFd;
    this.respFd = respFd;
    this.ctlFd = ctlFd;
  }

  /**
   * Gives this open pipe to another thread of the process (file descriptors are process-wide): returns what
   * fromHandle() needs there. This object becomes inert; the new owner closes the pipe.
   */
  handle(): SimulatedDeviceHandle {
    if (this.closed) throw new DeviceError('EBADF', 'handle');
    this.handedOff = true;
    this.closed = true;
    return { kind: 'model', name: this.name, endpoint: this.endpoint, reqFd: this.reqFd, respFd: this.respFd, ctlFd: this.ctlFd };
  }

  /**
   * Takes over a pipe handed over by handle() (on a worker thread). close() then ends the pipe but leaves the
   * descriptors to the thread that opened them (Node warns when another thread closes them): closeHandle() there.
   */
  static fromHandle(h: SimulatedDeviceHandle): SimulatedPipeDevice {
    const dev = new SimulatedPipeDevice(h.name, h.endpoint, h.reqFd, h.respFd);
    dev.ownsFds = false;
    return dev;
  }

  /** Closes the descriptors of a handed-over pipe, on the thread that opened it, once its user is done. */
  static closeHandle(h: SimulatedDeviceHandle): void {
    for (const fd of [h.reqFd, h.respFd, h.ctlFd]) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }

  /**
   * Interrupts the blocked read of the pipe `name` of the model at `endpoint` (the read fails with EINTR, like a
   * signal): how another thread wakes a reader it wants to stop. False when the model is not there any more.
   */
  static interrupt(endpoint: string, name: string): boolean {
    return SimulatedPipeDevice.sendInterrupt(null, endpoint, name);
  }

  /**
   * Interrupts the blocked read of a handed-over pipe through the control FIFO descriptor opened with it: works
   * after the process dropped the privileges the control FIFO (0600, owned by the model's user) needs, as a signal
   * to one's own thread does on a real kernel (kernel-audit-pipe.md §7). Falls back to opening the FIFO.
   */
  static interruptHandle(h: SimulatedDeviceHandle): boolean {
    return SimulatedPipeDevice.sendInterrupt(h.ctlFd >= 0 ? h.ctlFd : null, h.endpoint, h.name);
  }

  private static sendInterrupt(kept: number | null, endpoint: string, name: string): boolean {
    if (kept !== null) {
      try {
        writeSync(kept, `intr ${name}\n`);
        return true;
      } catch {
        return false;
      }
    }
    let ctl: number;
    try {
      ctl = openSync(join(endpoint, ENDPOINT.controlFifo), C.O_WRONLY | C.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      writeSync(ctl, `intr ${name}\n`);
      return true;
    } catch {
      return false;
    } finally {
      closeSync(ctl);
    }
  }

  /**
   * Opens a new independent pipe of the model serving `endpoint` (the directory `bsmkit simulate` prints):
   * TRAIL mode, qlimit 128, empty queue, counters as configured. Throws DeviceError EBUSY when the model's XNU
   * personality already has 32 pipes open, ENXIO when no model is running there.
   */
  static open(endpoint: string, opts: SimulatedOpenOptions = {}): SimulatedPipeDevice {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const name = `${process.pid}-${threadId}-${++counter}-${randomBytes(4).toString('hex')}`;
    const base = join(endpoint, ENDPOINT.pipesDir, name);
    const reqPath = base + '.req';
    const respPath = base + '.resp';
    try {
      execFileSync('mkfifo', ['-m', '600', reqPath, respPath], { stdio: 'ignore' });
    } catch (err) {
      throw new DeviceError('ENXIO', `open ${endpoint}: cannot create the pipe's FIFOs`, { cause: err });
    }
    const fds: number[] = [];
    const cleanup = (): void => {
      for (const fd of fds) {
        try {
          closeSync(fd);
        } catch {
          /* already closed */
        }
      }
      for (const p of [reqPath, respPath]) {
        try {
          unlinkSync(p);
        } catch {
          /* gone */
        }
      }
    };
    try {
      // A non-blocking reader lets the model open the response FIFO for writing without blocking; O_RDWR on the
      // request FIFO keeps the model from seeing EOF before we are done (and gives it EOF when we go away).
      const probe = openSync(respPath, C.O_RDONLY | C.O_NONBLOCK);
      fds.push(probe);
      const reqFd = openSync(reqPath, C.O_RDWR);
      fds.push(reqFd);
      let ctl: number;
      try {
        ctl = openSync(join(endpoint, ENDPOINT.controlFifo), C.O_WRONLY | C.O_NONBLOCK);
      } catch (err) {
        throw new DeviceError('ENXIO', `open ${endpoint}: no kernel model is serving this endpoint`, { cause: err });
      }
      // kept open (for interrupts, see SimulatedDeviceHandle.ctlFd) until the pipe is closed
      fds.push(ctl);
      writeSync(ctl, `open ${name}\n`);
      // Wait for the model's writer: a non-blocking read says EAGAIN once a writer exists, 0 (EOF) before.
      const deadline = Date.now() + timeoutMs;
      const one = Buffer.alloc(1);
      for (;;) {
        try {
          if (readSync(probe, one, 0, 1, null) > 0) throw new DeviceError('EIO', `open ${endpoint}: unexpected data`);
        } catch (err) {
          if (errCode(err) === 'EAGAIN') break;
          throw err;
        }
        if (Date.now() > deadline) throw new DeviceError('ENXIO', `open ${endpoint}: the kernel model did not answer`);
        sleepMs(1);
      }
      const respFd = openSync(respPath, C.O_RDONLY);
      fds.push(respFd);
      closeSync(probe);
      fds.shift();
      unlinkSync(reqPath);
      unlinkSync(respPath);
      const dev = new SimulatedPipeDevice(name, endpoint, reqFd, respFd, ctl);
      try {
        dev.call(OP.HELLO, 0, null, 'open');
      } catch (err) {
        dev.closeFds();
        fds.length = 0; // closed: cleanup() must not close their (possibly reused) numbers again
        throw err;
      }
      return dev;
    } catch (err) {
      cleanup();
      throw err;
    }
  }

  readSync(buf: Buffer, offset: number, length: number): number {
    if (offset < 0 || length < 0 || offset + length > buf.length) throw new DeviceError('EFAULT', 'read');
    if (this.inflight >= 0 || this.stash.length > 0) {
      // an exchange sent ahead comes first (the model answers in order)
      this.settle();
      return this.fromStash(buf, offset, length, Buffer.alloc(16));
    }
    const n = this.call(OP.READ, length >>> 0, null, 'read');
    this.readFully(buf, offset, n, 'read');
    return n;
  }

  /**
   * read(), then GET_DROPS and GET_INSERTS, sent as one write: the model answers the three in order, the counters
   * right after the read (nothing is committed in between), in one write. `counters` receives drops (u64le) then
   * inserts (u64le). The answers are taken in two read(2) calls. The read's errors are thrown after the counter
   * answers have been consumed.
   *
   * With readAhead() on, the next exchange (same length) is sent before this one's answers are taken, so a read
   * is always waiting in the model: it is served right after the next commit, however long the caller takes with
   * this one (a reader thread that keeps one read(2) outstanding). Each answer is still a read and the counters
   * right after it.
   */
  readWithCountersSync(buf: Buffer, offset: number, length: number, counters: Buffer): number {
    if (offset < 0 || length < 0 || offset + length > buf.length || counters.length < 16) throw new DeviceError('EFAULT', 'read');
    if (this.closed) throw new DeviceError('EBADF', 'read');
    if (this.stash.length > 0) return this.fromStash(buf, offset, length, counters);
    if (this.inflight < 0) this.sendExchange(length);
    if (this.inflight > length) {
      // the caller asks for less than the exchange already sent: the rest is kept for the next call
      this.settle();
      return this.fromStash(buf, offset, length, counters);
    }
    const want = this.inflight;
    this.inflight = -1;
    if (this.ahead) this.sendExchange(length);
    const r = this.takeExchange(buf.subarray(offset, offset + want), counters);
    if (r.failure) throw r.failure;
    return r.n;
  }

  /** Keep one exchange outstanding from now on (see readWithCountersSync); off: no new one is sent ahead. */
  readAhead(on = true): void {
    this.ahead = on;
  }

  /** True once readAhead() is on: answers come from reads sent one call earlier. */
  get readsAhead(): boolean {
    return this.ahead;
  }

  private ahead = false;
  /** Length of the exchange sent and not yet taken (−1: none). */
  private inflight = -1;
  /** Exchanges taken before the caller asked for them (another request had to pass), or the rest of a read. */
  private readonly stash: Array<{ data: Buffer; counters: Buffer; failure: DeviceError | null }> = [];

  private sendExchange(length: number): void {
    const r = this.multiReq;
    r.writeUInt32LE(4, 0);
    r[4] = OP.READ;
    r.writeUInt32LE(length >>> 0, 5);
    for (const [at, req] of [[9, AUDITPIPE.GET_DROPS], [18, AUDITPIPE.GET_INSERTS]] as const) {
      r.writeUInt32LE(4, at);
      r[at + 4] = OP.IOCTL;
      r.writeUInt32LE(req >>> 0, at + 5);
    }
    try {
      this.writeFully(r);
    } catch (err) {
      throw new DeviceError('ENXIO', 'read', { cause: err });
    }
    this.inflight = length;
  }

  /** Takes the outstanding exchange's answers into the stash (before another request, or a shorter read). */
  private settle(): void {
    const length = this.inflight;
    if (length < 0) return;
    this.inflight = -1;
    const data = Buffer.allocUnsafe(length);
    const counters = Buffer.alloc(16);
    const r = this.takeExchange(data, counters);
    this.stash.push({ data: data.subarray(0, r.n), counters, failure: r.failure });
  }

  private fromStash(buf: Buffer, offset: number, length: number, counters: Buffer): number {
    const st = this.stash[0]!;
    st.counters.copy(counters, 0, 0, 16);
    if (st.failure) {
      this.stash.shift();
      throw st.failure;
    }
    const n = Math.min(length, st.data.length);
    st.data.copy(buf, offset, 0, n);
    if (n === st.data.length) this.stash.shift();
    else st.data = st.data.subarray(n);
    return n;
  }

  /**
   * The answers of one exchange: the read's data into `data` (its length is the length asked), the counters. Read
   * exactly (the header, then the data and the two counter answers in one readv): an exchange sent ahead may be
   * answered behind it in the same FIFO.
   */
  private takeExchange(data: Buffer, counters: Buffer): { n: number; failure: DeviceError | null } {
    const hdr = this.respHdr;
    const tail = this.tailBuf;
    let got = 0;
    while (got < RESPONSE_HEADER) got += this.readv([hdr.subarray(got)], 'read');
    const readErr = hdr[4]! !== 0 ? errnoName(hdr[4]!) : null;
    const len = hdr.readUInt32LE(0);
    if (readErr && len !== 0) throw new DeviceError('EIO', 'read: unexpected payload with an error');
    if (len > data.length) throw new DeviceError('EIO', 'read: more data than asked for');
    const n = readErr ? 0 : len;
    // [n bytes][ioctl header][8][ioctl header][8]: the pipe exists (the read was answered), so both counters are
    got = 0;
    const total = n + tail.length;
    while (got < total) {
      got += got < n ? this.readv([data.subarray(got, n), tail], 'read') : this.readv([tail.subarray(got - n)], 'ioctl');
    }
    for (let i = 0; i < 2; i++) {
      const at = i * (RESPONSE_HEADER + 8);
      if (tail[at + 4] !== 0 || tail.readUInt32LE(at) !== 8) throw new DeviceError('EIO', 'ioctl: unexpected counter answer');
      tail.copy(counters, i * 8, at + RESPONSE_HEADER, at + RESPONSE_HEADER + 8);
    }
    return { n, failure: readErr ? new DeviceError(readErr, 'read') : null };
  }

  private readonly tailBuf = Buffer.alloc(2 * (RESPONSE_HEADER + 8));

  /** One readv(2) on the response FIFO (blocks until something is there); 0 bytes means the model went away. */
  private readv(parts: Buffer[], what: string): number {
    let k: number;
    try {
      k = readvSync(this.respFd, parts);
    } catch (err) {
      throw new DeviceError('EIO', what, { cause: err });
    }
    if (k === 0) {
      this.closeFds();
      throw new DeviceError('ENXIO', `${what}: the kernel model went away`);
    }
    return k;
  }

  /** Reads one response header: the payload length, or the errno (its payload consumed). */
  private response(what: string): { len: number; errno?: string } {
    this.readFully(this.respHdr, 0, RESPONSE_HEADER, what);
    const len = this.respHdr.readUInt32LE(0);
    const status = this.respHdr[4]!;
    if (status !== 0) {
      if (len > 0) this.readFully(Buffer.alloc(len), 0, len, what);
      return { len: 0, errno: errnoName(status) };
    }
    return { len };
  }

  ioctlSync(request: number, arg: Buffer): void {
    request >>>= 0;
    // an exchange sent ahead is answered first: take it (it is handed out by the next read)
    if (!this.closed) this.settle();
    const size = ioctlArgSize(request);
    const what = `ioctl ${ioctlName(request)}`;
    if ((request & (IOC_IN | IOC_OUT)) !== 0 && arg.length < size) throw new DeviceError('EFAULT', what);
    const inBytes = (request & IOC_IN) !== 0 ? arg.subarray(0, size) : null;
    const n = this.call(OP.IOCTL, request, inBytes, what);
    if (n > 0) {
      const tmp = Buffer.alloc(n);
      this.readFully(tmp, 0, n, what);
      // The kernel copies the whole (zeroed, then filled) argument out.
      arg.fill(0, 0, Math.min(size, arg.length));
      tmp.copy(arg, 0, 0, Math.min(n, arg.length));
    }
  }

  /**
   * GET_DROPS, GET_INSERTS and GET_QLEN, then close, sent as one write: the model answers them in order with
   * nothing committed in between, so GET_QLEN is exactly what the close discards (a real kernel has a window
   * there). `counters` receives drops (u64le) then inserts (u64le); returns the queue length. Throws a DeviceError
   * when the counters cannot be read (the pipe is closed all the same).
   */
  closeWithCountersSync(counters: Buffer): number {
    if (counters.length < 16) throw new DeviceError('EFAULT', 'ioctl');
    if (this.closed) throw new DeviceError('EBADF', 'close');
    try {
      this.settle();
      this.stash.length = 0;
      const reqs = [AUDITPIPE.GET_DROPS, AUDITPIPE.GET_INSERTS, AUDITPIPE.GET_QLEN];
      const r = Buffer.alloc(reqs.length * (REQUEST_HEADER + 4) + REQUEST_HEADER);
      reqs.forEach((req, i) => {
        const at = i * (REQUEST_HEADER + 4);
        r.writeUInt32LE(4, at);
        r[at + 4] = OP.IOCTL;
        r.writeUInt32LE(req >>> 0, at + 5);
      });
      r.writeUInt32LE(0, r.length - REQUEST_HEADER);
      r[r.length - REQUEST_HEADER + 4] = OP.CLOSE;
      try {
        this.writeFully(r);
      } catch (err) {
        throw new DeviceError('ENXIO', 'close', { cause: err });
      }
      const out: Buffer[] = [];
      for (const req of reqs) {
        const what = `ioctl ${ioctlName(req)}`;
        const { len, errno } = this.response(what);
        if (errno) throw new DeviceError(errno, what);
        const b = Buffer.alloc(len);
        this.readFully(b, 0, len, what);
        out.push(b);
      }
      this.response('close');
      out[0]!.copy(counters, 0, 0, 8);
      out[1]!.copy(counters, 8, 0, 8);
      return out[2]!.readUInt32LE(0);
    } finally {
      if (!this.closed) this.closeFds();
    }
  }

  close(): void {
    if (this.closed || this.handedOff) return;
    try {
      this.settle();
    } catch {
      /* the model may already be gone */
    }
    try {
      this.call(OP.CLOSE, 0, null, 'close');
    } catch {
      /* the model may already be gone; closing our ends is what matters */
    }
    this.closeFds();
  }

  private closeFds(): void {
    this.closed = true;
    if (!this.ownsFds) {
      this.reqFd = this.respFd = this.ctlFd = -1;
      return;
    }
    for (const fd of [this.reqFd, this.respFd, this.ctlFd]) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    this.reqFd = this.respFd = this.ctlFd = -1;
  }

  /** Sends one request; returns the payload length of an ok response (payload still unread), throws on an errno. */
  private call(op: number, word: number, extra: Buffer | null, what: string): number {
    if (this.closed) throw new DeviceError('EBADF', what);
    const r = this.reqBuf;
    const hasWord = op === OP.READ || op === OP.IOCTL;
    const bodyLen = (hasWord ? 4 : 0) + (extra ? extra.length : 0);
    r.writeUInt32LE(bodyLen, 0);
    r[4] = op;
    if (hasWord) r.writeUInt32LE(word >>> 0, 5);
    try {
      if (extra && extra.length > 0) {
        // One write keeps the request atomic and cheap.
        this.writeFully(Buffer.concat([r.subarray(0, REQUEST_HEADER + 4), extra]));
      } else {
        this.writeFully(r.subarray(0, REQUEST_HEADER + (hasWord ? 4 : 0)));
      }
    } catch (err) {
      if (err instanceof DeviceError) throw err;
      throw new DeviceError('ENXIO', what, { cause: err });
    }
    this.readFully(this.respHdr, 0, RESPONSE_HEADER, what);
    const len = this.respHdr.readUInt32LE(0);
    const status = this.respHdr[4]!;
    if (status !== 0) {
      if (len > 0) this.readFully(Buffer.alloc(len), 0, len, what);
      throw new DeviceError(errnoName(status), what);
    }
    return len;
  }

  private writeFully(b: Buffer): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.reqFd, b, off, b.length - off);
  }

  private readFully(buf: Buffer, offset: number, n: number, what: string): void {
    let got = 0;
    while (got < n) {
      let k: number;
      try {
        k = readSync(this.respFd, buf, offset + got, n - got, null);
      } catch (err) {
        throw new DeviceError('EIO', what, { cause: err });
      }
      if (k === 0) {
        this.closeFds();
        throw new DeviceError('ENXIO', `${what}: the kernel model went away`);
      }
      got += k;
    }
  }
}
