/**
 * Restores time order within a bound. Kernel records are queued when a syscall returns but stamped with its start
 * time, so a child's exec can reach the trail before the parent's fork. Items are held until an item at least
 * `boundMs` newer has been seen, then released oldest first (ties in arrival order). In-order input passes straight
 * through without touching the heap. Memory: at most the items of one bound's worth of time.
 */
export interface Timed {
  time: number;
}

export class ReorderBuffer<T extends Timed> {
  private readonly bound: number;
  private heap: { item: T; seq: number }[] = [];
  private seq = 0;
  /** Newest time seen. */
  private newest = -Infinity;
  /** Time of the last item released: anything older arriving now is late. */
  private released = -Infinity;
  private readonly jump: number;
  /** Items that arrived after newer items had already been released (they are released at once). */
  late = 0;
  /** Backward time jumps larger than the jump threshold (concatenated trails, clock resets). */
  jumps = 0;

  /**
   * `jumpMs`: a step back in time larger than this is not reordering but a discontinuity (a trail concatenated
   * after a later one, a clock reset): everything held is released and the window restarts at the new time, so
   * one jump does not make every later record "late". Default max(60 s, 10 × bound).
   */
  constructor(boundMs: number, jumpMs?: number) {
    this.bound = Math.max(0, boundMs);
    this.jump = jumpMs ?? Math.max(60_000, 10 * this.bound);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Adds an item; calls `out` for every item now due, in time order. */
  push(item: T, out: (item: T) => void): void {
    const t = item.time;
    if (t < this.newest - this.jump) {
      this.jumps++;
      this.flush(out);
      this.newest = t;
      this.released = -Infinity;
    }
    if (t < this.released) {
      this.late++;
      out(item);
      return;
    }
    if (t > this.newest) this.newest = t;
    if (this.heap.length === 0 && t <= this.newest - this.bound) {
      this.released = t;
      out(item);
      return;
    }
    this.insert({ item, seq: this.seq++ });
    const due = this.newest - this.bound;
    while (this.heap.length && this.heap[0].item.time <= due) out(this.take());
  }

  /** Releases everything held (end of input). */
  flush(out: (item: T) => void): void {
    while (this.heap.length) out(this.take());
  }

  private take(): T {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      this.down(0);
    }
    this.released = top.item.time;
    return top.item;
  }

  private less(a: { item: T; seq: number }, b: { item: T; seq: number }): boolean {
    return a.item.time < b.item.time || (a.item.time === b.item.time && a.seq < b.seq);
  }

  private insert(e: { item: T; seq: number }): void {
    const h = this.heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
