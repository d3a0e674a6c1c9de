/**
 * The trail follower: reads auditd's trail files exactly as auditd writes them (kernel-audit-pipe.md §13.7).
 *
 * - Files of every directory are ordered by name (the 14-digit UTC start time), one after the other.
 * - Every discovered, unfinished file is opened at once (up to `maxOpenFiles`) and its descriptor kept until the file
 *   is finished, so neither the rename at termination nor `expire-after` can take it away.
 * - A file is finished only when it is known to be terminated (renamed away from `*.not_terminated`, `current`
 *   pointing at a newer file, or unlinked with a newer file present) AND a read to EOF started after that was
 *   learned: the kernel switches files before auditd renames, so that last read sees everything (§13.6 caveat).
 * - A partial record at EOF of an active file is held ("retry later"); in a finished file it is damage.
 * - Losses are items in the stream: a file that vanished before it was opened, a cursor whose file is gone, a hole
 *   in the name sequence (start time of a file ≠ end time of the one before).
 */
import { readdir, readlink, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BsmkitError } from '../../errors.js';
import { Framer, type FramerSink } from '../../format/framer.js';
import { trailerMatches } from '../../format/token-index.js';
import { isHeaderId } from '../../format/token-ids.js';
import type { Diagnostic } from '../../format/types.js';
import type { LossReport, RecordSource, SourceItem, SourceOptions } from '../source.js';
import { ChangeWaiter } from './change-waiter.js';
import type { TrailCursor } from './cursor.js';
import { parseTrailName, trailPrefix, trailTime, type TrailName, type TrailState } from './names.js';

/** Where a record or diagnostic was read. One object is shared by consecutive items while nothing changes. */
export interface TrailMeta {
  /** The file's name when the item was read (it changes at termination). */
  file: string;
  dir: string;
  path: string;
  state: TrailState;
  /** True when the file was known to be terminated when the item was read (no more data will follow). */
  terminated: boolean;
}

/** File boundaries: `open` when reading of a file starts, `end` when it has been read completely. */
export interface TrailFileEvent {
  type: 'file';
  phase: 'open' | 'end';
  /** Size in bytes read at `end`; the starting offset at `open`. */
  offset: number;
  cursor: TrailCursor;
  meta: TrailMeta;
}

export type TrailItem = SourceItem<TrailCursor, TrailMeta, TrailFileEvent>;

export interface FollowTrailOptions extends SourceOptions {
  /** The auditd trail directories (every `dir:` of audit_control). */
  dirs: string[];
  /** 'start' (default): every file present; 'end': only what is written from now on; or a saved cursor. */
  from?: 'start' | 'end' | TrailCursor;
  /** Read what is there and stop at the end of the active file, instead of following. */
  once?: boolean;
  /** Poll interval when no notification comes (ms, default 500). Notifications make delivery faster than this. */
  pollIntervalMs?: number;
  /** Use fs.watch notifications (default true); false polls only. */
  watch?: boolean;
  /** The `current` symlink(s) (default: `current` in each directory). */
  currentLinks?: string[];
  /** Bytes per read (default 256 KiB). */
  readSize?: number;
  /** Most unfinished files held open ahead of the reader (default 64). */
  maxOpenFiles?: number;
  /** Largest record accepted by the framer (default 1 MiB). */
  maxRecordSize?: number;
}

export interface TrailFollower extends RecordSource<TrailItem> {
  /** Whether file-system notifications are in use (false: polling only). */
  readonly watching: boolean;
  /** Fixes where reading starts now ('end': the trail's end at this moment) rather than at the first read. */
  start(): Promise<void>;
}

interface Entry {
  prefix: string;
  name: TrailName;
  dir: string;
  /** Present in the last scan. */
  present: boolean;
  fh?: FileHandle;
  /** Next byte to read. */
  readPos: number;
  /** Offset the framer started at. */
  startOffset: number;
  framer?: Framer;
  meta?: TrailMeta;
  /** Known terminated: the next read that ends at EOF finishes the file. */
  final: boolean;
  /** Vanished before it could be opened (or could not be read: lostWhy). */
  lost: boolean;
  lostWhy?: string;
  /** Offset up to which records and damage have been delivered. */
  delivered: number;
}

const DEFAULT_READ = 256 * 1024;

export function followTrail(opts: FollowTrailOptions): TrailFollower {
  return new Follower(opts);
}

class Follower implements TrailFollower {
  private readonly dirs: string[];
  private readonly links: string[];
  private readonly once: boolean;
  private readonly pollMs: number;
  private readonly readSize: number;
  private readonly maxOpen: number;
  private readonly maxRecordSize: number | undefined;
  private readonly from: 'start' | 'end' | TrailCursor;
  private started?: Promise<void>;
  private readonly waiter: ChangeWaiter;
  private readonly signal?: AbortSignal;
  private readonly onAbort = () => void this.close();

  /** Unfinished files by prefix; everything at or below `floor` is finished or skipped. */
  private readonly entries = new Map<string, Entry>();
  private floor = '';
  /** The last finished file's name: the next file should start where it ended. */
  private lastFinished?: TrailName;
  /** Items framed and not yet handed out: queue[qHead..] (a head index: shift() costs more per item on the long arrays a read fills). */
  private queue: TrailItem[] = [];
  private qHead = 0;
  private lastScan = 0;
  private buf: Buffer;
  private lastCursor?: TrailCursor;
  private closed = false;
  /** True while the generator waits at a yield for the consumer: only then may the background scan run. */
  private suspended = false;
  private background?: Promise<void>;
  private bgTimer?: NodeJS.Timeout;
  private gen?: AsyncGenerator<TrailItem>;
  private iterated = false;

  constructor(opts: FollowTrailOptions) {
    if (!opts.dirs || opts.dirs.length === 0) throw new BsmkitError('BSMKIT_E_USAGE', 'followTrail: at least one trail directory is needed');
    this.dirs = opts.dirs.map((d) => resolve(d));
    this.links = (opts.currentLinks ?? this.dirs.map((d) => join(d, 'current'))).map((l) => resolve(l));
    this.once = opts.once ?? false;
    this.pollMs = Math.max(1, opts.pollIntervalMs ?? 500);
    this.readSize = Math.max(4096, opts.readSize ?? DEFAULT_READ);
    this.maxOpen = Math.max(1, opts.maxOpenFiles ?? 64);
    this.maxRecordSize = opts.maxRecordSize;
    this.from = opts.from ?? 'start';
    this.buf = Buffer.allocUnsafe(this.readSize);
    this.waiter = new ChangeWaiter(this.once ? [] : [...this.dirs, ...this.links.map((l) => dirname(l))], opts.watch ?? true);
    this.signal = opts.signal;
    if (this.signal) {
      if (this.signal.aborted) this.closed = true;
      else this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get watching(): boolean {
    return this.waiter.watching;
  }

  get cursor(): TrailCursor | undefined {
    return this.lastCursor;
  }

  [Symbol.asyncIterator](): AsyncIterator<TrailItem> {
    if (this.iterated) throw new BsmkitError('BSMKIT_E_USAGE', 'a trail follower can be iterated only once');
    this.iterated = true;
    this.gen = this.run();
    if (!this.once) {
      // A consumer that stalls must not let expire-after take files created meanwhile: keep discovering and
      // opening them while the generator waits at a yield (pull-based reading itself stays paused).
      this.bgTimer = setInterval(() => this.backgroundScan(), this.pollMs);
      this.bgTimer.unref();
    }
    return this.gen;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiter.bump();
    if (this.gen) await this.gen.return(undefined);
    await this.release(); // a generator never started does not run its finally
  }

  private backgroundScan(): void {
    if (!this.suspended || this.background || this.closed) return;
    this.background = this.scan()
      .catch(() => undefined) // the reading loop's own scan reports errors
      .finally(() => {
        this.background = undefined;
      });
  }

  private async release(): Promise<void> {
    if (this.bgTimer) clearInterval(this.bgTimer);
    this.bgTimer = undefined;
    if (this.background) await this.background;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.waiter.close();
    const open = [...this.entries.values()].filter((e) => e.fh);
    for (const e of open) {
      const fh = e.fh!;
      e.fh = undefined;
      await fh.close().catch(() => undefined);
    }
    this.entries.clear();
  }

  /**
   * Fixes where reading starts now (for 'end': the end of the trail at this moment) instead of at the first read,
   * so a caller can order it against other start-up steps. Idempotent; iteration waits for it.
   */
  start(): Promise<void> {
    return (this.started ??= this.init());
  }

  private async *run(): AsyncGenerator<TrailItem> {
    try {
      if (this.closed) return;
      await this.start();
      for (;;) {
        while (this.qHead < this.queue.length && !this.closed) {
          this.suspended = true;
          yield this.take();
          this.suspended = false;
          if (this.background) await this.background;
        }
        if (this.closed) return;
        const e = await this.currentEntry();
        if (!e) {
          if (this.once) return;
          const since = this.waiter.changes;
          await this.waiter.wait(since, this.pollMs);
          await this.scan();
          continue;
        }
        if (e.lost) {
          this.lose(e);
          continue;
        }
        if (!e.framer) {
          if (!e.fh && !(await this.openEntry(e))) continue;
          this.startFile(e);
          continue;
        }
        const since = this.waiter.changes;
        let n: number;
        try {
          n = await this.readSome(e);
        } catch (err) {
          await this.unreadable(e, err);
          continue;
        }
        if (n > 0) {
          if (Date.now() - this.lastScan >= this.pollMs) await this.scan();
          continue;
        }
        // EOF.
        if (e.framer.pending > 0 && !e.final && (await this.releaseCompleteTail(e))) continue;
        if (e.final) {
          await this.finish(e);
          continue;
        }
        if (await this.terminated(e)) {
          e.final = true;
          this.refreshMeta(e);
          continue; // read to EOF once more: the kernel can no longer write to it
        }
        if (this.once) return;
        await this.waiter.wait(since, this.pollMs);
      }
    } finally {
      await this.release();
    }
  }

  private take(): TrailItem {
    const it = this.queue[this.qHead]!;
    this.queue[this.qHead++] = undefined as unknown as TrailItem; // not kept alive by the queue
    if (this.qHead === this.queue.length) {
      this.queue = [];
      this.qHead = 0;
    }
    this.lastCursor = it.cursor;
    return it;
  }

  // ---- discovery ----

  private async init(): Promise<void> {
    for (const d of this.dirs) {
      try {
        await readdir(d);
      } catch (err) {
        throw accessError(err, d, 'trail directory');
      }
    }
    const from = this.from;
    if (typeof from === 'object') {
      const prefix = trailPrefix(from.file);
      await this.scan(false);
      const e = this.entries.get(prefix);
      for (const [p] of this.entries) if (p < prefix) this.entries.delete(p);
      if (e && from.done) {
        this.entries.delete(prefix);
        this.floor = prefix;
        this.lastFinished = e.name;
      } else if (e) {
        e.readPos = e.startOffset = e.delivered = from.offset;
        this.floor = prefixBefore(prefix);
      } else {
        this.floor = prefix;
        const name = parseTrailName(from.file)!;
        this.lastFinished = name;
        if (!from.done) {
          const loss = lossFor(name, from.dir ?? '', from.offset, `${from.file}${from.offset ? ` from offset ${from.offset}` : ''} was removed before it was read`);
          this.boundUnknownEnd(loss, name, this.best());
          this.push({
            type: 'loss',
            loss,
            cursor: { source: 'trail', file: from.file, offset: from.offset, done: true, ...(from.dir !== undefined ? { dir: from.dir } : {}) },
          });
        }
      }
      await this.openAhead();
      return;
    }
    await this.scan(false);
    if (from === 'end') {
      const sorted = this.sorted();
      const last = sorted[sorted.length - 1];
      for (const e of sorted) if (e !== last) this.entries.delete(e.prefix);
      if (last) {
        this.floor = prefixBefore(last.prefix);
        if (last.name.state !== 'not_terminated') {
          this.entries.delete(last.prefix);
          this.floor = last.prefix;
          this.lastFinished = last.name;
        } else if (await this.openEntry(last)) {
          last.readPos = last.startOffset = last.delivered = await this.recordBoundaryAtEnd(last);
        }
      }
    }
    await this.openAhead();
  }

  /** Frames the active file silently to find the record boundary at (or before) its end. */
  private async recordBoundaryAtEnd(e: Entry): Promise<number> {
    const f = new Framer({ record() {}, diagnostic() {} }, { maxRecordSize: this.maxRecordSize });
    let pos = 0;
    for (;;) {
      const b = Buffer.allocUnsafe(1 << 20);
      const { bytesRead } = await e.fh!.read(b, 0, b.length, pos);
      if (bytesRead === 0) break;
      f.push(b.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return f.position;
  }

  private sorted(): Entry[] {
    return [...this.entries.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  private best(): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.entries.values()) if (!best || e.prefix < best.prefix) best = e;
    return best;
  }

  /** The file to read now: the first by name. Right after finishing a file, a hole before it is checked twice. */
  private async currentEntry(): Promise<Entry | undefined> {
    let best = this.best();
    if (best && this.lastFinished) {
      if (gapBetween(this.lastFinished, best)) {
        // Listing several directories is not atomic: a file created in one while another was listed can be missed
        // once. It was created before the newer file that was seen, so a fresh listing finds it.
        await this.scan();
        best = this.best();
      }
      if (best) {
        this.checkGap(this.lastFinished, best);
        this.lastFinished = undefined;
      }
    }
    return best;
  }

  /** A terminated file ends at the next file's start time; anything else is a hole (§13.2, §13.4). */
  private checkGap(prev: TrailName, next: Entry): void {
    if (!gapBetween(prev, next) || prev.end === undefined) return;
    const loss: LossReport = {
      reason: 'trail-gap',
      certain: false,
      message: `no trail from ${prev.end} to ${next.name.start} (after ${prev.name}): auditd was stopped, or files expired before they were seen`,
      file: prev.name,
      start: trailTime(prev.end),
      end: trailTime(next.name.start),
    };
    this.push({ type: 'loss', loss, cursor: { source: 'trail', file: prev.name, offset: 0, done: true } });
  }

  /** Lists every directory, refreshing names (renames at termination) and adding new files above the floor. */
  private async scan(openAhead = true): Promise<void> {
    this.lastScan = Date.now();
    const found = new Map<string, { name: TrailName; dir: string }>();
    for (const dir of this.dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // a removed dir: its files are gone
        throw accessError(err, dir, 'trail directory');
      }
      for (const n of names) {
        const t = parseTrailName(n);
        if (!t || t.prefix <= this.floor) continue;
        if (!found.has(t.prefix)) found.set(t.prefix, { name: t, dir });
      }
    }
    for (const e of this.entries.values()) {
      const f = found.get(e.prefix);
      e.present = f !== undefined;
      if (!f) {
        if (!e.fh && !e.framer) e.lost = true; // gone before it could be opened: expired unread
        continue;
      }
      if (f.name.name !== e.name.name || f.dir !== e.dir) {
        e.name = f.name;
        e.dir = f.dir;
        if (f.name.state === 'terminated') e.final = true;
        this.refreshMeta(e);
      }
    }
    for (const [prefix, f] of found) {
      if (this.entries.has(prefix)) continue;
      this.entries.set(prefix, {
        prefix, name: f.name, dir: f.dir, present: true, readPos: 0, startOffset: 0, delivered: 0,
        final: f.name.state === 'terminated', lost: false,
      });
    }
    for (const e of this.entries.values()) {
      if (e.name.state === 'crash_recovery' && !e.final && (this.once || this.hasNewer(e))) {
        e.final = true;
        this.refreshMeta(e);
      }
    }
    if (openAhead) await this.openAhead();
  }

  private hasNewer(e: Entry): boolean {
    for (const o of this.entries.values()) if (o.prefix > e.prefix && !o.lost) return true;
    return false;
  }

  /** Opens unfinished files in name order so expiry cannot remove them before they are read. */
  private async openAhead(): Promise<void> {
    let open = 0;
    for (const e of this.entries.values()) if (e.fh) open++;
    for (const e of this.sorted()) {
      if (open >= this.maxOpen) break;
      if (e.fh || e.lost) continue;
      if (await this.openEntry(e)) open++;
    }
  }

  /** Opens a file, re-finding it by prefix if it was renamed between listing and opening. */
  private async openEntry(e: Entry): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        e.fh = await open(join(e.dir, e.name.name), 'r');
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') {
          if (code === 'EACCES' || code === 'EPERM') throw accessError(err, join(e.dir, e.name.name), 'trail file');
          e.lost = true;
          e.lostWhy = `cannot be read: ${(err as Error).message}`;
          return false;
        }
        const again = await this.findByPrefix(e.prefix);
        if (!again) break;
        e.name = again.name;
        e.dir = again.dir;
        if (again.name.state === 'terminated') e.final = true;
      }
    }
    e.lost = true;
    return false;
  }

  private async findByPrefix(prefix: string): Promise<{ name: TrailName; dir: string } | undefined> {
    for (const dir of this.dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (!n.startsWith(prefix)) continue;
        const t = parseTrailName(n);
        if (t) return { name: t, dir };
      }
    }
    return undefined;
  }

  /** The newest trail prefix any `current` link points at (absent or dangling links say nothing more). */
  private async currentPrefix(): Promise<string | undefined> {
    let best: string | undefined;
    for (const l of this.links) {
      let target: string;
      try {
        target = await readlink(l);
      } catch {
        continue; // missing (mid-rotation, or auditd stopped) or not a link
      }
      const t = parseTrailName(basename(target));
      if (t && (!best || t.prefix > best)) best = t.prefix;
    }
    return best;
  }

  /** At EOF of a file not yet known terminated: has the kernel moved on? */
  private async terminated(e: Entry): Promise<boolean> {
    await this.scan();
    if (e.final) return true;
    if (!e.present && this.hasNewer(e)) return true; // unlinked (expired) while open, a newer file is active
    const cur = await this.currentPrefix();
    // current is re-linked only after auditctl() switched files. A dangling link (after a crash, or pointing at a
    // file that is not there) proves nothing: only a newer file that exists does.
    return cur !== undefined && cur > e.prefix && this.entries.get(cur)?.present === true;
  }

  // ---- reading ----

  private startFile(e: Entry): void {
    e.framer = new Framer(this.sinkFor(e), { startOffset: e.startOffset, maxRecordSize: this.maxRecordSize });
    this.refreshMeta(e);
    this.push({ type: 'file', phase: 'open', offset: e.startOffset, cursor: this.cursorAt(e, e.startOffset), meta: e.meta! });
  }

  private sinkFor(e: Entry): FramerSink {
    return {
      record: (bytes, offset, kind) => {
        e.delivered = offset + bytes.length;
        this.push({ type: 'record', kind, bytes, offset, cursor: this.cursorAt(e, e.delivered), meta: e.meta! });
      },
      diagnostic: (d: Diagnostic) => {
        // Junk and a truncated tail are passed over; other damage (a bad size) is followed by the junk report.
        if (d.skipped !== undefined) e.delivered = Math.max(e.delivered, d.offset + d.skipped);
        this.push({ type: 'diagnostic', diagnostic: d, cursor: this.cursorAt(e, e.delivered), meta: e.meta! });
      },
    };
  }

  /**
   * At EOF of a file that may still grow: the Framer waits for one byte past a record before framing it (to look
   * behind a bad trailer), so a complete last record would stay held until the next write. When the held bytes are
   * exactly one record whose trailer confirms its size, frame them now (with any junk before them) and go on with
   * a fresh framer after it. Returns true when something was delivered.
   */
  private async releaseCompleteTail(e: Entry): Promise<boolean> {
    const f = e.framer!;
    const held = f.pending;
    if (held < 25) return false;
    const base = e.readPos - held;
    const head = f.pendingBytes();
    if (head.length !== held || !isHeaderId(head[0]) || head.readUInt32BE(1) !== held || !trailerMatches(head, held - 7, held)) return false;
    const from = f.position; // < base when a junk run before the record is still open
    let bytes = head;
    if (from < base) {
      // The junk before the record was passed over but not yet reported: frame it again from the file.
      bytes = Buffer.allocUnsafe(e.readPos - from);
      try {
        await readFully(e.fh!, bytes, from);
      } catch {
        return false; // the next read reports the file as unreadable
      }
    }
    const once = new Framer(this.sinkFor(e), { startOffset: from, maxRecordSize: this.maxRecordSize });
    once.push(bytes);
    once.end();
    e.framer = new Framer(this.sinkFor(e), { startOffset: e.readPos, maxRecordSize: this.maxRecordSize });
    return true;
  }

  private cursorAt(e: Entry, offset: number): TrailCursor {
    return { source: 'trail', file: e.name.name, dir: e.dir, offset };
  }

  private refreshMeta(e: Entry): void {
    if (!e.framer) return;
    const m = e.meta;
    if (m && m.file === e.name.name && m.dir === e.dir && m.terminated === e.final) return;
    e.meta = { file: e.name.name, dir: e.dir, path: join(e.dir, e.name.name), state: e.name.state, terminated: e.final };
  }

  /** One read into the framer; returns the bytes read (0 at EOF). */
  private async readSome(e: Entry): Promise<number> {
    const { bytesRead } = await e.fh!.read(this.buf, 0, this.buf.length, e.readPos);
    if (bytesRead === 0) return 0;
    let chunk: Buffer;
    if (bytesRead < this.buf.length >> 2) {
      // A small tail read: copy it so record views do not pin the whole read buffer, and keep the buffer.
      chunk = Buffer.from(this.buf.subarray(0, bytesRead));
    } else {
      chunk = this.buf.subarray(0, bytesRead);
      this.buf = Buffer.allocUnsafe(this.readSize); // records are views of the old one (the framer never copies)
    }
    e.readPos += bytesRead;
    e.framer!.push(chunk);
    return bytesRead;
  }

  /** The file is terminated and read to EOF: a held partial record is now damage; move to the next file. */
  private async finish(e: Entry): Promise<void> {
    e.framer!.end();
    const fh = e.fh!;
    e.fh = undefined;
    await fh.close().catch(() => undefined);
    this.push({
      type: 'file', phase: 'end', offset: e.readPos,
      cursor: { ...this.cursorAt(e, e.readPos), done: true },
      meta: e.meta!,
    });
    this.retire(e);
    await this.openAhead();
  }

  private lose(e: Entry): void {
    const why = e.lostWhy ?? 'was removed before it was read';
    const loss: LossReport = { ...lossFor(e.name, e.dir, 0, `${e.name.name} ${why}`), reason: e.lostWhy ? 'unreadable' : 'expired' };
    let next: Entry | undefined;
    for (const o of this.entries.values()) if (o.prefix > e.prefix && (!next || o.prefix < next.prefix)) next = o;
    this.boundUnknownEnd(loss, e.name, next);
    this.push({
      type: 'loss',
      loss,
      cursor: { source: 'trail', file: e.name.name, dir: e.dir, offset: 0, done: true },
    });
    this.retire(e);
  }

  /** A read failed (I/O error, not a regular file): the rest of the file is lost; go on with the next one. */
  private async unreadable(e: Entry, err: unknown): Promise<void> {
    const fh = e.fh;
    e.fh = undefined;
    await fh?.close().catch(() => undefined);
    const from = e.delivered;
    const loss: LossReport = {
      ...lossFor(e.name, e.dir, from, `${e.name.name} cannot be read${from ? ` from offset ${from}` : ''}: ${(err as Error).message}`),
      reason: 'unreadable',
    };
    this.push({ type: 'loss', loss, cursor: { ...this.cursorAt(e, from), done: true } });
    this.retire(e);
    await this.openAhead();
  }

  /**
   * A lost file last seen as `*.not_terminated` (or crash_recovery) has no end time in its name: the loss runs to
   * the next file's start, and covers any file between them that expired unseen.
   */
  private boundUnknownEnd(loss: LossReport, name: TrailName, next: Entry | undefined): void {
    if (name.end !== undefined || !next) return;
    loss.end = trailTime(next.name.start);
    loss.message += ` (its end is unknown: records up to ${next.name.start} may be lost)`;
  }

  private retire(e: Entry): void {
    this.entries.delete(e.prefix);
    this.floor = e.prefix;
    this.lastFinished = e.name;
  }

  private push(it: TrailItem): void {
    this.queue.push(it);
  }
}

async function readFully(fh: FileHandle, b: Buffer, pos: number): Promise<void> {
  for (let off = 0; off < b.length; ) {
    const { bytesRead } = await fh.read(b, off, b.length - off, pos + off);
    if (bytesRead === 0) throw new BsmkitError('BSMKIT_E_TRAIL_IO', `trail file shrank while read (at offset ${pos + off})`);
    off += bytesRead;
  }
}

/** True when `next` does not start where the terminated file `prev` ended. */
function gapBetween(prev: TrailName, next: Entry): boolean {
  return prev.end !== undefined && next.name.start > prev.end;
}

function lossFor(name: TrailName, dir: string, fromOffset: number, message: string): LossReport {
  const loss: LossReport = { reason: 'expired', certain: true, message, file: name.name, fromOffset, start: trailTime(name.start) };
  if (dir) loss.dir = dir;
  if (name.end) loss.end = trailTime(name.end);
  return loss;
}

/** The largest prefix below `prefix` that no trail file can have (so `prefix` itself is above the floor). */
function prefixBefore(prefix: string): string {
  return prefix.slice(0, 14);
}

function accessError(err: unknown, path: string, what: string): BsmkitError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new BsmkitError('BSMKIT_E_TRAIL_ACCESS', `${path}: permission denied (audit trails are readable by root and the audit review group only)`, { cause: err });
  }
  if (code === 'ENOENT') return new BsmkitError('BSMKIT_E_TRAIL_DIR', `${path}: no such ${what}`, { cause: err });
  if (code === 'ENOTDIR') return new BsmkitError('BSMKIT_E_TRAIL_DIR', `${path}: not a directory`, { cause: err });
  return new BsmkitError('BSMKIT_E_TRAIL_IO', `${path}: ${(err as Error).message}`, { cause: err });
}
