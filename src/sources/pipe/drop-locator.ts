/**
 * Where in the pipe's record stream the kernel dropped records, from the counters read after every read().
 *
 * The counters say how many records were dropped, not where. The place follows from the kernel's tail drop
 * (kernel-audit-pipe.md §5): a record is dropped because the queue holds `qlimit` records, and between two of our
 * reads nothing leaves the queue. So a drop that happens after read k sits exactly after record C_k + qlimit of
 * the stream, C_k being the records that read k and the reads before it completed. What remains is telling drops
 * before read k from drops after it, for both can show up in one counter delta:
 * - before read k requires a full queue at read k (a draining read then returned exactly qlimit records);
 * - after read k requires a full queue when the counters were read (inserts − C_k = qlimit).
 * When only one is possible the position is exact. Otherwise (both are possible, or neither: a NOWAIT allocation
 * failure, §5 steps 2–3, which can hit any record) the drops are placed at the latest point they can be, the
 * records inserted when the counters were read, and marked inexact. Every drop of the delta lies within
 * [earliest, latest]: after the records completed before read k (it was counted after read k−1), before the
 * records inserted when the counters were read.
 */
import { isHeaderId } from '../../format/token-ids.js';

const U32 = 0x100000000;
/** Difference of two 32-bit counter readings, across a wrap (§10). */
export const delta32 = (now: number, prev: number): number => (((now - prev) % U32) + U32) % U32;

/** Records the kernel dropped, and where they would have been in the stream. */
export interface PipeDrop {
  /** How many records (GET_DROPS delta). */
  records: number;
  /** They would have come before stream record number `recordIndex` (0-based, counted from the FLUSH). */
  recordIndex: number;
  /** Byte offset of that point in the pipe stream (−1 while the stream has not reached it). */
  offset: number;
  /** True when the position follows from the tail-drop rule without ambiguity. */
  exact: boolean;
  /**
   * Bounds that hold whatever the drops were: the records completed before the read that saw them, and the records
   * inserted when the counters were read. Allocation failures in the same counter delta as tail drops can be
   * anywhere in between (the counters cannot tell them apart), so an exact `recordIndex` is exact for tail drops.
   */
  earliest: number;
  latest: number;
  /** Byte offsets of `earliest` and `latest` in the pipe stream (−1 while the stream has not reached them). */
  earliestOffset: number;
  latestOffset: number;
}

/** Counts the records that reads complete, on header sizes alone (the pipe carries whole kernel records). */
export class RecordCounter {
  /** Records completed. */
  count = 0;
  /** Bytes consumed. */
  pos = 0;
  /** Stream offset where record number `count` starts (= pos between records). */
  recStart = 0;
  /** False once a header was implausible: counting stopped, drop positions are no longer exact. */
  synced = true;
  private need = 0;
  private readonly hdr = Buffer.alloc(5);
  private hdrHave = 0;
  /** Called when `count` reaches `watch` (the first pending drop's record index). */
  watch = -1;
  onWatch: () => void = () => undefined;

  walk(b: Uint8Array, start: number, end: number): void {
    let p = start;
    while (p < end) {
      if (this.need > 0) {
        const take = Math.min(this.need, end - p);
        p += take;
        this.pos += take;
        this.need -= take;
        if (this.need === 0) {
          this.count++;
          this.recStart = this.pos;
          if (this.count === this.watch) this.onWatch();
        }
        continue;
      }
      if (!this.synced) {
        this.pos += end - p;
        return;
      }
      if (this.hdrHave === 0 && end - p >= 5) {
        // the whole header size field is here: no byte-by-byte copy
        const id = b[p]!;
        const size = b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
        if (!isHeaderId(id) || size < 25) {
          this.synced = false;
          continue;
        }
        const take = Math.min(size, end - p);
        p += take;
        this.pos += take;
        this.need = size - take;
        if (this.need === 0) {
          this.count++;
          this.recStart = this.pos;
          if (this.count === this.watch) this.onWatch();
        }
        continue;
      }
      const h = this.hdr;
      while (this.hdrHave < 5 && p < end) {
        h[this.hdrHave++] = b[p++]!;
        this.pos++;
      }
      if (this.hdrHave < 5) return;
      this.hdrHave = 0;
      const size = h[1]! * 0x1000000 + ((h[2]! << 16) | (h[3]! << 8) | h[4]!);
      if (!isHeaderId(h[0]!) || size < 25) {
        this.synced = false;
        continue;
      }
      this.need = size - 5;
    }
  }
}

export class DropLocator {
  private readonly qlimit: number;
  private prevDrops: number;
  private prevInserts: number;
  /** Inserts since the FLUSH. */
  inserts = 0;
  /** Drops since the FLUSH. */
  drops = 0;
  /** Records completed before the current read (C_{k−1}). */
  private consumedBefore = 0;

  constructor(qlimit: number, baseDrops: number, baseInserts: number) {
    this.qlimit = qlimit;
    this.prevDrops = baseDrops;
    this.prevInserts = baseInserts;
  }

  /**
   * After read k: `consumed` records completed so far (C_k), whether the read emptied the queue (it returned fewer
   * bytes than asked), and the counters read in this order: GET_DROPS, then GET_INSERTS; `beforeOffset` is the
   * stream offset where record C_{k−1} starts. Returns the drop, if any.
   */
  afterRead(consumed: number, drained: boolean, dropsNow: number, insertsNow: number, synced = true, beforeOffset = -1): PipeDrop | null {
    const before = this.consumedBefore;
    this.consumedBefore = consumed;
    const d = delta32(dropsNow, this.prevDrops);
    this.prevDrops = dropsNow;
    this.inserts += delta32(insertsNow, this.prevInserts);
    this.prevInserts = insertsNow;
    if (d === 0) return null;
    this.drops += d;
    const L = this.qlimit;
    // Queue full when the counters were read: every insert after read k filled it up.
    const fullAfter = this.inserts - consumed >= L;
    // Queue full at read k: a draining read took exactly what was queued; otherwise it is possible when enough
    // records were inserted before it.
    const fullAtRead = drained ? consumed - before >= L : this.inserts - before >= L;
    const latest = Math.max(consumed, this.inserts);
    const drop = (recordIndex: number, exact: boolean): PipeDrop => ({
      records: d, recordIndex, offset: -1, exact, earliest: before, latest, earliestOffset: beforeOffset, latestOffset: -1,
    });
    if (fullAtRead && !fullAfter) return drop(before + L, synced);
    if (fullAfter && !fullAtRead) return drop(consumed + L, synced);
    return drop(latest, false);
  }
}
