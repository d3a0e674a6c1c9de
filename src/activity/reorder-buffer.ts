/**
 * Restores time order within a bound. Kernel records are queued when a syscall returns but stamped with its start
 * time, so a child's exec can reach the trail before the parent's fork. Items are held until an item at least
 * `boundMs` newer has been seen, then released oldest first (equal times in arrival order).
 *
 * The held items are a sorted array read from `head`: in-order input (the common case) appends and releases in
 * O(1); an out-of-order item is placed by binary search. Memory: the items of one bound's worth of time.
 *
 * An item older than one already released cannot be put back in order: it is released at once and counted as
 * late. A step back larger than `jumpMs` is a discontinuity (trails concatenated out of order, a clock reset), not
 * reordering: everything held is released and the window restarts at the new time.
 */
export interface Timed {
  time: number;
}

export class ReorderBuffer<T extends Timed> {
  private readonly bound: number;
  private readonly jump: number;
  private items: T[] = [];
  private head = 0;
  /** Newest time seen. */
  private newest = -Infinity;
  /** Time of the last item released: anything older arriving now is late. */
  private released = -Infinity;
  /** Items that arrived after newer items had already been released (they are released at once). */
  late = 0;
  /** Backward time jumps larger than the jump threshold. */
  jumps = 0;

  /** `jumpMs` defaults to max(60 s, 10 × bound). */
  constructor(boundMs: number, jumpMs?: number) {
    this.bound = Math.max(0, boundMs);
    this.jump = jumpMs ?? Math.max(60_000, 10 * this.bound);
  }

  /** Items held. */
  get size(): number {
    return this.items.length - this.head;
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
    const due = this.newest - this.bound;
    const items = this.items;
    if (this.head === items.length) {
      if (t <= due) {
        this.released = t;
        out(item);
        return;
      }
      items.push(item);
    } else if (t >= items[items.length - 1].time) {
      items.push(item);
    } else {
      // Out of order: after every held item with time <= t (keeps arrival order among equal times).
      let lo = this.head, hi = items.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (items[mid].time <= t) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
    }
    while (this.head < items.length && items[this.head].time <= due) this.release(out);
    this.compact();
  }

  /**
   * Moves the clock to `t` as if an item stamped `t` had been pushed, releasing what is now due, without holding
   * anything: for items the caller can apply at once. Returns false (and changes nothing) when such an item would
   * be late or a time jump; the caller must then push it.
   */
  advance(t: number, out: (item: T) => void): boolean {
    if (t < this.released || t < this.newest - this.jump) return false;
    if (t <= this.newest) return true;
    this.newest = t;
    const due = t - this.bound;
    const items = this.items;
    if (this.head < items.length && items[this.head].time <= due) {
      while (this.head < items.length && items[this.head].time <= due) this.release(out);
      this.compact();
    }
    return true;
  }

  /** Releases everything held (end of input). */
  flush(out: (item: T) => void): void {
    while (this.head < this.items.length) this.release(out);
    this.compact();
  }

  private release(out: (item: T) => void): void {
    const it = this.items[this.head];
    this.items[this.head++] = undefined as unknown as T;
    this.released = it.time;
    out(it);
  }

  private compact(): void {
    const h = this.head;
    if (h === 0) return;
    if (h === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (h >= 1024 && h * 2 >= this.items.length) {
      this.items = this.items.slice(h);
      this.head = 0;
    }
  }
}
