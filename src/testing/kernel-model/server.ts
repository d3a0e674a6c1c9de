/**
 * The model process's endpoint: `control.fifo` where devices announce their FIFO pairs, one PipeConnection per
 * opened pipe (protocol.ts), and `control.sock`, a unix socket of NDJSON requests for tests and tools.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants as C, mkdirSync, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { AUDITPIPE, IOC_IN, IOC_OUT, ioctlArgSize } from '../../sources/pipe/device.js';
import type { AuditPipe } from './audit-pipe.js';
import { growFifo } from './fifo-size.js';
import type { Kernel } from './kernel.js';
import { ENDPOINT, errnoCode, OP, REQUEST_HEADER, RESPONSE_HEADER } from './protocol.js';

/** Handles one NDJSON control request; resolves to its result. */
export type ControlHandler = (op: string, args: Record<string, unknown>) => Promise<unknown>;

class PipeConnection {
  private acc: Buffer = Buffer.alloc(0);
  /** Bytes requested by a blocked read (−1: none). */
  pendingRead = -1;
  private closed = false;

  constructor(
    private readonly server: ModelServer,
    readonly name: string,
    readonly pipe: AuditPipe | null,
    private readonly openError: string | null,
    private readonly input: Socket,
    private outFd: number,
  ) {
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('end', () => this.close());
    input.on('error', () => this.close());
  }

  private onData(chunk: Buffer): void {
    this.acc = this.acc.length === 0 ? chunk : Buffer.concat([this.acc, chunk]);
    this.processRequests();
  }

  /**
   * Handles the complete requests received, in order. While a read blocks, the requests behind it wait: a client
   * may send a read and the counter ioctls that follow it in one write (SimulatedPipeDevice.readWithCountersSync),
   * and the answers must come in request order.
   */
  private processRequests(): void {
    const outer = this.corked === null;
    if (outer) this.corked = [];
    while (this.pendingRead < 0 && !this.closed && this.acc.length >= REQUEST_HEADER) {
      const bodyLen = this.acc.readUInt32LE(0);
      if (this.acc.length < REQUEST_HEADER + bodyLen) break;
      const op = this.acc[4]!;
      const body = this.acc.subarray(REQUEST_HEADER, REQUEST_HEADER + bodyLen);
      this.acc = this.acc.subarray(REQUEST_HEADER + bodyLen);
      this.handle(op, body);
    }
    if (outer) this.uncork();
  }

  /**
   * Responses of the requests handled in one go (a read and its counter ioctls) are written together: one write,
   * one wake-up of the client, instead of one per response.
   */
  private corked: Buffer[] | null = null;

  private uncork(): void {
    const parts = this.corked;
    this.corked = null;
    if (!parts || parts.length === 0 || this.closed || this.outFd < 0) return;
    this.writeAll(parts);
  }

  private respond(errno: string | null, payload?: Buffer): void {
    const len = payload && !errno ? payload.length : 0;
    const out = Buffer.allocUnsafe(RESPONSE_HEADER + len);
    if (len > 0) payload!.copy(out, RESPONSE_HEADER);
    this.send(out, errno);
  }

  /**
   * Writes a response whose first RESPONSE_HEADER bytes are room for the header. The write is synchronous: the
   * client is blocked reading this very response, so the FIFO drains at once, and a read costs one round trip
   * instead of several event-loop turns. A client that stops reading for 10 s is treated as gone.
   */
  private send(out: Buffer, errno: string | null): void {
    if (this.closed || this.outFd < 0) return;
    out.writeUInt32LE(out.length - RESPONSE_HEADER, 0);
    out[4] = errno ? errnoCode(errno) : 0;
    if (this.corked) this.corked.push(out);
    else this.writeAll([out]);
  }

  private writeAll(parts: Buffer[]): void {
    let stalledSince = 0;
    while (parts.length > 0) {
      let n: number;
      try {
        n = parts.length === 1 ? writeSync(this.outFd, parts[0]!) : writevSync(this.outFd, parts);
        stalledSince = 0;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') {
          this.close();
          return;
        }
        const now = Date.now();
        if (stalledSince === 0) stalledSince = now;
        else if (now - stalledSince > 10_000) {
          this.close();
          return;
        }
        continue;
      }
      while (n > 0 && parts.length > 0) {
        const head = parts[0]!;
        if (n >= head.length) {
          n -= head.length;
          parts.shift();
        } else {
          parts[0] = head.subarray(n);
          n = 0;
        }
      }
    }
  }

  private handle(op: number, body: Buffer): void {
    const kernel = this.server.kernel;
    if (op === OP.HELLO) {
      if (this.openError) {
        this.respond(this.openError);
        this.close();
      } else {
        this.respond(null);
      }
      return;
    }
    const p = this.pipe;
    if (!p) return this.respond('EBADF');
    switch (op) {
      case OP.READ: {
        const max = body.readUInt32LE(0);
        if (p.qlen > 0) return this.serveRead(max);
        if (p.nbio) return this.respond('EAGAIN');
        this.pendingRead = max;
        return;
      }
      case OP.IOCTL: {
        const request = body.readUInt32LE(0) >>> 0;
        const size = ioctlArgSize(request);
        // The kernel copies IOC_IN arguments in and hands IOC_OUT ones over zeroed (§10: GET_PRESELECT_AUID quirk).
        const arg = Buffer.alloc(Math.max(size, 4));
        if (request & IOC_IN) body.copy(arg, 0, 4, 4 + size);
        if (request === AUDITPIPE.FLUSH) {
          kernel.flushPipe(p, 'ioctl');
          return this.respond(null);
        }
        const r = p.ioctl(request, arg, kernel.personality);
        if (r.errno) return this.respond(r.errno);
        if (request & IOC_OUT) {
          const out = Buffer.alloc(size);
          r.out?.copy(out, 0, 0, Math.min(size, r.out.length));
          return this.respond(null, out);
        }
        return this.respond(null);
      }
      case OP.CLOSE:
        this.respond(null);
        this.close();
        return;
      default:
        this.respond('EINVAL');
    }
  }

  /** Serves a read: the bytes go straight into a response buffer. */
  private serveRead(max: number): void {
    const p = this.pipe!;
    const out = p.read(max, RESPONSE_HEADER);
    if (this.server.logReads) {
      this.server.kernel.truth.event({ type: 'pipe-read', pipe: p.id, bytes: out.length - RESPONSE_HEADER, completed: p.lastReadSeqs });
    }
    this.send(out, null);
  }

  /** New records arrived: a blocked read completes. */
  wake(): void {
    if (this.pendingRead >= 0 && this.pipe && this.pipe.qlen > 0) {
      const max = this.pendingRead;
      this.pendingRead = -1;
      this.corked = [];
      this.serveRead(max);
      this.processRequests();
      this.uncork();
    }
  }

  /** A signal: a blocked read returns EINTR (cv_wait_sig). */
  interrupt(): boolean {
    if (this.pendingRead < 0) return false;
    this.pendingRead = -1;
    this.corked = [];
    this.respond('EINTR');
    this.processRequests();
    this.uncork();
    return true;
  }

  close(): void {
    if (this.closed) return;
    if (this.corked && this.outFd >= 0) {
      // answers already given (the close's own, an open error) still go out
      const parts = this.corked;
      this.corked = null;
      this.writeAll(parts);
    }
    this.closed = true;
    if (this.pipe) this.server.kernel.closePipe(this.pipe);
    this.server.connections.delete(this);
    this.input.destroy();
    if (this.outFd >= 0) closeSync(this.outFd);
    this.outFd = -1;
  }
}

export class ModelServer {
  readonly kernel: Kernel;
  readonly endpoint: string;
  readonly connections = new Set<PipeConnection>();
  private readonly byPipe = new Map<AuditPipe, PipeConnection>();
  private readonly wakePending = new Set<AuditPipe>();
  private control: Socket | null = null;
  private sockServer: Server | null = null;
  private readonly handler: ControlHandler;
  /** Log every read's completed sequence numbers to the ground truth (off by default: costly at full speed). */
  logReads = false;

  constructor(kernel: Kernel, endpoint: string, handler: ControlHandler) {
    this.kernel = kernel;
    this.endpoint = endpoint;
    this.handler = handler;
    // A blocked reader runs after the audit worker's current burst, never inside it: the wake-up is a separate
    // event-loop turn, as a woken thread is scheduled after cv_broadcast (and the sleep/wake burst stays unread).
    kernel.hooks = {
      wake: (p) => {
        if (this.wakePending.has(p)) return;
        this.wakePending.add(p);
        setImmediate(() => {
          this.wakePending.delete(p);
          this.byPipe.get(p)?.wake();
        });
      },
    };
  }

  async start(): Promise<void> {
    mkdirSync(join(this.endpoint, ENDPOINT.pipesDir), { recursive: true });
    const fifo = join(this.endpoint, ENDPOINT.controlFifo);
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    // O_RDWR: the control FIFO never reaches EOF however many devices come and go.
    const fd = openSync(fifo, C.O_RDWR | C.O_NONBLOCK);
    this.control = new Socket({ fd, readable: true, writable: false });
    let acc = '';
    this.control.on('data', (chunk: Buffer) => {
      acc += chunk.toString('latin1');
      let nl: number;
      while ((nl = acc.indexOf('\n')) >= 0) {
        const line = acc.slice(0, nl);
        acc = acc.slice(nl + 1);
        const m = /^(open|intr) ([A-Za-z0-9._-]+)$/.exec(line);
        if (m?.[1] === 'open') this.accept(m[2]!);
        else if (m) this.interruptByName(m[2]!);
      }
    });
    const sockPath = join(this.endpoint, ENDPOINT.controlSocket);
    rmSync(sockPath, { force: true });
    this.sockServer = createServer((s) => this.serveControl(s));
    await new Promise<void>((resolve, reject) => {
      this.sockServer!.once('error', reject);
      this.sockServer!.listen(sockPath, () => resolve());
    });
  }

  private accept(name: string): void {
    const base = join(this.endpoint, ENDPOINT.pipesDir, name);
    let inFd: number;
    let outFd: number;
    try {
      inFd = openSync(base + '.req', C.O_RDONLY | C.O_NONBLOCK);
    } catch {
      return;
    }
    try {
      outFd = openSync(base + '.resp', C.O_WRONLY | C.O_NONBLOCK);
      growFifo(outFd);
    } catch {
      new Socket({ fd: inFd, readable: true, writable: false }).destroy();
      return;
    }
    const opened = this.kernel.openPipe();
    const pipe = opened === 'EBUSY' ? null : opened;
    if (pipe) pipe.trackReads = this.logReads;
    const conn = new PipeConnection(
      this,
      name,
      pipe,
      opened === 'EBUSY' ? 'EBUSY' : null,
      new Socket({ fd: inFd, readable: true, writable: false }),
      outFd,
    );
    this.connections.add(conn);
    if (pipe) this.byPipe.set(pipe, conn);
  }

  /** A signal aimed at one device's blocked read (`intr NAME` on the control FIFO: how a reader is woken to close). */
  interruptByName(name: string): boolean {
    for (const c of this.connections) if (c.name === name) return c.interrupt();
    return false;
  }

  /** Interrupts blocked reads (all pipes, or one). Returns how many were interrupted. */
  interrupt(pipeId?: number): number {
    let n = 0;
    for (const c of this.connections) if ((pipeId === undefined || c.pipe?.id === pipeId) && c.interrupt()) n++;
    return n;
  }

  private readonly controlClients = new Set<Socket>();

  private serveControl(s: Socket): void {
    this.controlClients.add(s);
    s.on('close', () => this.controlClients.delete(s));
    let acc = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      acc += chunk;
      let nl: number;
      while ((nl = acc.indexOf('\n')) >= 0) {
        const line = acc.slice(0, nl);
        acc = acc.slice(nl + 1);
        let req: { id?: unknown; op?: unknown; args?: Record<string, unknown> };
        try {
          req = JSON.parse(line) as typeof req;
        } catch {
          s.write(JSON.stringify({ id: null, ok: false, error: 'bad JSON request' }) + '\n');
          continue;
        }
        const id = req.id ?? null;
        this.handler(String(req.op), req.args ?? {}).then(
          (result) => {
            if (!s.destroyed) s.write(JSON.stringify({ id, ok: true, result: result ?? null }) + '\n');
          },
          (err: unknown) => {
            if (!s.destroyed) s.write(JSON.stringify({ id, ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n');
          },
        );
      }
    });
    s.on('error', () => undefined);
  }

  async close(): Promise<void> {
    for (const c of [...this.connections]) c.close();
    this.control?.destroy();
    // answers already written still go out: end, then destroy whatever lingers
    for (const s of this.controlClients) s.end();
    setTimeout(() => {
      for (const s of this.controlClients) s.destroy();
    }, 200).unref();
    await new Promise<void>((resolve) => (this.sockServer ? this.sockServer.close(() => resolve()) : resolve()));
  }
}
