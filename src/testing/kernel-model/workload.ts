/**
 * The workload generator: a deterministic (by seed) population of processes and login sessions doing what audited
 * systems do — fork/vfork, execve, exit, open/close, unlink, connect/accept, logins, su, sudo — written as batches of
 * byte-exact BSM records by copying templates and patching the varying fields (templates.ts).
 */
import type { Personality } from './audit-pipe.js';
import { buildTemplates, KIND_USER, recoveryTemplate, type Shape, type Template } from './templates.js';

/** mulberry32: small, fast, good enough for workloads; the whole model is reproducible from one seed. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** One batch of generated records, in commit order, with what the kernel needs to route each. */
export interface Batch {
  buf: Buffer;
  count: number;
  start: Int32Array;
  len: Int32Array;
  event: Uint16Array;
  auid: Uint32Array;
  kind: Uint8Array;
  failed: Uint8Array;
  /** Ground-truth sequence number of each record. */
  seq: Float64Array;
}

interface Proc {
  pid: number;
  auid: number;
  euid: number;
  egid: number;
  ruid: number;
  rgid: number;
  sid: number;
}

/** A record a test asks for explicitly (KernelModel.emit). */
export interface EmitSpec {
  shape: Shape;
  count?: number;
  auid?: number;
  failed?: boolean;
  /** Overrides the header's event number (to exercise the event→class map). */
  event?: number;
  pid?: number;
  /** Index of the template variant of this shape (cycles when larger). */
  variant?: number;
}

export interface WorkloadOptions {
  seed: number;
  personality: Personality;
  /** Write each record's ground-truth sequence number into its subject's terminal port (default true). */
  tagSeq?: boolean;
}

const WEIGHTS: Array<[Shape, number]> = [
  ['open', 30],
  ['close', 24],
  ['execve', 8],
  ['fork', 6],
  ['vfork', 1],
  ['exit', 7],
  ['unlink', 4],
  ['connect', 6],
  ['accept', 3],
  ['login', 1],
  ['logout', 1],
  ['su', 1],
  ['sshd', 1],
  ['sudo', 1],
  ['posix_spawn', 3],
  ['session', 1],
];

const ACT_PLAIN = 0;
const ACT_SPAWN = 1;
const ACT_EXIT = 2;
const ACT_USER = 3;

const AUIDS = [501, 502, 0, 0xffffffff, 503];
const AU_DEFAUDITID = 0xffffffff;

function put32(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

const PATCH_ARG = 1;
const PATCH_RET = 2;
const patchCache = new WeakMap<Template, number>();

/** Which fields a value patches in a template: the child pid in arg32 (spawns), the result in return (fds...). */
function patchFlags(t: Template): number {
  let f = patchCache.get(t);
  if (f === undefined) {
    f = 0;
    if (t.arg >= 0 && (t.shape === 'fork' || t.shape === 'vfork' || t.shape === 'posix_spawn')) f |= PATCH_ARG;
    if (t.ret >= 0 && !t.failed && t.shape !== 'exit' && t.shape !== 'close' && t.shape !== 'unlink') f |= PATCH_RET;
    patchCache.set(t, f);
  }
  return f;
}

export class Workload {
  readonly personality: Personality;
  private readonly rng: Prng;
  private readonly tagSeq: boolean;
  private readonly templates: Map<Shape, Template[]>;
  private readonly pick: Shape[] = [];
  private readonly maxLen: number;
  private readonly byShape = new Map<Shape, { all: Template[]; ok: Template[]; failed: Template[] }>();
  private procs: Proc[] = [];
  private nextPid = 300;
  private nextSid = 100001;
  /** Sequence number of the next record (ground truth), shared by every source of records. */
  nextSeq = 1;

  constructor(opts: WorkloadOptions) {
    this.personality = opts.personality;
    this.rng = new Prng(opts.seed);
    this.tagSeq = opts.tagSeq ?? true;
    this.templates = buildTemplates(opts.personality);
    for (const [shape, w] of WEIGHTS) {
      if (!this.templates.has(shape)) continue;
      for (let i = 0; i < w; i++) this.pick.push(shape);
    }
    let max = 0;
    for (const [shape, list] of this.templates) {
      for (const t of list) max = Math.max(max, t.bytes.length);
      this.byShape.set(shape, { all: list, ok: list.filter((t) => !t.failed), failed: list.filter((t) => t.failed) });
    }
    this.maxLen = max;
    for (let i = 0; i < 48; i++) this.procs.push(this.newProc(AUIDS[i % AUIDS.length]!));
  }

  private newProc(auid: number): Proc {
    const uid = auid === AU_DEFAUDITID ? 0 : auid;
    const p: Proc = { pid: this.allocPid(), auid, euid: uid, egid: uid === 0 ? 0 : 20, ruid: uid, rgid: uid === 0 ? 0 : 20, sid: auid === AU_DEFAUDITID ? 0 : this.nextSid++ };
    return p;
  }

  private allocPid(): number {
    const pid = this.nextPid++;
    if (this.nextPid > 99998) this.nextPid = 300;
    return pid;
  }

  private static newBatch(capacity: number, bytes: number): Batch {
    return {
      buf: Buffer.allocUnsafeSlow(bytes),
      count: 0,
      start: new Int32Array(capacity),
      len: new Int32Array(capacity),
      event: new Uint16Array(capacity),
      auid: new Uint32Array(capacity),
      kind: new Uint8Array(capacity),
      failed: new Uint8Array(capacity),
      seq: new Float64Array(capacity),
    };
  }

  /** Appends one record from template `t` for process `p` at time `ms`; `value` fills arg32/return (child pid, fd). */
  private put(b: Batch, pos: number, t: Template, p: Proc, ms: number, value: number, event: number): number {
    const buf = b.buf;
    buf.set(t.bytes, pos);
    const sec = Math.floor(ms / 1000);
    put32(buf, pos + t.sec, sec);
    put32(buf, pos + t.msec, Math.floor(ms - sec * 1000));
    if (event !== t.event) {
      buf[pos + 6] = event >>> 8;
      buf[pos + 7] = event & 0xff;
    }
    const seq = this.nextSeq++;
    if (t.subj >= 0) {
      const s = pos + t.subj;
      put32(buf, s + 1, p.auid);
      put32(buf, s + 5, p.euid);
      put32(buf, s + 9, p.egid);
      put32(buf, s + 13, p.ruid);
      put32(buf, s + 17, p.rgid);
      put32(buf, s + 21, p.pid);
      put32(buf, s + 25, t.kind === KIND_USER ? p.pid : p.sid);
      if (this.tagSeq) put32(buf, s + 29, seq);
    }
    if (value >= 0) {
      const f = patchFlags(t);
      if (f & PATCH_ARG) put32(buf, pos + t.arg, value);
      if (f & PATCH_RET) put32(buf, pos + t.ret, value);
    }
    const i = b.count++;
    b.start[i] = pos;
    b.len[i] = t.bytes.length;
    b.event[i] = event;
    b.auid[i] = p.auid;
    b.kind[i] = t.kind;
    b.failed[i] = t.failed ? 1 : 0;
    b.seq[i] = seq;
    return pos + t.bytes.length;
  }

  private variant(shape: Shape, failed: boolean | undefined, index?: number): Template {
    const lists = this.byShape.get(shape);
    if (!lists) throw new Error(`kernel model: no '${shape}' records in the ${this.personality} personality`);
    const list = failed === undefined ? lists.all : failed ? lists.failed : lists.ok;
    if (list.length === 0) throw new Error(`kernel model: no ${failed ? 'failed' : 'successful'} '${shape}' record shape`);
    return list[index === undefined ? this.rng.int(list.length) : index % list.length]!;
  }

  /** What each pick does, resolved once (the per-record path avoids Map lookups and string switches). */
  private pickPlan: Array<{ action: number; all: Template[]; ok: Template[] }> | null = null;

  private plan(): Array<{ action: number; all: Template[]; ok: Template[] }> {
    if (this.pickPlan) return this.pickPlan;
    this.pickPlan = this.pick.map((shape) => {
      const lists = this.byShape.get(shape)!;
      const action =
        shape === 'fork' || shape === 'vfork' || shape === 'posix_spawn'
          ? ACT_SPAWN
          : shape === 'exit'
            ? ACT_EXIT
            : shape === 'login' || shape === 'logout' || shape === 'su' || shape === 'sshd' || shape === 'sudo'
              ? ACT_USER
              : ACT_PLAIN;
      return { action, all: lists.all, ok: lists.ok };
    });
    return this.pickPlan;
  }

  /** `count` records of the random workload, timed t0Ms + i·dtMs (simulated clock). */
  generate(count: number, t0Ms: number, dtMs: number): Batch {
    // user records come with their companion kernel record: room for two per draw
    const b = Workload.newBatch(count + 1, (count + 1) * this.maxLen);
    let pos = 0;
    const rng = this.rng;
    const plan = this.plan();
    const companions = this.byShape.get('audit_syscall')?.ok ?? [];
    const procs = this.procs;
    while (b.count < count) {
      const ms = t0Ms + b.count * dtMs;
      const step = plan[rng.int(plan.length)]!;
      const pi = rng.int(procs.length);
      const p = procs[pi]!;
      switch (step.action) {
        case ACT_SPAWN: {
          const child: Proc = { pid: this.allocPid(), auid: p.auid, euid: p.euid, egid: p.egid, ruid: p.ruid, rgid: p.rgid, sid: p.sid };
          const t = step.ok[rng.int(step.ok.length)]!;
          pos = this.put(b, pos, t, p, ms, child.pid, t.event);
          if (procs.length < 256) procs.push(child);
          else procs[rng.int(procs.length)] = child;
          break;
        }
        case ACT_EXIT: {
          const t = step.ok[rng.int(step.ok.length)]!;
          pos = this.put(b, pos, t, p, ms, -1, t.event);
          if (procs.length > 16) {
            procs[pi] = procs[procs.length - 1]!;
            procs.pop();
          }
          break;
        }
        case ACT_USER: {
          const t = step.all[rng.int(step.all.length)]!;
          pos = this.put(b, pos, t, p, ms, -1, t.event);
          if (b.count < count + 1) {
            if (companions.length === 0) throw new Error(`kernel model: no successful 'audit_syscall' record shape`);
            const k = companions[rng.int(companions.length)]!;
            pos = this.put(b, pos, k, p, ms, -1, k.event);
          }
          break;
        }
        default: {
          const t = step.all[rng.int(step.all.length)]!;
          pos = this.put(b, pos, t, p, ms, 3 + rng.int(60), t.event);
        }
      }
    }
    return b;
  }

  /** Explicit records (tests): each spec `count` times, at time ms. */
  emit(specs: EmitSpec[], ms: number): Batch {
    const total = specs.reduce((n, s) => n + (s.count ?? 1), 0);
    const b = Workload.newBatch(total, Math.max(1, total) * this.maxLen);
    let pos = 0;
    for (const s of specs) {
      for (let i = 0; i < (s.count ?? 1); i++) {
        const t = this.variant(s.shape, s.failed, s.variant ?? 0);
        const base = this.procs[0]!;
        const auid = s.auid ?? base.auid;
        const p: Proc = { ...base, auid, pid: s.pid ?? base.pid, euid: auid === AU_DEFAUDITID ? 0 : auid, ruid: auid === AU_DEFAUDITID ? 0 : auid };
        pos = this.put(b, pos, t, p, ms, s.shape === 'fork' || s.shape === 'vfork' ? this.allocPid() : 3, s.event ?? t.event);
      }
    }
    return b;
  }

  /** auditd's own records (startup, shutdown, recovery), as user records of an auditd process. */
  auditdRecord(shape: 'audit_startup' | 'audit_shutdown' | 'audit_recovery', ms: number, recoveredPath = ''): Batch {
    const t = shape === 'audit_recovery' ? recoveryTemplate(this.personality, recoveredPath) : this.variant(shape, false);
    const b = Workload.newBatch(1, t.bytes.length + 16);
    const auditd: Proc = { pid: 97, auid: AU_DEFAUDITID, euid: 0, egid: 0, ruid: 0, rgid: 0, sid: 0 };
    this.put(b, 0, t, auditd, ms, -1, t.event);
    return b;
  }
}

/** The i-th record of a batch (a view). */
export function recordOf(b: Batch, i: number): Buffer {
  return b.buf.subarray(b.start[i]!, b.start[i]! + b.len[i]!);
}
