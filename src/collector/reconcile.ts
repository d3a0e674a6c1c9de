/**
 * Hybrid reconciliation (kernel-audit-pipe.md §12, §19.2): the TRAIL-mode pipe stream is an ordered, byte-identical
 * subsequence of the trail, and the kernel writes the trail first. Records are aligned by bytes and order, greedily:
 *
 * - a pipe record matches the first not-yet-consumed trail record with the same bytes (identical duplicates are
 *   legitimate and match in order); every trail record skipped over to reach it was dropped by the pipe and is
 *   emitted as `recovered`, in trail order, before the match (emitted as `pipe`, with its trail position);
 * - a pipe record with no trail copy (trail write failure, LOCAL-only selection) is recognised when a later pipe
 *   record is already in the trail (and that copy cannot be an identical twin the pipe dropped: no drop unaccounted,
 *   or a second later record found further on; else after `pipeOnlyAfterMs`), or after `pipeOnlyAfterMs` without a
 *   match while the trail reader is idle (caught up): it is kept, flagged pipe-only;
 * - a trail record no pipe record claims is resolved by a drained mark: the drain thread found the pipe queue empty
 *   after the record was seen in the trail (epoch) and at least `graceMs` later. It is `recovered` while the kernel's
 *   drop count (plus records the collector itself discarded) exceeds what was already recovered, else `trail`
 *   (committed before the pipe was opened, or flushed: the pipe never had it).
 *
 * Output is in trail order; pipe-only records are placed where they were recognised (bounded by pipeOnlyAfterMs).
 */
import { contentHash } from '../spool/record-id.js';
import { FLAG_PIPE_ONLY, type SpoolAppend } from '../spool/spool.js';

interface TrailEntry {
  bytes: Buffer;
  hash: number;
  file: string;
  offset: number;
  epoch: number;
  at: number;
}

interface PipeEntry {
  bytes: Buffer;
  hash: number;
  offset: number;
  at: number;
  /** Kernel drops plus collector discards counted when it arrived: every drop before it is among them. */
  drops: number;
}

/** How long the trail must have delivered nothing before a pipe record is declared to have no trail copy. */
const TRAIL_QUIET_MS = 500;
/** Pipe records looked up in the trail backlog when the oldest is not there. */
const LOOKAHEAD = 1024;
/** laterProof's answers besides a trail index. */
const PROVEN = -2;
const NONE = -1;

export interface ReconcilerOptions {
  /** Source name of pipe-only records (the pipe session), e.g. "pipe:2026-11-24T18:00:00.000Z". */
  pipeSession: string;
  graceMs?: number;
  pipeOnlyAfterMs?: number;
  /** Whether the kernel's drop counter is available (else: recovered once the pipe matched anything). */
  dropsKnown?: boolean;
  /**
   * Pipe drops of earlier runs not recovered by them (a collector stopped while the trail reader was behind): the
   * trail records read again first are those, recovered rather than trail-only.
   */
  carriedDrops?: number;
}

export interface ReconcileCounts {
  live: number;
  recovered: number;
  trail: number;
  pipeOnly: number;
}

export class Reconciler {
  private readonly t: TrailEntry[] = [];
  private tHead = 0;
  private tBase = 0; // absolute index of t[0]
  private readonly byHash = new Map<number, number[]>();
  private readonly p: PipeEntry[] = [];
  private pHead = 0;
  private pBase = 0; // absolute index of p[0]
  /** Absolute index of a waiting pipe record whose trail copy is known to be its own (see laterProof). */
  private witness = -1;
  private readonly graceMs: number;
  private readonly pipeOnlyAfterMs: number;
  private readonly dropsKnown: boolean;
  private readonly carried: number;
  private kernelDrops = 0;
  private discarded = 0;
  private matchedAny = false;
  /** Records recovered after the first match: pipe drops for certain (before it they may predate the pipe). */
  private dropsRecovered = 0;
  private mark = { epoch: -1, at: 0 };
  private trailBytes = 0;
  /** When the last trail record arrived: a timeout decision needs a trail reader that has caught up (idle). */
  private lastTrailAt = 0;
  /** Set by flushPipe(): the trail has been read to its end, so a pipe record not found in it has no copy. */
  private trailComplete = false;
  /** The trail reader starts after the pipe was opened (trailStartsAfterPipe). */
  private overlap = false;
  private pipeBytes = 0;
  readonly counts: ReconcileCounts = { live: 0, recovered: 0, trail: 0, pipeOnly: 0 };

  constructor(
    private readonly opts: ReconcilerOptions,
    private readonly emit: (r: SpoolAppend) => void,
  ) {
    this.graceMs = opts.graceMs ?? 50;
    this.pipeOnlyAfterMs = opts.pipeOnlyAfterMs ?? 3000;
    this.dropsKnown = opts.dropsKnown ?? true;
    this.carried = Math.max(0, opts.carriedDrops ?? 0);
  }

  get trailBacklog(): number {
    return this.t.length - this.tHead;
  }
  get pipeBacklog(): number {
    return this.p.length - this.pHead;
  }
  get backlogBytes(): number {
    return this.trailBytes + this.pipeBytes;
  }

  /** A trail record (the bytes are kept: pass a copy or a buffer that is not reused). */
  pushTrail(bytes: Buffer, file: string, offset: number, epoch: number, at: number): void {
    const hash = contentHash(bytes);
    const abs = this.tBase + this.t.length;
    this.t.push({ bytes, hash, file, offset, epoch, at });
    this.lastTrailAt = at;
    this.trailBytes += bytes.length;
    const l = this.byHash.get(hash);
    if (l) l.push(abs);
    else this.byHash.set(hash, [abs]);
  }

  /** The trail reader is held back (backpressure): it has not caught up, so no pipe-only decision by timeout. */
  trailHeld(now: number): void {
    this.lastTrailAt = now;
  }

  pushPipe(bytes: Buffer, offset: number, at: number): void {
    this.p.push({ bytes, hash: contentHash(bytes), offset, at, drops: this.kernelDrops + this.discarded });
    this.pipeBytes += bytes.length;
  }

  /** The kernel's drop count for this pipe since it was opened. */
  setKernelDrops(n: number): void {
    if (n > this.kernelDrops) this.kernelDrops = n;
  }

  /** The collector dropped `n` pipe records itself (spool paused): the trail supplies them as recovered. */
  discardedPipe(n: number): void {
    this.discarded += n;
  }

  /** The drain found the pipe queue empty at `at`, having loaded trail epoch `epoch` before looking. */
  drained(epoch: number, at: number): void {
    if (epoch >= this.mark.epoch) this.mark = { epoch, at };
  }

  private find(pe: PipeEntry): number {
    const l = this.byHash.get(pe.hash);
    if (!l) return -1;
    const head = this.tBase + this.tHead;
    for (const abs of l) {
      if (abs < head) continue;
      if (this.t[abs - this.tBase]!.bytes.equals(pe.bytes)) return abs;
    }
    return -1;
  }

  /** Consumes the trail head entry (removes it from the hash index). */
  private takeTrail(): TrailEntry {
    const e = this.t[this.tHead]!;
    const l = this.byHash.get(e.hash)!;
    l.shift();
    if (l.length === 0) this.byHash.delete(e.hash);
    this.tHead++;
    this.trailBytes -= e.bytes.length;
    if (this.tHead > 4096 && this.tHead * 2 > this.t.length) {
      this.t.splice(0, this.tHead);
      this.tBase += this.tHead;
      this.tHead = 0;
    }
    return e;
  }

  private takePipe(): PipeEntry {
    const e = this.p[this.pHead++]!;
    this.pipeBytes -= e.bytes.length;
    if (this.pHead > 4096 && this.pHead * 2 > this.p.length) {
      this.p.splice(0, this.pHead);
      this.pBase += this.pHead;
      this.pHead = 0;
    }
    return e;
  }

  private unmatched(e: TrailEntry): void {
    const budget = this.dropsKnown || this.carried > this.counts.recovered
      ? this.kernelDrops + this.discarded + this.carried - this.counts.recovered
      : this.matchedAny ? 1 : 0;
    const origin = budget > 0 ? 'recovered' : 'trail';
    this.counts[origin]++;
    if (origin === 'recovered' && this.matchedAny) this.dropsRecovered++;
    this.emit({ bytes: e.bytes, origin, sourceFile: e.file, sourceOffset: e.offset });
  }

  /** Emits everything that can be decided now. Returns the number of records emitted. */
  pump(now: number): number {
    let n = 0;
    while (this.pHead < this.p.length) {
      const pe = this.p[this.pHead]!;
      const abs = this.find(pe);
      if (abs >= 0) {
        while (this.tBase + this.tHead < abs) {
          this.unmatched(this.takeTrail());
          n++;
        }
        const te = this.takeTrail();
        this.takePipe();
        this.matchedAny = true;
        this.counts.live++;
        this.emit({ bytes: te.bytes, origin: 'pipe', sourceFile: te.file, sourceOffset: te.offset });
        n++;
        continue;
      }
      const proof = this.laterProof();
      const later = proof === PROVEN || (proof >= 0 && now - pe.at >= this.pipeOnlyAfterMs);
      if (later || this.trailComplete || (now - pe.at >= this.pipeOnlyAfterMs && now - this.lastTrailAt >= TRAIL_QUIET_MS)) {
        this.takePipe();
        if (this.overlap && !this.matchedAny) {
          // ahead of every pipe record found in the trail: its copy lies before the trail's start (trailStartsAfterPipe)
          this.counts.live++;
          this.emit({ bytes: pe.bytes, origin: 'pipe', sourceFile: this.opts.pipeSession, sourceOffset: pe.offset });
          n++;
          continue;
        }
        this.counts.pipeOnly++;
        this.emit({ bytes: pe.bytes, origin: 'pipe', sourceFile: this.opts.pipeSession, sourceOffset: pe.offset, flags: FLAG_PIPE_ONLY });
        n++;
        continue;
      }
      // Neither the oldest waiting pipe record nor the LOOKAHEAD after it is among the unclaimed trail records. A
      // trail record the pipe was drained after (mark) has its pipe copy, if any, among the waiting pipe records,
      // and that copy would come after the oldest one, whose own trail copy is further on: so it has none — it was
      // dropped. (Without the mark the pipe may simply be behind.)
      // (A trail copy found for a later pipe record but not proven its own is not resolved: it may be.)
      n += this.resolveDrained(proof >= 0 ? proof : Infinity);
      break;
    }
    if (this.pHead === this.p.length) n += this.resolveDrained(Infinity);
    return n;
  }

  /** Whether the pipe was found empty after this trail record was seen (plus grace): its pipe copy, if any, is in. */
  private covered(te: TrailEntry): boolean {
    return te.epoch <= this.mark.epoch && this.mark.at >= te.at + this.graceMs;
  }

  /**
   * Whether a waiting pipe record after the oldest one (which is not in the trail) has its trail copy: then the
   * oldest has none, since its copy would come first and the trail is read in order. Unless the copy found is an
   * identical twin the pipe dropped, and the later record's own copy is still unread like the oldest one's: that is
   * ruled out when the drops counted as of the later record leave none unaccounted for the copy, or by a second
   * later record found further on in the trail. The lookahead is searched, and the whole backlog when the mark is
   * about to resolve the trail head (the pipe copy of a trail record may wait behind a long pipe-only run).
   * Returns PROVEN, NONE, or the lowest trail index of a copy found (not proven: it may be a twin, or not).
   */
  private laterProof(): number {
    const w = this.witness - this.pBase;
    if (w > this.pHead && w < this.p.length && this.find(this.p[w]!) >= 0) return PROVEN;
    const head = this.tBase + this.tHead;
    const end = this.tHead < this.t.length && this.covered(this.t[this.tHead]!) ? this.p.length : Math.min(this.p.length, this.pHead + LOOKAHEAD);
    let first = NONE;
    let low = NONE;
    for (let i = this.pHead + 1; i < end; i++) {
      const q = this.p[i]!;
      const abs = this.find(q);
      if (abs < 0) continue;
      if (first === NONE) {
        first = low = abs;
        // Drops before q not recovered yet, less the trail records skipped to reach the copy. Only what followed a
        // match is known to be a drop: before it, a record may have been committed before the pipe was opened.
        if (!this.dropsKnown || q.drops - this.dropsRecovered - (this.matchedAny ? abs - head : 0) > 0) continue;
      } else if (abs <= first) {
        low = Math.min(low, abs);
        continue;
      }
      this.witness = this.pBase + i;
      return PROVEN;
    }
    return low;
  }

  /** Trail records seen before the pipe was last found empty (plus grace) and still unclaimed: pipe drops. */
  private resolveDrained(until: number): number {
    let n = 0;
    while (this.tHead < this.t.length && this.tBase + this.tHead < until && this.covered(this.t[this.tHead]!)) {
      this.unmatched(this.takeTrail());
      n++;
    }
    return n;
  }

  /**
   * Shutdown without waiting for marks: the pipe was read to empty after the last trail read, so every trail record
   * still unclaimed is resolved, and every pipe record still waiting is kept as pipe-only.
   */
  /**
   * The trail reader's start was fixed after the pipe was opened ('end': the trail's end then; the setup order of
   * kernel-audit-pipe.md §19). Pipe records ahead of the first one found in the trail have their copies before that
   * start (pipe order is trail order): they are live, not pipe-only. (A record the trail failed to write among them
   * is counted live too.)
   */
  trailStartsAfterPipe(): void {
    this.overlap = true;
  }

  /** Pipe records let go (kernel drops, collector discards, earlier runs' carried ones) not recovered yet. */
  get unrecovered(): number {
    return Math.max(0, this.kernelDrops + this.discarded + this.carried - this.counts.recovered);
  }


  /** When the last trail record arrived (or the reader was last held back). */
  get lastTrailRecordAt(): number {
    return this.lastTrailAt;
  }

  /**
   * At shutdown, once the drain has stopped and the trail reader has caught up: every waiting pipe record whose
   * copy is not among the waiting trail records has none (the kernel writes the trail first) and is kept as
   * pipe-only now, instead of being left behind. Unclaimed trail records keep waiting (the trail is read again).
   */
  flushPipe(now: number): number {
    this.trailComplete = true;
    try {
      return this.pump(now);
    } finally {
      this.trailComplete = false;
    }
  }

  finish(): number {
    this.mark = { epoch: Number.MAX_SAFE_INTEGER, at: Number.MAX_SAFE_INTEGER };
    return this.pump(Number.MAX_SAFE_INTEGER);
  }
}
