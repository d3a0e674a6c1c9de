/**
 * The ids of the last `size` stored records, for the DuckDB sink's duplicate check. Ids are kept as 64-bit keys in
 * typed arrays (a ring in store order plus chained hash buckets): a Set of 131072 id strings cost the sink more
 * per record than rendering the record's columns, and its garbage grew with every batch.
 *
 * A collector id is 16 hex digits, so its key is the id itself; any other id string is hashed to 64 bits.
 */
export class RecentIds {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Next slot in the same bucket (-1: end). */
  private readonly chain: Int32Array;
  private readonly heads: Int32Array;
  private readonly mask: number;
  private next = 0;
  private filled = 0;
  private readonly key = new Uint32Array(2);

  constructor(private readonly size: number) {
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.chain = new Int32Array(size).fill(-1);
    let buckets = 1;
    while (buckets < size * 2) buckets <<= 1;
    this.heads = new Int32Array(buckets).fill(-1);
    this.mask = buckets - 1;
  }

  private bucket(hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> 7) & this.mask;
  }

  hasKey(hi: number, lo: number): boolean {
    for (let s = this.heads[this.bucket(hi, lo)]!; s >= 0; s = this.chain[s]!) if (this.lo[s] === lo && this.hi[s] === hi) return true;
    return false;
  }

  /** Adds the key, evicting the oldest once `size` are held. */
  addKey(hi: number, lo: number): void {
    const slot = this.next;
    if (this.filled === this.size) this.unlink(slot);
    else this.filled++;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    const b = this.bucket(hi, lo);
    this.chain[slot] = this.heads[b]!;
    this.heads[b] = slot;
    this.next = slot + 1 === this.size ? 0 : slot + 1;
  }

  has(id: string): boolean {
    idKey(id, this.key);
    return this.hasKey(this.key[0]!, this.key[1]!);
  }

  add(id: string): void {
    idKey(id, this.key);
    this.addKey(this.key[0]!, this.key[1]!);
  }

  private unlink(slot: number): void {
    const b = this.bucket(this.hi[slot]!, this.lo[slot]!);
    let s = this.heads[b]!;
    if (s === slot) {
      this.heads[b] = this.chain[slot]!;
      return;
    }
    while (s >= 0) {
      const n = this.chain[s]!;
      if (n === slot) {
        this.chain[s] = this.chain[slot]!;
        return;
      }
      s = n;
    }
  }
}

const HEX_ID = /^[0-9a-f]{16}$/;

/** The 64-bit key of an id: its value when it is 16 hex digits (recordId's form), else a two-lane hash. */
export function idKey(id: string, out: Uint32Array): void {
  if (id.length === 16 && HEX_ID.test(id)) {
    out[0] = parseInt(id.slice(0, 8), 16);
    out[1] = parseInt(id.slice(8), 16);
    return;
  }
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  out[0] = a >>> 0;
  out[1] = b >>> 0;
}
