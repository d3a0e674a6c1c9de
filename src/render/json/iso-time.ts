/**
 * ISO-8601 UTC text (`"2024-03-08T01:24:00.123Z"`) of a BSM time, seconds plus milliseconds (bsm-format.md §3),
 * written as bytes. The milliseconds are added arithmetically, so a recorded msec ≥ 1000 carries into the seconds.
 * The "YYYY-MM-DDT" prefix is cached per day and the clock digits come from a table: one Date per distinct day
 * instead of one toISOString per record (toISOString was the second-largest cost in bench/micro/json.bench.mjs).
 */
import type { ByteOut } from './byte-out.js';

const DAY_MS = 86400000;
/** Largest millisecond time with a four-digit year (9999-12-31T23:59:59.999Z). */
const MAX_4DIGIT_MS = 253402300799999;
/** ECMAScript's time value limit (±8.64e15 ms). */
const MAX_DATE_MS = 8.64e15;
const NULL = new Uint8Array([0x6e, 0x75, 0x6c, 0x6c]);
/** Longest output of one time: the quoted expanded form `"+275760-09-13T00:00:00.000Z"`. */
export const MAX_LEN = 32;

export class IsoTimeWriter {
  private day = -1;
  private prefix = new Uint8Array(11);

  /** Writes the quoted ISO time of sec + msec, or `null` when it is outside the Date range. */
  write(o: ByteOut, sec: number, msec: number): void {
    o.room(MAX_LEN);
    o.pos = this.put(o.buf, o.pos, sec, msec);
  }

  /**
   * The same written at `p` of `o`, which has room for MAX_LEN bytes; returns the end (the byte renderer's form).
   * `sec` and `msec` may be inexact above 2^53: any such value is far outside the Date range and prints `null`.
   */
  put(o: Uint8Array, p: number, sec: number, msec: number): number {
    if (msec < 1000 && sec <= 0xffffffff) return this.put32(o, p, sec, msec);
    const ms = sec * 1000 + msec;
    if (!(ms <= MAX_4DIGIT_MS)) {
      if (ms <= MAX_DATE_MS) {
        // Years past 9999: ISO's expanded form (+YYYYYY-…), rare enough for the slow path.
        const s = new Date(ms).toISOString();
        o[p++] = 0x22;
        for (let i = 0; i < s.length; i++) o[p++] = s.charCodeAt(i);
        o[p++] = 0x22;
        return p;
      }
      o.set(NULL, p);
      return p + 4;
    }
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Uint8Array(Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 11), 'latin1'));
    }
    let r = ms - day * DAY_MS;
    const milli = r % 1000;
    r = (r - milli) / 1000;
    const s = r % 60;
    r = (r - s) / 60;
    const m = r % 60;
    const h = (r - m) / 60;
    return this.emit(o, p, h, m, s, milli);
  }

  /** put() for the common case, a 32-bit second and msec < 1000 (no carry): small-integer arithmetic only. */
  private put32(o: Uint8Array, p: number, sec: number, msec: number): number {
    const day = Math.floor(sec / 86400);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Uint8Array(Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 11), 'latin1'));
    }
    const r = sec - day * 86400;
    const h = (r / 3600) | 0;
    const rm = r - h * 3600;
    const m = (rm / 60) | 0;
    const s = rm - m * 60;
    return this.emit(o, p, h, m, s, msec);
  }

  /** `"YYYY-MM-DDThh:mm:ss.mmmZ"` from the current day's prefix and the time of day. */
  private emit(o: Uint8Array, p: number, h: number, m: number, s: number, milli: number): number {
    o[p++] = 0x22;
    const pre = this.prefix;
    for (let i = 0; i < 11; i++) o[p++] = pre[i];
    o[p++] = 48 + ((h / 10) | 0);
    o[p++] = 48 + (h % 10);
    o[p++] = 0x3a;
    o[p++] = 48 + ((m / 10) | 0);
    o[p++] = 48 + (m % 10);
    o[p++] = 0x3a;
    o[p++] = 48 + ((s / 10) | 0);
    o[p++] = 48 + (s % 10);
    o[p++] = 0x2e;
    o[p++] = 48 + ((milli / 100) | 0);
    o[p++] = 48 + (((milli / 10) | 0) % 10);
    o[p++] = 48 + (milli % 10);
    o[p++] = 0x5a;
    o[p++] = 0x22;
    return p;
  }

  /** The same for 64-bit values (header64): `null` unless both fit in a safe integer and the Date range. */
  write64(o: ByteOut, sec: bigint, msec: bigint): void {
    if (sec > 0x1fffffffffffffn || msec > 0x1fffffffffffffn) o.f(NULL);
    else this.write(o, Number(sec), Number(msec));
  }
}
