/**
 * The process table: applies record facts in time order and says what happened (peers.md §9.2).
 *
 * - fork/spawn (return 0): a new process for arg #0 "child PID", parent = the subject. A failed one creates nothing.
 * - exec (return 0): same pid, new image; the old one moves to `previous`. A failed exec changes nothing.
 * - exit: the process ends and leaves the table once its terminate event is out.
 * - pid reuse: a launch reporting a pid that is still live ends the old process first (inferred terminate), unless
 *   that entry was itself only reconstructed from records at or after the launch time, in which case it is the same
 *   process seen early (its records overtook the fork) and just gets its parent.
 * - any other record: its subject updates the credentials of its process, creating it (reconstructed, parent
 *   unknown) if it was not known.
 * - stale records (applied late, beyond the reorder bound): a record older than the start of the live holder of its
 *   pid belongs to an earlier holder, and a record for a pid that exited after the record's time belongs to the
 *   exited process; neither changes the table (counted in `staleRecords`), so late records never resurrect a
 *   process or end its successor.
 *
 * Memory is bounded by the live processes: an exited process is dropped as soon as its terminate event is out. Only
 * a tombstone (pid → exit time) stays, for `tombstoneMs` of record time, to recognise stale records. `maxProcesses`
 * caps the table against trails whose exit records were lost: past the cap the least recently seen tenth is
 * dropped (counted in `evicted`, no event: the processes may still be running).
 */
import type { RecordFacts } from './facts.js';
import type { ActivityStats, Credentials, LaunchType, ProcessEvent, ProcessImage, ProcessInfo } from './types.js';

export interface ProcessTableOptions {
  /** Earlier images kept per process (ECS process.previous). Default 4. */
  maxPreviousImages?: number;
  /** Emit events for failed fork/spawn/exec calls (success: false). Default true. */
  failures?: boolean;
  /** Most processes held; beyond it the least recently seen are evicted. Default 1,000,000. */
  maxProcesses?: number;
  /** How long (record time, ms) an exited pid is remembered to recognise stale records. Default 60,000. */
  tombstoneMs?: number;
}

export function emptyStats(): ActivityStats {
  return {
    records: 0, lifecycleRecords: 0, missForkSubject: 0, missExecSubject: 0, missExitSubject: 0, pidReused: 0,
    lateRecords: 0, staleRecords: 0, timeJumps: 0, evicted: 0, forkWithoutChild: 0, undecodable: 0,
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

/**
 * A process as it is now, for an event or a listing. Every key is always written (undefined when unknown) so all
 * process objects share one shape; an explicit literal is several times cheaper than a spread here.
 */
function snap(p: ProcessInfo): ProcessInfo {
  return {
    entityId: p.entityId, pid: p.pid, ppid: p.ppid, parentEntityId: p.parentEntityId, start: p.start,
    firstSeen: p.firstSeen, lastSeen: p.lastSeen, reconstructed: p.reconstructed, launchedBy: p.launchedBy,
    image: p.image, previous: p.previous, cred: p.cred, exit: p.exit,
  };
}

/** A new table entry (all keys present, see snap). */
function newProcess(entityId: string, pid: number, time: number, reconstructed: boolean, cred: Credentials): ProcessInfo {
  return {
    entityId, pid, ppid: undefined, parentEntityId: undefined, start: undefined, firstSeen: time, lastSeen: time,
    reconstructed, launchedBy: undefined, image: undefined, previous: [], cred, exit: undefined,
  };
}

type Emit = (e: ProcessEvent) => void;

const MS3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

export class ProcessTable {
  readonly stats: ActivityStats = emptyStats();
  private readonly procs = new Map<number, ProcessInfo>();
  private readonly maxPrev: number;
  private readonly failures: boolean;
  private readonly maxProcs: number;
  private readonly tombMs: number;
  /** pid → exit time of its last holder; `tombQueue` holds the same in exit order, for expiry. */
  private readonly tombs = new Map<number, number>();
  private tombQueue: number[] = [];
  private tombHead = 0;
  private seq = 0;

  constructor(opts: ProcessTableOptions = {}) {
    this.maxPrev = opts.maxPreviousImages ?? 4;
    this.failures = opts.failures ?? true;
    this.maxProcs = opts.maxProcesses ?? 1_000_000;
    this.tombMs = opts.tombstoneMs ?? 60_000;
  }

  /** Live processes. */
  get size(): number {
    return this.procs.size;
  }

  /** Exited pids still remembered (bounded by the exits within `tombstoneMs`). */
  get tombstones(): number {
    return this.tombs.size;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.procs.get(pid);
  }

  /** Snapshots of every live process, by pid. */
  live(): ProcessInfo[] {
    return [...this.procs.values()].map(snap).sort((a, b) => a.pid - b.pid);
  }

  /** Applies one record's facts (in time order); `emit` receives the resulting events. */
  apply(f: RecordFacts, emit: Emit): void {
    this.stats.records++;
    const lc = f.lifecycle;
    if (!lc) {
      if (f.cred) this.touch(f.pid, f.cred, f.time, true);
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

  /** `pid@time#seq`; the time text is built from small integers (number→string of a 13-digit double is slow). */
  private newEntity(pid: number, time: number): string {
    const ms = time % 1000;
    if (time < 0 || !Number.isInteger(time) || time >= 2 ** 31 * 1000) return `${pid}@${time}#${++this.seq}`;
    return `${pid}@${(time - ms) / 1000}${MS3[ms]}#${++this.seq}`;
  }

  /**
   * The cheap path for a record that is not a lifecycle record: when its subject is a live process with the very
   * same (interned) credentials and the record is not older than that process's start, applying it in time order
   * would only move `lastSeen`, which is order-free (a maximum). Returns false when the record must go through the
   * reorder buffer and `apply` instead.
   */
  touchInPlace(pid: number, cred: Credentials, time: number): boolean {
    const p = this.procs.get(pid);
    if (p === undefined || p.cred !== cred || time < p.firstSeen || (p.start !== undefined && time < p.start)) return false;
    this.stats.records++;
    if (time > p.lastSeen) p.lastSeen = time;
    return true;
  }

  /**
   * The subject's process, created as reconstructed when unknown; credentials refreshed. Undefined for a stale
   * record (see the module comment).
   */
  private touch(pid: number, cred: Credentials, time: number, countMiss: boolean): ProcessInfo | undefined {
    let p = this.procs.get(pid);
    if (!p) {
      const ended = this.tombs.get(pid);
      if (ended !== undefined && time <= ended) {
        this.stats.staleRecords++;
        return undefined;
      }
      if (countMiss) this.stats.missForkSubject++;
      p = newProcess(this.newEntity(pid, time), pid, time, true, cred);
      this.add(p);
      return p;
    }
    if (p.start !== undefined && time < p.start) {
      this.stats.staleRecords++;
      return undefined;
    }
    if (time > p.lastSeen) p.lastSeen = time;
    else if (time < p.firstSeen) p.firstSeen = time;
    if (!sameCred(p.cred, cred)) p.cred = cred;
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

  private bury(pid: number, time: number): void {
    this.procs.delete(pid);
    this.tombs.set(pid, time);
    const q = this.tombQueue;
    q.push(pid, time);
    // Expire tombstones older than the window (pairs pid, time in exit order).
    const horizon = time - this.tombMs;
    let h = this.tombHead;
    while (h < q.length && q[h + 1] < horizon) {
      if (this.tombs.get(q[h]) === q[h + 1]) this.tombs.delete(q[h]);
      h += 2;
    }
    if (h >= 2048 && h * 2 >= q.length) {
      this.tombQueue = q.slice(h);
      h = 0;
    }
    this.tombHead = h;
  }

  private launch(f: RecordFacts, kind: 'fork' | 'spawn', action: string, emit: Emit): void {
    if (!f.cred) return;
    const launchType: LaunchType = kind === 'fork' ? 'fork' : 'spawn';
    const actor = this.touch(f.pid, f.cred, f.time, true);
    if (f.status !== 0) {
      if (!this.failures || !actor) return;
      const a = snap(actor);
      const e: ProcessEvent = {
        kind: 'launch', launchType, record: kind, action, time: f.time, event: f.event, success: false,
        status: f.status, retval: f.retval, process: a, actor: a, recordOffset: f.offset,
      };
      if (kind === 'spawn') e.attempted = imageOf(f);
      emit(e);
      return;
    }
    const pid = f.childPid;
    if (pid === undefined || pid === f.pid) {
      this.stats.forkWithoutChild++;
      return;
    }
    // A late fork whose parent already exited still creates the child; its parent is then known by pid only.
    const parent: ProcessInfo = actor ?? newProcess('', f.pid, f.time, true, f.cred);
    const old = this.procs.get(pid);
    let child: ProcessInfo;
    if (old && old.reconstructed && old.firstSeen >= f.time) {
      // Seen early through its own records (they overtook the fork): the same process, now with its parent.
      child = old;
      child.reconstructed = false;
      if (kind === 'fork' && !child.image && parent.image) child.image = parent.image;
    } else {
      if (old) this.endInferred(old, f.time, emit);
      this.tombs.delete(pid);
      child = newProcess(this.newEntity(pid, f.time), pid, f.time, false, parent.cred);
      if (kind === 'fork' && parent.image) child.image = parent.image;
      this.add(child);
    }
    child.ppid = parent.pid;
    if (parent.entityId) child.parentEntityId = parent.entityId;
    child.start = f.time;
    child.launchedBy = action;
    if (kind === 'spawn') {
      if (child.image) child.previous = this.pushPrev(child.previous, child.image);
      child.image = imageOf(f);
    }
    const a = snap(parent);
    emit({
      kind: 'launch', launchType, record: kind, action, time: f.time, event: f.event, success: true, status: f.status,
      retval: f.retval, process: snap(child), parent: a, actor: a, recordOffset: f.offset,
    });
  }

  private exec(f: RecordFacts, action: string, emit: Emit): void {
    if (!f.cred) return;
    const known = this.procs.has(f.pid);
    const p = this.touch(f.pid, f.cred, f.time, false);
    if (!p) return;
    if (!known) this.stats.missExecSubject++;
    const parent = this.parentOf(p);
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

  private exit(f: RecordFacts, emit: Emit): void {
    if (!f.cred) return;
    const known = this.procs.has(f.pid);
    const p = this.touch(f.pid, f.cred, f.time, false);
    if (!p) return;
    if (!known) this.stats.missExitSubject++;
    p.exit = { time: f.time, status: f.exitStatus, value: f.exitValue, reason: 'exit' };
    const parent = this.parentOf(p);
    this.bury(p.pid, f.time);
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
    if (p.ppid === undefined) return undefined;
    const q = this.procs.get(p.ppid);
    return q && q.entityId === p.parentEntityId ? q : undefined;
  }

  private endInferred(p: ProcessInfo, time: number, emit: Emit): void {
    this.stats.pidReused++;
    this.procs.delete(p.pid);
    p.exit = { time, reason: 'pid-reused' };
    const parent = this.parentOf(p);
    const me = snap(p);
    const e: ProcessEvent = {
      kind: 'terminate', action: 'pid-reused', time, event: 0, success: true, status: 0, retval: 0, process: me,
      actor: me, recordOffset: -1, inferred: true,
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
