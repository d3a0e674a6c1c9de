/**
 * The simulated audit subsystem: global state, preselection and the single audit worker
 * (kernel-audit-pipe.md §2, §8, §11, §12, §18). `commit(batch)` is the worker processing records in commit order:
 * for each record the trail write happens first (if trail-selected), then the same bytes are appended to every
 * interested pipe. Everything that happens to a record goes to the ground truth.
 */
import { AuditPipe, XNU_MAX_PIPES, type Personality } from './audit-pipe.js';
import { Auditd, type AuditdOptions } from './auditd.js';
import { EventClassMap, preselect, type ClassMask } from './event-classes.js';
import { KIND_SESSION, KIND_USER } from './templates.js';
import { PipeOutcome, TrailFate, type TruthWriter } from './truth.js';
import { Prng, recordOf, Workload, type Batch } from './workload.js';

export interface KernelOptions {
  personality: Personality;
  seed: number;
  /** Trail preselection: audit_control flags (attributable) and naflags (auid −1); per-auid audit_user masks. */
  flags: ClassMask;
  naflags: ClassMask;
  userMasks?: Array<{ auid: number; mask: ClassMask }>;
  /** Probability that a pipe append's NOWAIT allocation fails (0..1). */
  allocFailRate?: number;
  /** Counters of newly opened pipes start here (to make the 2^32 wrap testable); the kernels start at 0. */
  counterBase?: number;
  /** Probability that a trail write fails with EIO (record lost from the trail, still sent to pipes). */
  trailWriteErrorRate?: number;
  /** After ENOSPC, auditd rotates to the next dir after this many ms (null: stay suspended until told). */
  noSpaceRecoveryMs?: number | null;
  auditd: AuditdOptions;
  /** Simulated time of the start (ms since the epoch). */
  startTime: number;
  /** 'wall': the clock follows real time from startTime; 'manual': it moves only by scenario schedule and advanceClock. */
  clock: 'wall' | 'manual';
  tagSeq?: boolean;
}

export interface PipeHooks {
  /** Called after a commit appended at least one record to the pipe (wakes a blocked reader). */
  wake(pipe: AuditPipe): void;
}

export interface KernelCounters {
  generated: number;
  trailWritten: number;
  trailBytes: number;
  notSelected: number;
  discardedDisabled: number;
  discardedSuspended: number;
  trailWriteErrors: number;
  trailEnospc: number;
  pipeQueued: number;
  pipeDropsQlimit: number;
  pipeDropsAlloc: number;
  pipeFlushed: number;
}

export class Kernel {
  readonly opts: KernelOptions;
  readonly personality: Personality;
  readonly classes = new EventClassMap();
  readonly workload: Workload;
  readonly auditd: Auditd;
  readonly truth: TruthWriter;
  /** audit_enabled / audit_trail_enabled: a trail vnode is set. */
  enabled = false;
  /** audit_suspended / audit_trail_suspended: after ENOSPC until the next rotation. */
  suspended = false;
  flags: ClassMask;
  naflags: ClassMask;
  readonly userMasks = new Map<number, ClassMask>();
  allocFailRate: number;
  trailWriteErrorRate: number;
  readonly pipes = new Map<number, AuditPipe>();
  private nextPipeId = 1;
  private readonly allocRng: Prng;
  private readonly faultRng: Prng;
  /** Injected trail faults for the next trail writes. */
  private pendingFaults: Array<'enospc' | 'eio'> = [];
  hooks: PipeHooks = { wake: () => undefined };
  readonly counters: KernelCounters = {
    generated: 0,
    trailWritten: 0,
    trailBytes: 0,
    notSelected: 0,
    discardedDisabled: 0,
    discardedSuspended: 0,
    trailWriteErrors: 0,
    trailEnospc: 0,
    pipeQueued: 0,
    pipeDropsQlimit: 0,
    pipeDropsAlloc: 0,
    pipeFlushed: 0,
  };
  private clockBase: number;
  private readonly wallStart = Date.now();
  private recoveryTimer: NodeJS.Timeout | null = null;

  // per-commit scratch
  private fate = new Uint8Array(0);
  private trailFile = new Int32Array(0);
  private trailOff = new Float64Array(0);
  private readonly pipeIdScratch: number[] = [];
  private readonly outcomeScratch: number[] = [];

  constructor(opts: KernelOptions, truth: TruthWriter) {
    this.opts = opts;
    this.personality = opts.personality;
    this.truth = truth;
    this.flags = opts.flags;
    this.naflags = opts.naflags;
    for (const u of opts.userMasks ?? []) this.userMasks.set(u.auid >>> 0, u.mask);
    this.allocFailRate = opts.allocFailRate ?? 0;
    this.trailWriteErrorRate = opts.trailWriteErrorRate ?? 0;
    this.allocRng = new Prng(opts.seed ^ 0x5bd1e995);
    this.faultRng = new Prng(opts.seed ^ 0x27d4eb2f);
    this.clockBase = opts.startTime;
    this.workload = new Workload({ seed: opts.seed, personality: opts.personality, tagSeq: opts.tagSeq });
    this.auditd = new Auditd(opts.auditd, () => this.now(), truth);
    this.auditd.bumpClock = () => this.advanceClock(1000);
  }

  /** Simulated time in ms. */
  now(): number {
    return this.opts.clock === 'wall' ? this.clockBase + (Date.now() - this.wallStart) : this.clockBase;
  }

  advanceClock(ms: number): void {
    this.clockBase += ms;
  }

  /** auditd start: crash recovery, first trail, then its startup record (to the trail and every pipe). */
  start(): void {
    const recovered = this.auditd.start();
    this.enabled = true;
    this.truth.event({ type: 'audit-enabled' });
    if (recovered) this.commit(this.workload.auditdRecord('audit_recovery', this.now(), recovered));
    this.commit(this.workload.auditdRecord('audit_startup', this.now()));
  }

  /** audit -t: shutdown record, terminate the trail, audit disabled. */
  shutdown(): void {
    if (!this.enabled) return;
    this.commit(this.workload.auditdRecord('audit_shutdown', this.now()));
    this.auditd.closeAndDie();
    this.enabled = false;
    this.truth.event({ type: 'audit-disabled', reason: 'shutdown' });
  }

  /** auditctl(NULL) / auditctl(file) without auditd's bookkeeping: audit off or on (§8.3). */
  setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    if (on && !this.auditd.active) {
      this.auditd.start();
    }
    this.enabled = on;
    this.truth.event({ type: on ? 'audit-enabled' : 'audit-disabled', reason: 'auditctl' });
  }

  /** The trail fails its next writes (ENOSPC → suspension; EIO → that record lost from the trail). */
  injectTrailFault(kind: 'enospc' | 'eio', count = 1): void {
    for (let i = 0; i < count; i++) this.pendingFaults.push(kind);
  }

  /** A rotation (audit -n, size trigger, NO_SPACE): a successful one ends a suspension (auditctl clears it). */
  rotate(reason: string, nextDir = false): boolean {
    if (!this.auditd.active) return false;
    const ok = this.auditd.rotate(reason, nextDir);
    if (ok && this.suspended) {
      this.suspended = false;
      this.truth.event({ type: 'resume', reason });
    }
    return ok;
  }

  openPipe(): AuditPipe | 'EBUSY' {
    if (this.personality === 'xnu' && this.pipes.size >= XNU_MAX_PIPES) return 'EBUSY';
    const p = new AuditPipe(this.nextPipeId++, this.opts.counterBase ?? 0);
    this.pipes.set(p.id, p);
    this.truth.event({ type: 'pipe-open', pipe: p.id });
    return p;
  }

  /** close(): the queue is discarded without counting drops. */
  closePipe(p: AuditPipe): void {
    if (!this.pipes.delete(p.id)) return;
    const n = this.flushPipe(p, 'close');
    this.truth.event({ type: 'pipe-close', pipe: p.id, discarded: n });
  }

  flushPipe(p: AuditPipe, reason: string): number {
    const seqs = p.queuedSeqs();
    const n = p.flush();
    this.counters.pipeFlushed += n;
    // nextSeq: the records from here on come after the flush (drops before it are not in the reader's stream)
    if (reason !== 'close' || n > 0) this.truth.event({ type: 'pipe-flush', pipe: p.id, reason, discarded: n, seqs, nextSeq: this.workload.nextSeq });
    return n;
  }

  private maskFor(auid: number): ClassMask {
    return this.userMasks.get(auid) ?? (auid === 0xffffffff ? this.naflags : this.flags);
  }

  private nextTrailFault(): 'enospc' | 'eio' | null {
    if (this.pendingFaults.length > 0) return this.pendingFaults.shift()!;
    if (this.trailWriteErrorRate > 0 && this.faultRng.next() < this.trailWriteErrorRate) return 'eio';
    return null;
  }

  /** The audit worker: processes one batch of committed records in order. */
  commit(b: Batch): void {
    const n = b.count;
    if (this.fate.length < n) {
      this.fate = new Uint8Array(n * 2);
      this.trailFile = new Int32Array(n * 2);
      this.trailOff = new Float64Array(n * 2);
    }
    const fate = this.fate;
    const tFile = this.trailFile;
    const tOff = this.trailOff;
    const pipes = [...this.pipes.values()];
    const xnu = this.personality === 'xnu';
    this.counters.generated += n;

    // Pass 1: audit_commit + the trail half of the worker. Consecutive trail-selected records are contiguous in the
    // batch buffer, so each run is one write; the pipes see none of them before the writes returned.
    let runStart = -1;
    let runEnd = -1;
    let runFirst = 0;
    const flushRun = (upTo: number): void => {
      if (runStart < 0) return;
      const at = this.auditd.write(b.buf, runStart, runEnd - runStart);
      const file = this.auditd.active!.index;
      for (let j = runFirst; j < upTo; j++) {
        if (fate[j] === TrailFate.WRITTEN) {
          tFile[j] = file;
          tOff[j] = at + (b.start[j]! - runStart);
        }
      }
      this.counters.trailBytes += runEnd - runStart;
      runStart = -1;
    };
    for (let i = 0; i < n; i++) {
      tFile[i] = -1;
      tOff[i] = -1;
      const kind = b.kind[i]!;
      const active = this.enabled && !this.suspended;
      if (!active && !(xnu && kind === KIND_SESSION)) {
        fate[i] = this.enabled ? TrailFate.SUSPENDED : TrailFate.DISABLED;
        continue;
      }
      let trailSel: boolean;
      if (!active) trailSel = false; // XNU session events flow to pipes only while audit is off
      else if (kind === KIND_USER) trailSel = true;
      else trailSel = preselect(this.classes.classOf(b.event[i]!), this.maskFor(b.auid[i]!), b.failed[i] === 1);
      if (!trailSel) {
        fate[i] = active ? TrailFate.NOT_SELECTED : this.enabled ? TrailFate.SUSPENDED : TrailFate.DISABLED;
        continue;
      }
      const fault = this.nextTrailFault();
      if (fault !== null) {
        flushRun(i);
        if (fault === 'eio') {
          fate[i] = TrailFate.WRITE_ERROR;
          this.counters.trailWriteErrors++;
          this.truth.event({ type: 'write-error', seq: b.seq[i] });
        } else {
          fate[i] = TrailFate.ENOSPC;
          this.counters.trailEnospc++;
          this.suspend(b.seq[i]!);
        }
        continue;
      }
      fate[i] = TrailFate.WRITTEN;
      this.counters.trailWritten++;
      const s = b.start[i]!;
      if (runStart >= 0 && s === runEnd) {
        runEnd = s + b.len[i]!;
      } else {
        flushRun(i);
        runStart = s;
        runEnd = s + b.len[i]!;
        runFirst = i;
      }
    }
    flushRun(n);

    // Pass 2: the pipe half (audit_pipe_submit / audit_pipe_submit_user), then the ground truth.
    const ids = this.pipeIdScratch;
    const outs = this.outcomeScratch;
    const woken = new Set<AuditPipe>();
    for (let i = 0; i < n; i++) {
      const f = fate[i]!;
      const kind = b.kind[i]!;
      let np = 0;
      let queuedAny = false;
      const reached = f !== TrailFate.DISABLED && f !== TrailFate.SUSPENDED ? true : xnu && kind === KIND_SESSION;
      if (reached && pipes.length > 0) {
        const ev = b.event[i]!;
        const cls = this.classes.classOf(ev);
        const auid = b.auid[i]!;
        const failed = b.failed[i] === 1;
        // trail bit as audit_commit set it (for XNU session events while audit is off: the global masks' verdict)
        const trailBit =
          f === TrailFate.WRITTEN || f === TrailFate.WRITE_ERROR || f === TrailFate.ENOSPC || (kind === KIND_SESSION && f !== TrailFate.NOT_SELECTED && preselect(cls, this.maskFor(auid), failed));
        for (const p of pipes) {
          let o: number;
          if (kind === KIND_USER || p.wants(trailBit, auid, cls, failed)) {
            const r = p.append(b.buf, b.start[i]!, b.len[i]!, this.allocFailRate > 0 && this.allocRng.next() < this.allocFailRate, b.seq[i]!);
            if (r === 'queued') {
              o = PipeOutcome.QUEUED;
              queuedAny = true;
              this.counters.pipeQueued++;
              woken.add(p);
            } else if (r === 'qlimit') {
              o = PipeOutcome.QLIMIT;
              this.counters.pipeDropsQlimit++;
            } else {
              o = PipeOutcome.ALLOC;
              this.counters.pipeDropsAlloc++;
            }
          } else {
            o = PipeOutcome.NOT_SELECTED;
          }
          ids[np] = p.id;
          outs[np] = o;
          np++;
        }
      }
      if (f === TrailFate.NOT_SELECTED && !queuedAny) this.counters.notSelected++;
      else if (f === TrailFate.DISABLED && !queuedAny) this.counters.discardedDisabled++;
      else if (f === TrailFate.SUSPENDED && !queuedAny) this.counters.discardedSuspended++;
      this.truth.record(
        b.seq[i]!,
        kind,
        f,
        b.event[i]!,
        b.auid[i]!,
        b.failed[i]!,
        b.len[i]!,
        tFile[i]!,
        tOff[i]!,
        ids,
        outs,
        np,
        queuedAny && f !== TrailFate.WRITTEN ? recordOf(b, i) : null,
      );
    }
    this.truth.flush();
    for (const p of woken) this.hooks.wake(p);
    // auditd reacts to the size trigger once the worker is done with this batch.
    if (this.auditd.needsRotation()) this.rotate('filesz');
  }

  private suspend(seq: number): void {
    if (this.suspended) return;
    this.suspended = true;
    this.truth.event({ type: 'suspend', reason: 'ENOSPC', seq });
    const delay = this.opts.noSpaceRecoveryMs === undefined ? 100 : this.opts.noSpaceRecoveryMs;
    if (delay === null) return;
    const attempt = (): void => {
      this.recoveryTimer = null;
      if (!this.suspended) return;
      if (!this.rotate('no-space', true)) {
        // same second as the suspended file: auditd tries again
        if (this.opts.clock === 'manual') this.advanceClock(1000);
        this.recoveryTimer = setTimeout(attempt, Math.max(delay, 50));
      }
    };
    this.recoveryTimer = setTimeout(attempt, delay);
  }

  stopTimers(): void {
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = null;
  }

  summary(): Record<string, unknown> {
    const pipes = [...this.pipes.values()].map((p) => ({
      id: p.id,
      mode: p.mode === 1 ? 'trail' : 'local',
      qlimit: p.qlimit,
      qlen: p.qlen,
      inserts: p.inserts,
      reads: p.reads,
      drops: p.drops,
    }));
    return {
      personality: this.personality,
      enabled: this.enabled,
      suspended: this.suspended,
      nextSeq: this.workload.nextSeq,
      clock: this.now(),
      trail: this.auditd.active ? { path: this.auditd.active.path, size: this.auditd.active.size } : null,
      rotations: this.auditd.rotations,
      skippedRotations: this.auditd.skippedRotations,
      counters: { ...this.counters },
      pipes,
    };
  }
}
