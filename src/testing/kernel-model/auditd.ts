/**
 * auditd and the kernel's trail vnode (kernel-audit-pipe.md §11, §13): trail naming, rotation by size or on
 * request, the `current` symlink (briefly absent during a rotation), crash recovery at start, expire-after, several
 * `dir:` entries. Names use the model's simulated clock, in UTC, exactly as getTSstr() formats them.
 */
import { closeSync, constants as C, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { TruthWriter } from './truth.js';

export interface AuditdOptions {
  /** Trail directories (audit_control `dir:`), in order; auditd moves to the next on ENOSPC. */
  dirs: string[];
  /** Rotate when the active file reaches this many bytes (audit_control `filesz`); 0 = never by size. */
  filesz: number;
  /** expire-after: remove the oldest terminated trails while their total size exceeds `bytes` or their end time is older than `ageSec`. */
  expireAfter?: { bytes?: number; ageSec?: number };
  /** How long `current` stays absent during a rotation (ms, default 0: removed and re-created at once). */
  symlinkGapMs?: number;
  /** Path of the `current` symlink (default `<dirs[0]>/current`). */
  currentLink?: string;
}

interface ActiveTrail {
  index: number;
  dir: string;
  prefix: string;
  path: string;
  fd: number;
  size: number;
}

const TERMINATED = /^(\d{14})\.(\d{14})$/;
const TRAIL_NAME = /^(\d{14})\.(\d{14}|not_terminated|crash_recovery)$/;

/** getTSstr(): YYYYMMDDhhmmss of a time in UTC. */
export function trailTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function parseTimestamp(ts: string): number {
  return Date.UTC(+ts.slice(0, 4), +ts.slice(4, 6) - 1, +ts.slice(6, 8), +ts.slice(8, 10), +ts.slice(10, 12), +ts.slice(12, 14));
}

export class Auditd {
  private readonly opts: AuditdOptions;
  private readonly clock: () => number;
  private readonly truth: TruthWriter;
  readonly currentLink: string;
  private dirIndex = 0;
  private nextFileIndex = 0;
  active: ActiveTrail | null = null;
  private linkTimer: NodeJS.Timeout | null = null;
  rotations = 0;
  skippedRotations = 0;

  constructor(opts: AuditdOptions, clock: () => number, truth: TruthWriter) {
    if (opts.dirs.length === 0) throw new Error('kernel model: at least one trail directory is needed');
    this.opts = { ...opts, dirs: opts.dirs.map((d) => resolve(d)) };
    this.clock = clock;
    this.truth = truth;
    this.currentLink = resolve(opts.currentLink ?? join(this.opts.dirs[0]!, 'current'));
    for (const d of this.opts.dirs) mkdirSync(d, { recursive: true });
  }

  get dirs(): readonly string[] {
    return this.opts.dirs;
  }

  /**
   * auditd start: a `current` that points at an existing *.not_terminated file means the last run died; that file
   * becomes *.crash_recovery. Then the first trail is opened. Returns the recovered path, if any (the caller writes
   * the AUE_audit_recovery record).
   */
  start(): string | null {
    let recovered: string | null = null;
    let target: string | null = null;
    try {
      if (lstatSync(this.currentLink).isSymbolicLink()) target = resolve(dirname(this.currentLink), readlinkSync(this.currentLink));
    } catch {
      target = null;
    }
    if (target !== null) {
      if (target.endsWith('.not_terminated') && existsSync(target)) {
        recovered = target.slice(0, -'.not_terminated'.length) + '.crash_recovery';
        renameSync(target, recovered);
        this.truth.event({ type: 'crash-recovery', from: target, path: recovered });
      }
      unlinkSync(this.currentLink);
      this.truth.event({ type: 'current-unlink', reason: 'start' });
    }
    this.open(this.opts.dirs[this.dirIndex]!);
    this.linkCurrent();
    return recovered;
  }

  /** Creates NEWTS.not_terminated and points the kernel at it (auditctl): from now on records go there. */
  private open(dir: string): ActiveTrail {
    for (;;) {
      const prefix = trailTimestamp(this.clock());
      const path = join(dir, prefix + '.not_terminated');
      try {
        const fd = openSync(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_APPEND, 0o440);
        const a: ActiveTrail = { index: this.nextFileIndex++, dir, prefix, path, fd, size: 0 };
        this.active = a;
        this.truth.event({ type: 'trail-open', file: a.index, path });
        return a;
      } catch (err) {
        // A file of this very second already exists (a restart within the same second): the name must differ.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        this.bumpClock();
      }
    }
  }

  /** Set by the kernel: moves the simulated clock forward by one second (only used to avoid name clashes). */
  bumpClock: () => void = () => undefined;

  /** Appends bytes to the active trail (one synchronous write, IO_APPEND|IO_UNIT). Returns the write offset. */
  write(buf: Buffer, start: number, len: number): number {
    const a = this.active;
    if (!a) throw new Error('kernel model: no active trail');
    const at = a.size;
    let off = 0;
    while (off < len) off += writeSync(a.fd, buf, start + off, len - off);
    a.size += len;
    return at;
  }

  /** The size trigger (AUDIT_TRIGGER_ROTATE_KERNEL). */
  needsRotation(): boolean {
    return this.opts.filesz > 0 && this.active !== null && this.active.size >= this.opts.filesz;
  }

  /**
   * swap_audit_file(): new file first (the kernel switches to it), then OLD.not_terminated → OLD.NEWTS, `current`
   * removed, and re-created (after symlinkGapMs). Skipped when the new name would have the same second.
   */
  rotate(reason: string, nextDir = false): boolean {
    const old = this.active;
    if (!old) return false;
    const ts = trailTimestamp(this.clock());
    if (ts === old.prefix) {
      this.skippedRotations++;
      this.truth.event({ type: 'rotate-skipped', reason, file: old.index });
      return false;
    }
    if (nextDir) this.dirIndex = (this.dirIndex + 1) % this.opts.dirs.length;
    this.open(this.opts.dirs[this.dirIndex]!);
    this.terminate(old, ts);
    this.rotations++;
    this.truth.event({ type: 'rotate', reason });
    this.unlinkCurrent('rotate');
    const gap = this.opts.symlinkGapMs ?? 0;
    if (gap > 0) {
      if (this.linkTimer) clearTimeout(this.linkTimer);
      this.linkTimer = setTimeout(() => {
        this.linkTimer = null;
        this.linkCurrent();
      }, gap);
    } else {
      this.linkCurrent();
    }
    this.expire();
    return true;
  }

  private terminate(a: ActiveTrail, endTs: string): void {
    closeSync(a.fd);
    const to = join(a.dir, `${a.prefix}.${endTs}`);
    renameSync(a.path, to);
    this.truth.event({ type: 'trail-rename', file: a.index, from: a.path, path: to, size: a.size });
  }

  private unlinkCurrent(reason: string): void {
    try {
      unlinkSync(this.currentLink);
      this.truth.event({ type: 'current-unlink', reason });
    } catch {
      /* already absent */
    }
  }

  private linkCurrent(): void {
    if (!this.active) return;
    try {
      unlinkSync(this.currentLink);
    } catch {
      /* absent */
    }
    symlinkSync(this.active.path, this.currentLink);
    this.truth.event({ type: 'current-link', target: this.active.path });
  }

  /** audit -t: terminate the active file (START.END) and remove `current`. */
  closeAndDie(): void {
    if (this.linkTimer) clearTimeout(this.linkTimer);
    this.linkTimer = null;
    const a = this.active;
    if (!a) return;
    let ts = trailTimestamp(this.clock());
    if (ts === a.prefix) {
      this.bumpClock();
      ts = trailTimestamp(this.clock());
    }
    this.terminate(a, ts);
    this.active = null;
    this.unlinkCurrent('shutdown');
  }

  /** auditd_expire_trails(): skips the active file; oldest first by end time (mtime when the name has none). */
  expire(): string[] {
    const ex = this.opts.expireAfter;
    if (!ex || (ex.bytes === undefined && ex.ageSec === undefined)) return [];
    const files: Array<{ path: string; end: number; size: number }> = [];
    for (const dir of this.opts.dirs) {
      for (const name of readdirSync(dir)) {
        const m = TRAIL_NAME.exec(name);
        const path = join(dir, name);
        if (!m || path === this.active?.path) continue;
        const st = statSync(path);
        const t = TERMINATED.exec(name);
        files.push({ path, end: t ? parseTimestamp(t[2]!) : st.mtimeMs, size: st.size });
      }
    }
    files.sort((a, b) => a.end - b.end || (a.path < b.path ? -1 : 1));
    let total = files.reduce((n, f) => n + f.size, 0) + (this.active?.size ?? 0);
    const now = this.clock();
    const removed: string[] = [];
    for (const f of files) {
      const tooBig = ex.bytes !== undefined && total > ex.bytes;
      const tooOld = ex.ageSec !== undefined && now - f.end > ex.ageSec * 1000;
      if (!tooBig && !tooOld) break;
      unlinkSync(f.path);
      total -= f.size;
      removed.push(f.path);
      const name = basename(f.path);
      this.truth.event({ type: 'expire', path: f.path, start: name.slice(0, 14), end: name.slice(15) });
    }
    return removed;
  }

  /** Closes the active file without terminating it (what a crash leaves behind). */
  abandon(): void {
    if (this.linkTimer) clearTimeout(this.linkTimer);
    if (this.active) closeSync(this.active.fd);
    this.active = null;
  }
}
