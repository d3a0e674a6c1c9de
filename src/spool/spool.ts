/**
 * The durable spool: the collector's ordered, on-disk log of records between the drain and the sinks.
 *
 * Layout of the spool directory (every file mode 0600, the directory 0700):
 * - `SSSSSSSSSSSSSSSS.bsm`: a segment, plain BSM records back to back (a valid trail file: praudit reads it). The
 *   name is the seq of its first record (16 digits), so seqs are dense and follow from the names.
 * - `SSSSSSSSSSSSSSSS.idx`: its sidecar, one 16-byte entry per record: u32 length | u8 origin | u8 flags |
 *   u16 source-name index (0xffff: none) | f64 source offset (little-endian).
 * - `sources.txt`: the source names (trail file names, pipe sessions) the entries refer to, one per line.
 * - `checkpoints.json`: per-sink checkpoints plus the caller's extra state, replaced atomically (write, fsync,
 *   rename).
 *
 * Appends are buffered and written by flush(): record bytes first, then the entries, so after a crash (SIGKILL, or
 * power loss without fsync) the segment can only be longer than its entries say. open() detects that torn tail and
 * truncates it; the truncated bytes are reported in `recovery` (the collector re-reads them from its source).
 *
 * A full disk (ENOSPC, EDQUOT, EFBIG) in flush() truncates both files back to their last good size, keeps the
 * pending records in memory, sets `paused` and throws SpoolFullError: nothing is lost silently, the caller stops
 * intake and retries flush() later.
 */
import {
  closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, renameSync,
  statSync, unlinkSync, writeSync, appendFileSync, chmodSync, mkdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { BsmkitError } from '../errors.js';
import type { CollectedRecord, RecordOrigin } from '../sinks/sink.js';
import { emptyRawBatch, FLAG_PIPE_ONLY, materialize, NO_SOURCE, ORIGINS, type RawBatch } from './raw-batch.js';

const ENTRY = 16;
const NO_FILE = NO_SOURCE;
const ORIGIN_CODE: Record<RecordOrigin, number> = { pipe: 0, trail: 1, recovered: 2 };
export { FLAG_PIPE_ONLY } from './raw-batch.js';

export interface SpoolOptions {
  dir: string;
  /** A segment is closed and a new one started past this size (default 16 MiB). */
  segmentBytes?: number;
  /** The size cap (default 1 GiB): beyond it `full` is true and the collector pauses intake (docs/collector.md). */
  maxBytes?: number;
  /** fsync data and entries in every flush() (default false: fsync happens when checkpoints are written). */
  syncEveryFlush?: boolean;
}

export interface SpoolAppend {
  bytes: Uint8Array;
  origin: RecordOrigin;
  sourceFile?: string;
  sourceOffset: number;
  flags?: number;
}

export interface SpoolRecovery {
  segments: number;
  records: number;
  /** Bytes of a torn last record (written, but its entry was not) that were cut off. */
  tornBytes: number;
  /** Entries dropped because their bytes were missing, or a partial entry. */
  tornEntries: number;
  messages: string[];
}

export interface SpoolCheckpoints {
  version: 1;
  sinks: Record<string, number>;
  /** Whatever the collector keeps with the checkpoints (its counters as of `extraSeq`). */
  extra?: unknown;
  updatedAt: string;
}

/** The spool's file system is full (or a file-size limit was hit): intake must pause. */
export class SpoolFullError extends BsmkitError {
  readonly errno: string;
  constructor(errno: string, path: string, cause: unknown) {
    super('BSMKIT_E_SPOOL_FULL', `spool ${path}: ${errno === 'ENOSPC' ? 'no space left on device' : errno === 'EDQUOT' ? 'disk quota exceeded' : 'file size limit exceeded'} (${errno}); intake paused`, { cause });
    this.errno = errno;
    this.name = 'SpoolFullError';
  }
}

/** The record entries of one segment (grown in place for the active segment). */
class SegmentMeta {
  count = 0;
  lens = new Uint32Array(1024);
  origins = new Uint8Array(1024);
  flags = new Uint8Array(1024);
  files = new Uint16Array(1024);
  srcOffs = new Float64Array(1024);
  /** dataOffs[i]: byte offset of record i in the segment; dataOffs[count]: the segment's size. */
  dataOffs = new Float64Array(1025);

  constructor(readonly firstSeq: number) {}

  private grow(): void {
    const n = this.lens.length * 2;
    const g = <T extends Uint32Array | Uint8Array | Uint16Array | Float64Array>(a: T, len: number): T => {
      const b = new (a.constructor as new (n: number) => T)(len);
      b.set(a);
      return b;
    };
    this.lens = g(this.lens, n);
    this.origins = g(this.origins, n);
    this.flags = g(this.flags, n);
    this.files = g(this.files, n);
    this.srcOffs = g(this.srcOffs, n);
    this.dataOffs = g(this.dataOffs, n + 1);
  }

  add(len: number, origin: number, flags: number, file: number, srcOff: number): void {
    if (this.count === this.lens.length) this.grow();
    const i = this.count++;
    this.lens[i] = len;
    this.origins[i] = origin;
    this.flags[i] = flags;
    this.files[i] = file;
    this.srcOffs[i] = srcOff;
    this.dataOffs[i + 1] = this.dataOffs[i]! + len;
  }

  get bytes(): number {
    return this.dataOffs[this.count]!;
  }

  static parse(firstSeq: number, b: Buffer): SegmentMeta {
    const m = new SegmentMeta(firstSeq);
    for (let p = 0; p + ENTRY <= b.length; p += ENTRY) {
      m.add(b.readUInt32LE(p), b[p + 4]!, b[p + 5]!, b.readUInt16LE(p + 6), b.readDoubleLE(p + 8));
    }
    return m;
  }
}

interface Segment {
  firstSeq: number;
  count: number;
  bytes: number;
  dataPath: string;
  idxPath: string;
}

const segName = (seq: number): string => String(seq).padStart(16, '0');

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
const FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

function createPrivate(path: string): number {
  const fd = openSync(path, 'a+', 0o600);
  // The umask could have removed bits from 0600 but never adds any; an existing file may have been created wider.
  if ((fstatSync(fd).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  return fd;
}

/** Writes `text` to `path` atomically: a temporary file, fsync, rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class Spool {
  readonly dir: string;
  readonly recovery: SpoolRecovery;
  private readonly segmentBytes: number;
  readonly maxBytes: number;
  private readonly syncEveryFlush: boolean;
  private readonly segments: Segment[] = [];
  private active!: SegmentMeta;
  private dataFd = -1;
  private idxFd = -1;
  private readonly sourceNames: string[] = [];
  /** sourceNames[i] for i >= sourcesWritten are not in sources.txt yet. */
  private sourcesWritten = 0;
  private readonly sourceIndex = new Map<string, number>();
  private sourcesFd = -1;
  /** Pending appends (not yet written): bytes and entries. */
  private pend = Buffer.allocUnsafe(1 << 20);
  private pendLen = 0;
  private pendIdx = Buffer.allocUnsafe(ENTRY * 8192);
  private pendIdxView = new DataView(this.pendIdx.buffer, this.pendIdx.byteOffset, this.pendIdx.byteLength);
  private pendIdxLen = 0;
  private pendCount = 0;
  private lastSourceName: string | undefined;
  private lastSourceId = NO_FILE;
  private ckpt: SpoolCheckpoints;
  private readonly cache = new Map<number, SegmentMeta>();
  private readFds = new Map<number, number>();
  private totalBytes = 0;
  /** Set by a failed flush (disk full): the error, until a flush succeeds. */
  pausedBy: SpoolFullError | undefined;
  private listeners: Array<() => void> = [];

  private constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes ?? 16 << 20;
    this.maxBytes = opts.maxBytes ?? 1 << 30;
    this.syncEveryFlush = opts.syncEveryFlush ?? false;
    this.recovery = { segments: 0, records: 0, tornBytes: 0, tornEntries: 0, messages: [] };
    this.ckpt = { version: 1, sinks: {}, updatedAt: new Date().toISOString() };
  }

  /** Opens (creating when missing) the spool in `opts.dir` and repairs a torn tail. */
  static open(opts: SpoolOptions): Spool {
    const s = new Spool(opts);
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new BsmkitError('BSMKIT_E_SPOOL', `cannot create spool directory ${opts.dir}: ${(err as Error).message}`, { cause: err });
    }
    s.load();
    return s;
  }

  private load(): void {
    const ckPath = join(this.dir, 'checkpoints.json');
    if (existsSync(ckPath)) {
      try {
        const v = JSON.parse(readFileSync(ckPath, 'utf8')) as SpoolCheckpoints;
        if (v && typeof v === 'object' && v.sinks && typeof v.sinks === 'object') this.ckpt = v;
      } catch (err) {
        throw new BsmkitError('BSMKIT_E_SPOOL', `${ckPath}: not a spool checkpoint file: ${(err as Error).message}`);
      }
    }
    const srcPath = join(this.dir, 'sources.txt');
    if (existsSync(srcPath)) {
      const text = readFileSync(srcPath, 'utf8');
      // A torn last line cannot be referenced: names are written before the entries using them.
      const lines = text.split('\n');
      lines.pop();
      for (const l of lines) this.addSourceName(l);
    }
    this.sourcesWritten = this.sourceNames.length;
    this.sourcesFd = createPrivate(srcPath);

    const names = readdirSync(this.dir).filter((n) => /^\d{16}\.bsm$/.test(n)).sort();
    for (const n of names) {
      const firstSeq = Number(n.slice(0, 16));
      const dataPath = join(this.dir, n);
      const idxPath = join(this.dir, n.slice(0, 16) + '.idx');
      const idx = existsSync(idxPath) ? readFileSync(idxPath) : Buffer.alloc(0);
      const meta = SegmentMeta.parse(firstSeq, idx);
      const dataSize = statSync(dataPath).size;
      let count = meta.count;
      while (count > 0 && meta.dataOffs[count]! > dataSize) count--;
      const keep = meta.dataOffs[count]!;
      if (idx.length % ENTRY !== 0 || count !== meta.count) {
        this.recovery.tornEntries += meta.count - count + (idx.length % ENTRY !== 0 ? 1 : 0);
        const fd = openSync(idxPath, 'r+');
        ftruncateSync(fd, count * ENTRY);
        closeSync(fd);
        this.recovery.messages.push(`${idxPath}: dropped ${meta.count - count} entries without data and ${idx.length % ENTRY} bytes of a partial entry`);
      }
      if (dataSize > keep) {
        this.recovery.tornBytes += dataSize - keep;
        const fd = openSync(dataPath, 'r+');
        ftruncateSync(fd, keep);
        closeSync(fd);
        this.recovery.messages.push(`${dataPath}: truncated a torn record of ${dataSize - keep} bytes at offset ${keep} (record ${firstSeq + count})`);
      }
      this.segments.push({ firstSeq, count, bytes: keep, dataPath, idxPath });
      this.totalBytes += keep + count * ENTRY;
      this.recovery.records += count;
      if (n === names[names.length - 1]) {
        meta.count = count;
        this.active = meta;
      }
    }
    this.recovery.segments = this.segments.length;
    if (this.segments.length === 0) {
      const next = typeof (this.ckpt.extra as { nextSeq?: unknown } | undefined)?.nextSeq === 'number' ? (this.ckpt.extra as { nextSeq: number }).nextSeq : 1;
      this.startSegment(Math.max(1, next));
    } else {
      const last = this.segments[this.segments.length - 1]!;
      this.dataFd = createPrivate(last.dataPath);
      this.idxFd = createPrivate(last.idxPath);
    }
  }

  private startSegment(firstSeq: number): void {
    if (this.dataFd >= 0) {
      closeSync(this.dataFd);
      closeSync(this.idxFd);
    }
    const base = join(this.dir, segName(firstSeq));
    const seg: Segment = { firstSeq, count: 0, bytes: 0, dataPath: base + '.bsm', idxPath: base + '.idx' };
    this.dataFd = createPrivate(seg.dataPath);
    this.idxFd = createPrivate(seg.idxPath);
    this.segments.push(seg);
    this.active = new SegmentMeta(firstSeq);
  }

  private addSourceName(name: string): number {
    const i = this.sourceNames.length;
    this.sourceNames.push(name);
    this.sourceIndex.set(name, i);
    return i;
  }

  private sourceId(name: string | undefined): number {
    if (name === undefined) return NO_FILE;
    if (name === this.lastSourceName) return this.lastSourceId;
    const i = this.sourceIndex.get(name);
    if (i !== undefined) {
      this.lastSourceName = name;
      this.lastSourceId = i;
      return i;
    }
    if (name.includes('\n')) throw new BsmkitError('BSMKIT_E_SPOOL', `source name with a newline: ${JSON.stringify(name)}`);
    if (this.sourceNames.length >= NO_FILE) throw new BsmkitError('BSMKIT_E_SPOOL', 'too many source names in one spool');
    // Written by the next flush(), before any entry that refers to it.
    return this.addSourceName(name);
  }

  /** The first seq still stored, and the last one written (0 when none ever was). */
  get firstSeq(): number {
    return this.segments[0]!.firstSeq;
  }
  get lastSeq(): number {
    const last = this.segments[this.segments.length - 1]!;
    return last.firstSeq + last.count - 1;
  }
  /** The seq the next append gets. */
  get nextSeq(): number {
    return this.lastSeq + 1 + this.pendCount;
  }
  get pendingRecords(): number {
    return this.pendCount;
  }
  get bytes(): number {
    return this.totalBytes + this.pendLen + this.pendIdxLen;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** At or beyond the size cap: stop intake until sinks catch up (and consumed segments are removed). */
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** Buffers one record (copied); written by the next flush(). */
  append(r: SpoolAppend): number {
    const len = r.bytes.length;
    this.stage(r.bytes, len);
    const file = this.sourceId(r.sourceFile);
    if (this.pendIdxLen + ENTRY > this.pendIdx.length) this.growIdx(this.pendIdxLen + ENTRY);
    const p = this.pendIdxLen;
    const v = this.pendIdxView;
    v.setUint32(p, len, true);
    v.setUint8(p + 4, ORIGIN_CODE[r.origin]);
    v.setUint8(p + 5, r.flags ?? 0);
    v.setUint16(p + 6, file, true);
    v.setFloat64(p + 8, r.sourceOffset, true);
    this.pendIdxLen += ENTRY;
    this.pendCount++;
    return this.lastSeq + this.pendCount;
  }

  private growIdx(need: number): void {
    const nb = Buffer.allocUnsafe(Math.max(this.pendIdx.length * 2, need));
    this.pendIdx.copy(nb, 0, 0, this.pendIdxLen);
    this.pendIdx = nb;
    this.pendIdxView = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
  }

  /** Copies record bytes into `pend`. */
  private stage(src: Uint8Array, len: number): void {
    if (this.pendLen + len > this.pend.length) {
      const nb = Buffer.allocUnsafe(Math.max(this.pend.length * 2, this.pendLen + len));
      this.pend.copy(nb, 0, 0, this.pendLen);
      this.pend = nb;
    }
    this.pend.set(len === src.length ? src : src.subarray(0, len), this.pendLen);
    this.pendLen += len;
  }

  /**
   * Appends many records at once: `data` holds them back to back, `ends[i]` is where record i ends in it and
   * `offsets[i]` its source offset (the drain's batches, without a Buffer view per record).
   */
  appendBatch(data: Buffer, ends: ArrayLike<number>, offsets: ArrayLike<number>, origin: RecordOrigin, sourceFile: string | undefined): void {
    const n = ends.length;
    if (n === 0) return;
    const len = ends[n - 1]!;
    this.stage(data, len);
    const file = this.sourceId(sourceFile);
    if (this.pendIdxLen + n * ENTRY > this.pendIdx.length) this.growIdx(this.pendIdxLen + n * ENTRY);
    const v = this.pendIdxView;
    const o = ORIGIN_CODE[origin];
    let p = this.pendIdxLen;
    let start = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i]!;
      v.setUint32(p, end - start, true);
      v.setUint8(p + 4, o);
      v.setUint8(p + 5, 0);
      v.setUint16(p + 6, file, true);
      v.setFloat64(p + 8, offsets[i]!, true);
      p += ENTRY;
      start = end;
    }
    this.pendIdxLen = p;
    this.pendCount += n;
  }

  /**
   * Writes the pending records (bytes, then entries). On a full disk: truncates back, keeps them pending, sets
   * `pausedBy` and throws SpoolFullError. Starts a new segment when the active one is past its size.
   */
  flush(): void {
    if (this.pendCount === 0) return;
    const seg = this.segments[this.segments.length - 1]!;
    const dataBefore = seg.bytes;
    const idxBefore = seg.count * ENTRY;
    if (this.sourcesWritten < this.sourceNames.length) {
      const text = this.sourceNames.slice(this.sourcesWritten).map((n) => n + '\n').join('');
      const before = fstatSync(this.sourcesFd).size;
      try {
        appendFileSync(this.sourcesFd, text);
        this.sourcesWritten = this.sourceNames.length;
      } catch (err) {
        try {
          ftruncateSync(this.sourcesFd, before);
        } catch {
          /* open() ignores a torn last line */
        }
        const e = errnoOf(err);
        if (e && FULL_ERRNOS.has(e)) throw (this.pausedBy = new SpoolFullError(e, join(this.dir, 'sources.txt'), err));
        throw new BsmkitError('BSMKIT_E_SPOOL', `spool ${join(this.dir, 'sources.txt')}: write failed: ${(err as Error).message}`, { cause: err });
      }
    }
    try {
      let off = 0;
      while (off < this.pendLen) off += writeSync(this.dataFd, this.pend, off, this.pendLen - off);
      off = 0;
      while (off < this.pendIdxLen) off += writeSync(this.idxFd, this.pendIdx, off, this.pendIdxLen - off);
      if (this.syncEveryFlush) {
        fsyncSync(this.dataFd);
        fsyncSync(this.idxFd);
      }
    } catch (err) {
      const e = errnoOf(err);
      try {
        ftruncateSync(this.dataFd, dataBefore);
        ftruncateSync(this.idxFd, idxBefore);
      } catch {
        /* the next open() repairs it */
      }
      if (e && FULL_ERRNOS.has(e)) throw (this.pausedBy = new SpoolFullError(e, seg.dataPath, err));
      throw new BsmkitError('BSMKIT_E_SPOOL', `spool ${seg.dataPath}: write failed: ${(err as Error).message}`, { cause: err });
    }
    const v = this.pendIdxView;
    for (let p = 0; p < this.pendIdxLen; p += ENTRY) this.active.add(v.getUint32(p, true), v.getUint8(p + 4), v.getUint8(p + 5), v.getUint16(p + 6, true), v.getFloat64(p + 8, true));
    seg.count += this.pendCount;
    seg.bytes += this.pendLen;
    this.totalBytes += this.pendLen + this.pendIdxLen;
    this.pendCount = 0;
    this.pendLen = 0;
    this.pendIdxLen = 0;
    this.pausedBy = undefined;
    if (seg.bytes >= this.segmentBytes) this.startSegment(seg.firstSeq + seg.count);
    for (const l of this.listeners.splice(0)) l();
  }

  /** Resolves after the next successful flush that writes records. */
  waitForAppend(): Promise<void> {
    return new Promise((r) => this.listeners.push(r));
  }

  /** Wakes every waitForAppend() (shutdown). */
  wakeAll(): void {
    for (const l of this.listeners.splice(0)) l();
  }

  private segmentFor(seq: number): Segment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segments[mid]!;
      if (seq < s.firstSeq) hi = mid - 1;
      else if (seq >= s.firstSeq + s.count) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  private metaOf(seg: Segment): SegmentMeta {
    if (seg.firstSeq === this.active.firstSeq) return this.active;
    let m = this.cache.get(seg.firstSeq);
    if (!m) {
      m = SegmentMeta.parse(seg.firstSeq, readFileSync(seg.idxPath));
      if (this.cache.size >= 4) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(seg.firstSeq, m);
    }
    return m;
  }

  private readFd(seg: Segment): number {
    let fd = this.readFds.get(seg.firstSeq);
    if (fd === undefined) {
      fd = openSync(seg.dataPath, 'r');
      this.readFds.set(seg.firstSeq, fd);
    }
    return fd;
  }

  /**
   * Reads up to `max` records (and about `maxBytes`) from `fromSeq` on, stopping at a segment end. The records'
   * bytes are views of one fresh buffer per call.
   */
  read(fromSeq: number, max = 4096, maxBytes = 4 << 20): CollectedRecord[] {
    return materialize(this.readRaw(fromSeq, max, maxBytes));
  }

  /**
   * read() without the record objects: the bytes in one fresh buffer plus the entries as typed arrays, cheap to hand
   * to another thread (sinks/worker-sink.ts). Empty (count 0) past the end.
   */
  readRaw(fromSeq: number, max = 4096, maxBytes = 4 << 20): RawBatch {
    const seg = this.segmentFor(fromSeq);
    if (!seg) {
      if (fromSeq < this.firstSeq) throw new BsmkitError('BSMKIT_E_SPOOL', `spool: record ${fromSeq} was removed (the spool starts at ${this.firstSeq})`);
      return emptyRawBatch(fromSeq);
    }
    const m = this.metaOf(seg);
    const i0 = fromSeq - seg.firstSeq;
    let i1 = Math.min(seg.count, i0 + max);
    const start = m.dataOffs[i0]!;
    while (i1 > i0 + 1 && m.dataOffs[i1]! - start > maxBytes) i1--;
    const len = m.dataOffs[i1]! - start;
    const data = Buffer.allocUnsafeSlow(len);
    const fd = this.readFd(seg);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, data, got, len - got, start + got);
      if (n <= 0) throw new BsmkitError('BSMKIT_E_SPOOL', `spool ${seg.dataPath}: short read at ${start + got}`);
      got += n;
    }
    return {
      firstSeq: seg.firstSeq + i0,
      count: i1 - i0,
      data,
      lens: m.lens.slice(i0, i1),
      origins: m.origins.slice(i0, i1),
      flags: m.flags.slice(i0, i1),
      files: m.files.slice(i0, i1),
      srcOffs: m.srcOffs.slice(i0, i1),
      sourceNames: this.sourceNames.slice(),
    };
  }

  /**
   * The source position after the newest stored record whose source name passes `accept` (newest first, over every
   * stored segment): where a source resumes so that nothing already spooled is read twice.
   */
  lastPosition(accept: (sourceFile: string) => boolean): { sourceFile: string; end: number; seq: number } | undefined {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s]!;
      const m = this.metaOf(seg);
      for (let i = seg.count - 1; i >= 0; i--) {
        const f = m.files[i]!;
        if (f === NO_FILE) continue;
        const name = this.sourceNames[f]!;
        if (accept(name)) return { sourceFile: name, end: m.srcOffs[i]! + m.lens[i]!, seq: seg.firstSeq + i };
      }
    }
    return undefined;
  }

  /** Per-origin counts of records with seq > afterSeq (to bring counters saved with a checkpoint up to date). */
  countSince(afterSeq: number): { pipe: number; trail: number; recovered: number; pipeOnly: number } {
    const c = { pipe: 0, trail: 0, recovered: 0, pipeOnly: 0 };
    for (const seg of this.segments) {
      if (seg.firstSeq + seg.count - 1 <= afterSeq) continue;
      const m = this.metaOf(seg);
      for (let i = Math.max(0, afterSeq + 1 - seg.firstSeq); i < seg.count; i++) {
        c[ORIGINS[m.origins[i]!] ?? 'trail']++;
        if (m.flags[i]! & FLAG_PIPE_ONLY) c.pipeOnly++;
      }
    }
    return c;
  }

  checkpoint(sink: string): number {
    return this.ckpt.sinks[sink] ?? this.firstSeq - 1;
  }
  setCheckpoint(sink: string, seq: number): void {
    this.ckpt.sinks[sink] = seq;
  }
  get extra(): unknown {
    return this.ckpt.extra;
  }

  /** Writes checkpoints (and `extra`) atomically, after making the spooled records durable. */
  saveCheckpoints(extra?: unknown): void {
    fsyncSync(this.dataFd);
    fsyncSync(this.idxFd);
    if (extra !== undefined) this.ckpt.extra = extra;
    this.ckpt.updatedAt = new Date().toISOString();
    writeFileAtomic(join(this.dir, 'checkpoints.json'), JSON.stringify(this.ckpt, null, 1) + '\n');
  }

  /**
   * Removes whole segments every named sink has stored (never the active one). Returns the number removed.
   */
  removeConsumed(sinks: string[]): number {
    if (sinks.length === 0) return 0;
    const low = Math.min(...sinks.map((s) => this.checkpoint(s)));
    let n = 0;
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.firstSeq + seg.count - 1 > low) break;
      const fd = this.readFds.get(seg.firstSeq);
      if (fd !== undefined) closeSync(fd);
      this.readFds.delete(seg.firstSeq);
      this.cache.delete(seg.firstSeq);
      unlinkSync(seg.dataPath);
      unlinkSync(seg.idxPath);
      this.totalBytes -= seg.bytes + seg.count * ENTRY;
      this.segments.shift();
      n++;
    }
    return n;
  }

  close(): void {
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
    if (this.dataFd >= 0) {
      closeSync(this.dataFd);
      closeSync(this.idxFd);
      closeSync(this.sourcesFd);
      this.dataFd = this.idxFd = this.sourcesFd = -1;
    }
  }
}

/** Writes `text` as a private file (0600), replacing it atomically. */
export function writePrivateJson(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n');
}
