/**
 * The process table: applies record facts in time order and says what happened (peers.md §9.2).
 *
 * - fork/spawn (return 0): a new process for arg #0 "child PID", parent = the subject. A failed one creates nothing.
 * - exec (return 0): same pid, new image; the old one moves to `previous`. A failed exec changes nothing.
 * - exit: the process ends and leaves the table once its terminate event is out.
 * - pid reuse: a launch reporting a pid that is still live ends the old process first (inferred terminate), unless
 *   that entry was itself only reconstructed from records at or after the launch time, in which case it is the same
 *   process seen early (its exec overtook the fork) and just gets its parent.
 * - any other record: its subject updates the credentials of its process, creating it (reconstructed, parent
 *   unknown) if it was not known.
 *
 * Memory is bounded by the live processes: nothing is kept for ended ones. `maxProcesses` caps the table against
 * trails whose exit records were lost: past the cap the least recently seen tenth is evicted (counted).
 */
import type { RecordFacts, SubjectFacts } from './facts.js';
import type { ActivityStats, Credentials, LaunchType, ProcessEvent, ProcessImage, ProcessInfo } from './types.js';

export interface ProcessTableOptions {
  /** Earlier images kept per process (ECS process.previous). Default 4. */
  maxPreviousImages?: number;
  /** Emit events for failed fork/spawn/exec calls (success: false). Default true. */
  failures?: boolean;
  /** Most processes held; beyond it the least recently seen are evicted. Default 1,000,000. */
  maxProcesses?: number;
}

export function emptyStats(): ActivityStats {
  return {
    records: 0, lifecycleRecords: 0, missForkSubject: 0, missExecSubject: 0, missExitSubject: 0, pidReused: 0,
    lateRecords: 0, timeJumps: 0, evicted: 0, undecodable: 0,
  };
}

function sameCred(c: Credentials, s: Credentials): boolean {
  return c === s || (c.auid === s.auid && c.euid === s.euid && c.egid === s.egid && c.ruid === s.ruid &&
    c.rgid === s.rgid && c.sid === s.sid && c.terminal.port === s.terminal.port && c.terminal.addr === s.terminal.addr);
}

function imageOf(f: RecordFacts): ProcessImage {
  const img: ProcessImage = { paths: f.paths ?? [], time: f.time };
  if (f.paths && f.paths.length) img.executable = f.paths[0];
  if (f.argv) img.argv = f.argv;
  if (f.argvTruncated) img.argvTruncated = true;
  if (f.env) img.env = f.env;
  if (f.file) img.file = f.file;
  if (f.code) img.code = f.code;
  return img;
}

const snap = (p: ProcessInfo): ProcessInfo => ({ ...p });

export class ProcessTable {
  readonly stats: ActivityStats = emptyStats();
  private readonly procs = new Map<number, ProcessInfo>();
  private readonly maxPrev: number;
  private readonly failures: boolean;
  private readonly maxProcs: number;
  private seq = 0;

  constructor(opts: ProcessTableOptions = {}) {
    this.maxPrev = opts.maxPreviousImages ?? 4;
    this.failures = opts.failures ?? true;
    this.maxProcs = opts.maxProcesses ?? 1_000_000;
  }

  /** Live processes. */
  get size(): number {
    return this.procs.size;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.procs.get(pid);
  }

  /** Snapshots of every live process, by pid. */
  live(): ProcessInfo[] {
    return [...this.procs.values()].map(snap).sort((a, b) => a.pid - b.pid);
  }

  /** Applies one record's facts (in time order); `emit` receives the resulting events. */
  apply(f: RecordFacts, emit: (e: ProcessEvent) => void): void {
    this.stats.records++;
    const lc = f.lifecycle;
    if (!lc) {
      if (f.subject) this.touch(f.subject, f.time, true);
      return;
    }
    this.stats.lifecycleRecords++;
    switch (lc.kind) {
      case 'fork':
      case 'spawn':
        return this.launch(f, lc.kind, lc.action, emit);
      case 'exec':
        return this.exec(f, lc.action, emit);
      case 'exit':
        return this.exit(f, emit);
    }
  }

  private newEntity(pid: number, time: number): string {
    return `${pid}@${time}#${++this.seq}`;
  }

  /** The subject's process, created as reconstructed when unknown; credentials refreshed. */
  private touch(s: SubjectFacts, time: number, countMiss: boolean): ProcessInfo {
    let p = this.procs.get(s.pid);
    if (!p) {
      if (countMiss) this.stats.missForkSubject++;
      p = {
        entityId: this.newEntity(s.pid, time), pid: s.pid, firstSeen: time, lastSeen: time, reconstructed: true,
        previous: [], cred: s.cred,
      };
      this.add(p);
      return p;
    }
    if (time > p.lastSeen) p.lastSeen = time;
    if (!sameCred(p.cred, s.cred)) p.cred = s.cred;
    return p;
  }

  private add(p: ProcessInfo): void {
    this.procs.set(p.pid, p);
    if (this.procs.size > this.maxProcs) this.evict();
  }

  /** Drops the least recently seen tenth of the table (lost exits would otherwise grow it without end). */
  private evict(): void {
    const all = [...this.procs.values()].sort((a, b) => a.lastSeen - b.lastSeen);
    const n = Math.max(1, Math.floor(all.length / 10));
    for (let i = 0; i < n; i++) this.procs.delete(all[i].pid);
    this.stats.evicted += n;
  }

  private launch(f: RecordFacts, kind: 'fork' | 'spawn', action: string, emit: (e: ProcessEvent) => void): void {
    const s = f.subject;
    const actor = s ? this.touch(s, f.time, true) : undefined;
    const launchType: LaunchType = kind === 'fork' ? 'fork' : 'spawn';
    const ok = f.status === 0 && f.childPid !== undefined && actor !== undefined;
    if (!ok) {
      if (!this.failures || !actor) return;
      const e: ProcessEvent = {
        kind: 'launch', launchType, record: kind, action, time: f.time, event: f.event, success: false,
        status: f.status, retval: f.retval, process: snap(actor), actor: snap(actor), recordOffset: f.offset,
      };
      if (kind === 'spawn') e.attempted = imageOf(f);
      emit(e);
      return;
    }
    const pid = f.childPid!;
    const old = this.procs.get(pid);
    let child: ProcessInfo;
    if (old && old.reconstructed && old.firstSeen >= f.time && pid !== actor.pid) {
      // Seen early through its own records (they overtook the fork): the same process, now with its parent.
      child = old;
      child.reconstructed = false;
      if (kind === 'fork' && !child.image && actor.image) child.image = actor.image;
    } else {
      if (old) this.endInferred(old, f.time, 'pid-reused', emit);
      child = {
        entityId: this.newEntity(pid, f.time), pid, firstSeen: f.time, lastSeen: f.time, reconstructed: false,
        previous: [], cred: actor.cred,
      };
      if (kind === 'fork' && actor.image) child.image = actor.image;
      this.add(child);
    }
    child.ppid = actor.pid;
    child.parentEntityId = actor.entityId;
    child.start = f.time;
    child.launchedBy = action;
    if (kind === 'spawn') {
      const img = imageOf(f);
      if (child.image && child.image !== img) child.previous = this.pushPrev(child.previous, child.image);
      child.image = img;
    }
    const a = snap(actor);
    emit({
      kind: 'launch', launchType, record: kind, action, time: f.time, event: f.event, success: true, status: f.status,
      retval: f.retval, process: snap(child), parent: a, actor: a, recordOffset: f.offset,
    });
  }

  private exec(f: RecordFacts, action: string, emit: (e: ProcessEvent) => void): void {
    const s = f.subject;
    if (!s) return;
    if (!this.procs.has(s.pid)) this.stats.missExecSubject++;
    const p = this.touch(s, f.time, false);
    const parent = p.ppid !== undefined ? this.parentOf(p) : undefined;
    if (f.status !== 0) {
      if (!this.failures) return;
      const me = snap(p);
      const e: ProcessEvent = {
        kind: 'launch', launchType: 'exec', record: 'exec', action, time: f.time, event: f.event, success: false,
        status: f.status, retval: f.retval, process: me, actor: me, attempted: imageOf(f), recordOffset: f.offset,
      };
      if (parent) e.parent = snap(parent);
      emit(e);
      return;
    }
    const prev = p.image;
    if (prev) p.previous = this.pushPrev(p.previous, prev);
    p.image = imageOf(f);
    const me = snap(p);
    const e: ProcessEvent = {
      kind: 'launch', launchType: 'exec', record: 'exec', action, time: f.time, event: f.event, success: true,
      status: f.status, retval: f.retval, process: me, actor: me, recordOffset: f.offset,
    };
    if (prev) e.previousImage = prev;
    if (parent) e.parent = snap(parent);
    emit(e);
  }

  private exit(f: RecordFacts, emit: (e: ProcessEvent) => void): void {
    const s = f.subject;
    if (!s) return;
    if (!this.procs.has(s.pid)) this.stats.missExitSubject++;
    const p = this.touch(s, f.time, false);
    p.exit = { time: f.time, status: f.exitStatus, value: f.exitValue, reason: 'exit' };
    const parent = p.ppid !== undefined ? this.parentOf(p) : undefined;
    this.procs.delete(p.pid);
    const me = snap(p);
    const e: ProcessEvent = {
      kind: 'terminate', record: 'exit', action: 'exit', time: f.time, event: f.event, success: f.status === 0,
      status: f.status, retval: f.retval, process: me, actor: me, recordOffset: f.offset,
    };
    if (parent) e.parent = snap(parent);
    emit(e);
  }

  /** The live parent, only if it is the very process that launched this one (not a later holder of its pid). */
  private parentOf(p: ProcessInfo): ProcessInfo | undefined {
    const q = this.procs.get(p.ppid!);
    return q && q.entityId === p.parentEntityId ? q : undefined;
  }

  private endInferred(p: ProcessInfo, time: number, reason: 'pid-reused', emit: (e: ProcessEvent) => void): void {
    this.stats.pidReused++;
    this.procs.delete(p.pid);
    p.exit = { time, reason };
    const parent = p.ppid !== undefined ? this.parentOf(p) : undefined;
    const me = snap(p);
    const e: ProcessEvent = {
      kind: 'terminate', action: reason, time, event: 0, success: true, status: 0, retval: 0, process: me, actor: me,
      recordOffset: -1, inferred: true,
    };
    if (parent) e.parent = snap(parent);
    emit(e);
  }

  private pushPrev(prev: ProcessImage[], img: ProcessImage): ProcessImage[] {
    if (this.maxPrev <= 0) return prev;
    const next = prev.length >= this.maxPrev ? prev.slice(prev.length - this.maxPrev + 1) : prev.slice();
    next.push(img);
    return next;
  }
}
