/**
 * The kernel model: a separate process that plays the BSD audit subsystem and auditd (kernel-audit-pipe.md §18).
 *
 *   const model = await startKernelModel({ personality: 'freebsd', seed: 7 });
 *   const pipe = model.openPipe();            // an AuditPipeDevice, like /dev/auditpipe
 *   await model.generate(10_000);             // records go to the trail, then to the pipes
 *   ... pipe.readSync(buf, 0, buf.length) ... // on a worker thread, or where the wait is bounded
 *   await model.stop();
 *   const truth = readGroundTruth(model.info.truthDir);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BsmkitError } from '../../errors.js';
import { SimulatedPipeDevice, type SimulatedOpenOptions } from '../../sources/pipe/simulated-device.js';
import type { ModelConfig, ModelInfo, MaskSpec } from './model-process.js';
import type { Phase } from './scenario.js';
import type { EmitSpec } from './workload.js';

export type { ModelConfig, ModelInfo, MaskSpec, RunningModel } from './model-process.js';
export { runModel } from './model-process.js';
export type { Phase } from './scenario.js';
export { parsePhase } from './scenario.js';
export type { EmitSpec } from './workload.js';
export type { Shape } from './templates.js';
export { AuditClass, AuditEvent, parseFlags } from './event-classes.js';
export { readGroundTruth, type GroundTruth, type TruthRecord, type TruthEvent } from './truth.js';
export { trailTimestamp } from './auditd.js';
export { QLIMIT_DEFAULT, QLIMIT_MAX, QLIMIT_MIN, XNU_MAX_PIPES, MAXAUDITDATA, type Personality } from './audit-pipe.js';

export interface StartOptions extends Omit<ModelConfig, 'endpoint'> {
  /** Endpoint directory (default: a new temporary directory). */
  endpoint?: string;
  /** Where the model's stderr goes (default: kept, and reported if the model fails to start). */
  stderr?: 'inherit' | 'pipe';
}

export interface SeqRange {
  first: number;
  last: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const isTs = import.meta.url.endsWith('.ts');

/** A running kernel model process and its control channel. */
export class KernelModel {
  readonly info: ModelInfo;
  readonly child: ChildProcess;
  private readonly sock: Socket;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<number | null>;

  private constructor(info: ModelInfo, child: ChildProcess, sock: Socket, exited: Promise<number | null>) {
    this.info = info;
    this.child = child;
    this.sock = sock;
    this.exited = exited;
    let acc = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      acc += chunk;
      let nl: number;
      while ((nl = acc.indexOf('\n')) >= 0) {
        const msg = JSON.parse(acc.slice(0, nl)) as { id: number; ok: boolean; result?: unknown; error?: string };
        acc = acc.slice(nl + 1);
        const w = this.waiting.get(msg.id);
        if (!w) continue;
        this.waiting.delete(msg.id);
        if (msg.ok) w.resolve(msg.result);
        else w.reject(new BsmkitError('BSMKIT_E_MODEL', `kernel model: ${msg.error}`));
      }
    });
    const fail = (): void => {
      for (const w of this.waiting.values()) w.reject(new BsmkitError('BSMKIT_E_MODEL', 'kernel model: control channel closed'));
      this.waiting.clear();
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  /** Spawns a model process and waits until devices can connect. */
  static async start(opts: StartOptions = {}): Promise<KernelModel> {
    const endpoint = opts.endpoint ?? removedAtExit(mkdtempSync(join(tmpdir(), 'bsmkit-model-')));
    const { stderr: stderrMode, ...rest } = opts;
    const config: ModelConfig = { ...rest, endpoint };
    const script = join(here, isTs ? 'main.ts' : 'main.js');
    // running from sources: the child needs the same TypeScript loader, found from here rather than from its cwd
    const execArgv = isTs ? ['--import', import.meta.resolve('tsx')] : [];
    const child = spawn(process.execPath, [...execArgv, script, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', stderrMode === 'inherit' ? 'inherit' : 'pipe'],
    });
    let errText = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (errText.length < 65536) errText += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const info = await new Promise<ModelInfo>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8');
      const onData = (d: string): void => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        try {
          resolve((JSON.parse(out.slice(0, nl)) as { ready: ModelInfo }).ready);
        } catch (err) {
          reject(err as Error);
        }
      };
      child.stdout!.on('data', onData);
      void exited.then((code) => reject(new BsmkitError('BSMKIT_E_MODEL', `kernel model exited with ${code} before it was ready: ${errText.trim()}`)));
    });
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(info.controlSocket, () => resolve(s));
      s.once('error', reject);
    });
    return new KernelModel(info, child, sock, exited);
  }

  private request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  /** Opens a new independent pipe (like open("/dev/auditpipe")). Synchronous; throws DeviceError EBUSY/ENXIO. */
  openPipe(opts?: SimulatedOpenOptions): SimulatedPipeDevice {
    return SimulatedPipeDevice.open(this.info.endpoint, opts);
  }

  /** Commits explicit records now (in order) and resolves once they are in the trail and the pipes. */
  emit(records: EmitSpec[]): Promise<SeqRange> {
    return this.request('emit', { records });
  }

  /** Commits `count` records of the random workload at once. */
  generate(count: number): Promise<SeqRange> {
    return this.request('generate', { count });
  }

  /** Runs workload phases (paced on the wall clock); resolves when they are done. */
  run(phases: Phase[]): Promise<SeqRange> {
    return this.request('run', { phases });
  }

  setAudit(enabled: boolean): Promise<boolean> {
    return this.request('setAudit', { enabled });
  }

  setTrailMasks(m: { flags?: MaskSpec; naflags?: MaskSpec; userMasks?: Array<{ auid: number; mask: MaskSpec }> }): Promise<void> {
    return this.request('setTrailMasks', m);
  }

  /** auditon(A_SETCLASS): changes the kernel's event→class map. */
  setEventClass(event: number, mask: number): Promise<void> {
    return this.request('setEventClass', { event, mask });
  }

  setAllocFailRate(rate: number): Promise<void> {
    return this.request('setAllocFailRate', { rate });
  }

  /** The next `count` trail writes fail: 'enospc' suspends audit until a rotation, 'eio' loses that record from the trail. */
  injectTrailFault(kind: 'enospc' | 'eio', count = 1): Promise<void> {
    return this.request('injectTrailFault', { kind, count });
  }

  /** audit -n (or NO_SPACE with nextDir): false when skipped because the second has not changed. */
  rotate(opts: { nextDir?: boolean; reason?: string } = {}): Promise<boolean> {
    return this.request('rotate', opts);
  }

  expire(): Promise<string[]> {
    return this.request('expire');
  }

  advanceClock(ms: number): Promise<number> {
    return this.request('advanceClock', { ms });
  }

  /** Delivers a "signal" to blocked readers: their read fails with EINTR. Resolves to how many were interrupted. */
  interrupt(pipe?: number): Promise<number> {
    return this.request('interrupt', pipe === undefined ? {} : { pipe });
  }

  summary(): Promise<Record<string, unknown>> {
    return this.request('summary');
  }

  /** Flushes the ground truth to disk. */
  sync(): Promise<void> {
    return this.request('sync');
  }

  /** Clean stop: audit -t (shutdown record, trail terminated, `current` removed), summary written. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await this.request('shutdown').catch(() => undefined);
    }
    await this.exited;
    this.sock.destroy();
  }

  /** A crash: SIGKILL. The trail stays *.not_terminated and `current` keeps pointing at it. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    this.sock.destroy();
  }
}

/**
 * Endpoint directories start() made itself go when this process exits (not at stop(): the trail and the ground truth
 * are read after the model stopped). A caller-given endpoint is the caller's.
 */
const madeEndpoints = new Set<string>();
function removedAtExit(dir: string): string {
  if (madeEndpoints.size === 0) {
    process.once('exit', () => {
      for (const d of madeEndpoints) rmSync(d, { recursive: true, force: true });
    });
  }
  madeEndpoints.add(dir);
  return dir;
}

/** Spawns a kernel model process (see KernelModel). */
export function startKernelModel(opts: StartOptions = {}): Promise<KernelModel> {
  return KernelModel.start(opts);
}
