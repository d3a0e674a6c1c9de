/**
 * NDJSON files with size and time rotation (docs/sinks.md).
 *
 * Files are `<dir>/<prefix>-<first seq, 12 digits>-<UTC creation time YYYYMMDDTHHMMSSZ>.ndjson`, mode 0600, one
 * line per record (collected-json.ts). The newest file is the active one. write() appends the batch, fsyncs, and
 * only then resolves. Exactly-once without a separate checkpoint file: the last complete line of the newest file
 * holds the highest stored seq; on open (and after any failed write) a torn last line is cut off and that seq is
 * read back, and replayed records at or below it are skipped.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import type { EventDescriber } from '../render/json/index.js';
import { CollectedJsonWriter, seqOfLine } from './collected-json.js';
import { ensurePrivateDir, makePrivate } from './private-files.js';
import { claimTarget, DEFAULT_NDJSON_PREFIX, ndjsonTarget, releaseTarget } from './held-files.js';
import { PipelinedWrites } from './pipelined-writes.js';
import type { CollectedRecord, Sink } from './sink.js';

export interface NdjsonFileSinkOptions {
  /** Directory of the files (created 0700 when missing). */
  dir: string;
  /** File name prefix (default "bsmkit"). */
  prefix?: string;
  /** Rotate before a file would grow beyond this many bytes (default 64 MiB; 0: never by size). */
  maxBytes?: number;
  /** Rotate at the first write once the active file is this old (default 1 hour; 0: never by time). */
  maxAgeMs?: number;
  /** Sink name (default "ndjson"). */
  name?: string;
  /** Event names for `eventName`/`eventDesc` (default: none). */
  events?: EventDescriber;
  /** Clock (ms since the epoch), for tests. */
  now?: () => number;
}

interface ActiveFile {
  path: string;
  size: number;
  createdMs: number;
  handle?: FileHandle;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_AGE_MS = 60 * 60 * 1000;

/** `<prefix>-<seq>-<time>.ndjson` → its parts, or undefined for other names. */
export function parseNdjsonFileName(prefix: string, name: string): { firstSeq: number; createdMs: number } | undefined {
  if (!name.startsWith(prefix + '-')) return undefined;
  const m = /^(\d{12,})-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.ndjson$/.exec(name.slice(prefix.length + 1));
  if (!m) return undefined;
  return { firstSeq: Number(m[1]), createdMs: Date.UTC(+m[2], +m[3] - 1, +m[4], +m[5], +m[6], +m[7]) };
}

export function ndjsonFileName(prefix: string, firstSeq: number, createdMs: number): string {
  const t = new Date(createdMs).toISOString(); // 2026-11-24T18:08:00.000Z
  const stamp = t.slice(0, 4) + t.slice(5, 7) + t.slice(8, 10) + 'T' + t.slice(11, 13) + t.slice(14, 16) + t.slice(17, 19) + 'Z';
  return `${prefix}-${String(firstSeq).padStart(12, '0')}-${stamp}.ndjson`;
}

export class NdjsonFileSink implements Sink {
  readonly name: string;
  readonly dir: string;
  private readonly prefix: string;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly writer: CollectedJsonWriter;
  private active: ActiveFile | undefined;
  /** Highest seq stored (-1: none). */
  private last = -1;
  /** Set after a failed write: the files are re-read before the next one. */
  private dirty = true;
  private opened = false;
  /** The directory and prefix claimed in this process (held-files.ts), from open() to close(). */
  private claim: string | undefined;
  /** Writes in call order, two at a time; see write(). */
  private readonly writes: PipelinedWrites;
  /** Highest seq of a prepared write (at least `last`): a record at or below it is a replay. */
  private ahead = -1;
  /** Writes the collector may hand over at once (Sink.maxInFlight): one is rendered while another is written and synced. */
  readonly maxInFlight = 2;

  constructor(opts: NdjsonFileSinkOptions) {
    this.dir = opts.dir;
    this.prefix = opts.prefix ?? DEFAULT_NDJSON_PREFIX;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.name = opts.name ?? 'ndjson';
    this.now = opts.now ?? Date.now;
    this.writer = new CollectedJsonWriter(opts.events);
    this.writes = new PipelinedWrites(`ndjson sink ${this.dir}`);
  }

  async open(): Promise<void> {
    ensurePrivateDir(this.dir, 'BSMKIT_E_SINK_OPEN');
    this.claim = claimTarget(ndjsonTarget(this.dir, this.prefix), this, 'BSMKIT_E_SINK_OPEN', `ndjson sink: cannot open ${join(this.dir, this.prefix)}-…`);
    try {
      this.recover();
    } catch (err) {
      releaseTarget(this.claim, this);
      throw new BsmkitError('BSMKIT_E_SINK_OPEN', `ndjson sink: cannot read ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    this.opened = true;
  }

  /** The files this sink has written, oldest first. */
  files(): string[] {
    return this.listFiles().map((f) => join(this.dir, f.name));
  }

  /**
   * A write in two steps (pipelined-writes.ts): prepare (render the lines) while the write before is appended and
   * synced, then store (rotation, append, fdatasync) in call order.
   */
  write(batch: readonly CollectedRecord[]): Promise<void> {
    return this.writes.run(
      async (storesBefore) => {
        if (!this.opened) throw new BsmkitError('BSMKIT_E_SINK_CLOSED', `ndjson sink ${this.dir} is not open`);
        try {
          if (this.dirty) {
            // after a failed write: the stores handed over before end first (they fail), then the files are read again
            await storesBefore;
            await this.closeActive();
            this.recover();
          }
          return this.prepare(batch);
        } catch (err) {
          throw this.failed(this.dir, err);
        }
      },
      (lines, started) => {
        started();
        return this.store(lines);
      },
    );
  }

  async lastSeq(): Promise<number | undefined> {
    await this.writes.idle();
    return this.last < 0 ? undefined : this.last;
  }

  async close(): Promise<void> {
    await this.writes.idle();
    try {
      await this.closeActive();
    } finally {
      this.opened = false;
      releaseTarget(this.claim, this);
    }
  }

  /** A failed write: the files are read again before the next one. */
  private failed(file: string, err: unknown): BsmkitError {
    this.dirty = true;
    return new BsmkitError('BSMKIT_E_SINK_WRITE', `ndjson sink: cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }

  /** The lines of the records not stored or prepared yet. */
  private prepare(batch: readonly CollectedRecord[]): { seq: number; buf: Buffer }[] {
    const fresh: CollectedRecord[] = [];
    for (const r of batch) {
      if (r.seq <= this.ahead) continue;
      fresh.push(r);
      this.ahead = r.seq;
    }
    if (fresh.length === 0) return [];
    const { data, ends } = this.writer.render(fresh);
    return fresh.map((r, i) => ({ seq: r.seq, buf: data.subarray(i === 0 ? 0 : ends[i - 1], ends[i]) }));
  }

  private async store(lines: { seq: number; buf: Buffer }[]): Promise<void> {
    let file = this.active?.path ?? this.dir;
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let top = this.last;
      if (this.active && this.maxAgeMs > 0 && this.now() - this.active.createdMs >= this.maxAgeMs) await this.closeActive();
      for (const { seq, buf } of lines) {
        if (this.active && this.maxBytes > 0 && this.active.size + pendingBytes > 0 && this.active.size + pendingBytes + buf.length > this.maxBytes) {
          file = this.active.path;
          await this.append(this.active, pending, pendingBytes);
          await this.closeActive();
          pending = [];
          pendingBytes = 0;
        }
        if (!this.active) {
          this.active = await this.startFile(seq);
          file = this.active.path;
        }
        pending.push(buf);
        pendingBytes += buf.length;
        top = seq;
      }
      if (this.active && pendingBytes > 0) {
        file = this.active.path;
        await this.append(this.active, pending, pendingBytes);
      }
      this.last = top;
    } catch (err) {
      throw this.failed(file, err);
    }
  }

  /** Appends and fsyncs: the batch is durable when this resolves. */
  private async append(f: ActiveFile, bufs: Buffer[], bytes: number): Promise<void> {
    f.handle ??= await open(f.path, 'a', 0o600);
    const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, bytes);
    let off = 0;
    while (off < data.length) off += (await f.handle.write(data, off, data.length - off)).bytesWritten;
    await f.handle.datasync();
    f.size += bytes;
  }

  private async startFile(firstSeq: number): Promise<ActiveFile> {
    const createdMs = this.now();
    const path = join(this.dir, ndjsonFileName(this.prefix, firstSeq, createdMs));
    const handle = await open(path, 'a', 0o600);
    makePrivate(path);
    // The new directory entry must survive a crash too, or a synced batch could vanish with its file.
    const d = openSync(this.dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
    return { path, size: 0, createdMs: Math.floor(createdMs / 1000) * 1000, handle };
  }

  private async closeActive(): Promise<void> {
    const h = this.active?.handle;
    this.active = undefined;
    if (h) await h.close();
  }

  private listFiles(): { name: string; firstSeq: number; createdMs: number }[] {
    const out = [];
    for (const name of readdirSync(this.dir)) {
      const p = parseNdjsonFileName(this.prefix, name);
      if (p) out.push({ name, ...p });
    }
    return out.sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /**
   * Re-reads the stored state from the files: cuts a torn last line, removes files left empty, takes the newest
   * file with a complete line as the active one and its last line's seq as the highest stored.
   */
  private recover(): void {
    this.active = undefined;
    this.last = -1;
    const files = this.listFiles();
    for (let i = files.length - 1; i >= 0; i--) {
      const path = join(this.dir, files[i].name);
      makePrivate(path);
      const tail = completeTail(path);
      if (tail.keep === 0) {
        unlinkSync(path);
        continue;
      }
      const seq = seqOfLine(tail.lastLine);
      if (seq === undefined) throw new Error(`${path}: last line does not start with {"seq":N (not written by this sink?)`);
      this.last = seq;
      this.active = { path, size: tail.keep, createdMs: files[i].createdMs };
      break;
    }
    this.ahead = this.last;
    this.dirty = false;
  }
}

/**
 * Truncates `path` after its last newline (a line torn by a crash goes) and returns the kept size and the start of
 * the last complete line (enough to read its seq). Reads backwards in chunks, so a long file is not read whole.
 */
function completeTail(path: string): { keep: number; lastLine: string } {
  const size = statSync(path).size;
  const fd = openSync(path, size > 0 ? 'r+' : 'r');
  try {
    const nl = lastNewline(fd, size);
    const keep = nl + 1;
    if (keep < size) {
      truncateSync(path, keep);
      fsyncSync(fd);
    }
    if (keep === 0) return { keep, lastLine: '' };
    const lineStart = lastNewline(fd, nl) + 1;
    const head = Buffer.alloc(Math.min(nl - lineStart, 64));
    readSync(fd, head, 0, head.length, lineStart);
    return { keep, lastLine: head.toString('latin1') };
  } finally {
    closeSync(fd);
  }
}

/** Position of the last newline before `before`, or -1. */
function lastNewline(fd: number, before: number): number {
  const CH = 64 * 1024;
  const buf = Buffer.alloc(CH);
  let end = before;
  while (end > 0) {
    const start = Math.max(0, end - CH);
    const n = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, n).lastIndexOf(0x0a);
    if (i >= 0) return start + i;
    end = start;
  }
  return -1;
}
