/**
 * One growable output buffer for the encoder (the pg-protocol `Writer` idea): every token is written into the same
 * memory, which doubles when full, and the caller copies out exactly the bytes it wants at the end. This avoids a
 * Buffer per field or per token and a final `Buffer.concat`.
 *
 * Integer writes go through Buffer's own checked writers, so an out-of-range value throws a RangeError instead of
 * being silently truncated on the wire.
 */
export class BufferWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.pos;
  }

  /** Forgets what was written; the memory is kept for the next use. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Drops everything written after the first `n` bytes (undoes a partly written record). */
  truncate(n: number): this {
    if (n < 0 || n > this.pos) throw new RangeError(`cannot truncate ${this.pos} bytes to ${n}`);
    this.pos = n;
    return this;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.pos = this.buf.writeUInt8(v, this.pos);
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64BE(v, this.pos);
    return this;
  }

  /** Raw bytes, as they are. */
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** `u16 length` then the bytes: the length is the buffer's, so a NUL is written only if `b` holds one. */
  str16(b: Uint8Array): this {
    if (b.length > 0xffff) throw new RangeError(`a str16 field holds at most 65535 bytes, got ${b.length}`);
    this.ensure(2 + b.length);
    this.pos = this.buf.writeUInt16BE(b.length, this.pos);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Overwrites a u32 already written at `at` (record sizes are known only at the end). */
  patchU32(at: number, v: number): this {
    if (at < 0 || at + 4 > this.pos) throw new RangeError(`patch at ${at} is outside the ${this.pos} bytes written`);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  /** A copy of the bytes written since the last reset (safe to keep; the writer's memory is reused). */
  toBuffer(from = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - from);
    this.buf.copy(out, 0, from, this.pos);
    return out;
  }

  /** A view of the bytes written, valid only until the next write or reset. */
  view(from = 0): Buffer {
    return this.buf.subarray(from, this.pos);
  }
}
