/**
 * A test stand-in for auditd + the kernel's trail writer, doing to the file system exactly what auditd does
 * (kernel-audit-pipe.md §13.1–§13.4): `START.not_terminated` files, rotation as create → switch → rename to
 * `START.END` → unlink `current` → re-link `current`, `crash_recovery` at start, expiry of the oldest terminated
 * files, several directories. Time is a virtual clock so names are deterministic and rotations never collide.
 */
import { closeSync, existsSync, openSync, readdirSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function ts(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A minimal valid record: header32 + text token carrying `seq` (padded to `size` bytes) + trailer. */
export function makeRecord(seq: number, size = 40): Buffer {
  const text = Buffer.from(`rec ${seq} `.padEnd(Math.max(size - 28, 8), 'x'), 'latin1');
  const total = 18 + 3 + text.length + 1 + 7;
  const b = Buffer.alloc(total);
  let p = 0;
  b[p++] = 0x14;
  b.writeUInt32BE(total, p); p += 4;
  b[p++] = 11;
  b.writeUInt16BE(6152, p); p += 2; // AUE_login, any event will do
  b.writeUInt16BE(0, p); p += 2;
  b.writeUInt32BE(1_700_000_000 + seq, p); p += 4;
  b.writeUInt32BE(seq % 1000, p); p += 4;
  b[p++] = 0x28;
  b.writeUInt16BE(text.length + 1, p); p += 2;
  text.copy(b, p); p += text.length;
  b[p++] = 0;
  b[p++] = 0x13;
  b.writeUInt16BE(0xb105, p); p += 2;
  b.writeUInt32BE(total, p);
  return b;
}

/** The sequence number written into a record by makeRecord. */
export function recordSeq(bytes: Buffer): number {
  return Number(/^rec (\d+) /.exec(bytes.subarray(21).toString('latin1'))![1]);
}

export interface RotateOptions {
  /** Move to the next directory (auditd does on low space). */
  nextDir?: boolean;
  /** Runs after the rename and unlink of `current`, before `current` is re-created (the window it is missing). */
  beforeLink?: () => Promise<void> | void;
}

export class FakeAuditd {
  readonly dirs: string[];
  readonly currentLink: string;
  /** Virtual clock (ms since the epoch). */
  now: number;
  private dirIndex = 0;
  private fd?: number;
  private active?: { dir: string; start: string };

  constructor(dirs: string[], startMs = Date.UTC(2026, 0, 1, 0, 0, 0)) {
    this.dirs = dirs;
    this.currentLink = join(dirs[0], 'current');
    this.now = startMs;
  }

  get activePath(): string | undefined {
    return this.active && join(this.active.dir, this.active.start + '.not_terminated');
  }

  /** auditd start: a `current` pointing at a not_terminated file means the last run crashed. */
  start(): void {
    try {
      const target = readlinkSync(this.currentLink);
      if (target.endsWith('.not_terminated') && existsSync(target)) {
        renameSync(target, target.replace(/not_terminated$/, 'crash_recovery'));
      }
      unlinkSync(this.currentLink);
    } catch {
      // no current link: clean start
    }
    this.openNew();
    this.link();
  }

  /** Appends bytes, optionally in pieces (a reader can see a record half written). */
  write(bytes: Buffer): void {
    if (this.fd === undefined) throw new Error('auditd is not running');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  /** Rotation as auditd does it; returns false when skipped (same second, "Not ready to terminate trail file yet"). */
  async rotate(opts: RotateOptions = {}, advanceMs = 1000): Promise<boolean> {
    this.now += advanceMs;
    const old = this.active!;
    const newStart = ts(this.now);
    if (newStart === old.start) return false;
    if (opts.nextDir) this.dirIndex = (this.dirIndex + 1) % this.dirs.length;
    const oldFd = this.fd!;
    this.openNew(); // 1. create the new file; auditctl(): the kernel writes only there from now on
    closeSync(oldFd);
    renameSync(join(old.dir, old.start + '.not_terminated'), join(old.dir, `${old.start}.${newStart}`)); // 2.
    unlinkSync(this.currentLink);
    await opts.beforeLink?.();
    this.link(); // 3.
    return true;
  }

  /** `audit -t`: terminate with the current time, remove `current`. */
  stop(advanceMs = 1000): string {
    this.now += advanceMs;
    const old = this.active!;
    closeSync(this.fd!);
    this.fd = undefined;
    const name = `${old.start}.${ts(this.now)}`;
    renameSync(join(old.dir, old.start + '.not_terminated'), join(old.dir, name));
    unlinkSync(this.currentLink);
    this.active = undefined;
    return name;
  }

  /** auditd (or the machine) dies: the file stays not_terminated and `current` keeps pointing at it. */
  crash(): void {
    closeSync(this.fd!);
    this.fd = undefined;
    this.active = undefined;
  }

  /** expire-after: unlinks the oldest terminated files (by end time, never `current`) until `keep` remain. */
  expire(keep: number): string[] {
    const all: { path: string; key: string }[] = [];
    let cur = '';
    try {
      cur = readlinkSync(this.currentLink);
    } catch {
      // no current
    }
    for (const dir of this.dirs) {
      for (const n of readdirSync(dir)) {
        const m = /^\d{14}\.(\d{14}|crash_recovery)$/.exec(n);
        if (!m || join(dir, n) === cur) continue;
        all.push({ path: join(dir, n), key: m[1] });
      }
    }
    all.sort((a, b) => (a.key < b.key ? -1 : 1));
    const gone: string[] = [];
    while (all.length > keep) {
      const f = all.shift()!;
      unlinkSync(f.path);
      gone.push(f.path);
    }
    return gone;
  }

  private openNew(): void {
    const dir = this.dirs[this.dirIndex];
    const start = ts(this.now);
    this.fd = openSync(join(dir, start + '.not_terminated'), 'a', 0o640);
    this.active = { dir, start };
  }

  private link(): void {
    symlinkSync(this.activePath!, this.currentLink);
  }
}

/** A small seeded PRNG (mulberry32) so randomized tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
