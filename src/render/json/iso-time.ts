/**
 * ISO-8601 UTC text (`2024-03-08T01:24:00.123Z`) of a BSM time: seconds plus milliseconds (bsm-format.md §3).
 * The milliseconds are added arithmetically, so a recorded msec ≥ 1000 carries into the seconds.
 * Consecutive records mostly share a second, so the "YYYY-MM-DDTHH:MM:SS." prefix of the last second is cached
 * (one Date and toISOString per distinct second instead of per record; measured in bench/micro/json.bench.mjs).
 */

/** "000".."999": the millisecond part, built once. */
const MS3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Largest millisecond time with a four-digit year (9999-12-31T23:59:59.999Z); later ones use ±YYYYYY years. */
const MAX_4DIGIT_MS = 253402300799999;
/** ECMAScript's time value limit (±8.64e15 ms). */
const MAX_DATE_MS = 8.64e15;

export class IsoTimeCache {
  private lastSec = -1;
  private lastPrefix = '';

  /** ISO text of a 32-bit (or any safe-integer) sec + msec; null when outside the Date range. */
  text(sec: number, msec: number): string | null {
    if (msec < 1000 && sec === this.lastSec) return this.lastPrefix + MS3[msec] + 'Z';
    const ms = sec * 1000 + msec;
    if (!(ms <= MAX_DATE_MS)) return null;
    const iso = new Date(ms).toISOString();
    if (msec < 1000 && ms <= MAX_4DIGIT_MS) {
      this.lastSec = sec;
      this.lastPrefix = iso.slice(0, 20);
    }
    return iso;
  }

  /** ISO text of a 64-bit sec + msec (header64); null when outside the Date range. */
  text64(sec: bigint, msec: bigint): string | null {
    if (sec > 9007199254740991n || msec > 9007199254740991n) return null;
    return this.text(Number(sec), Number(msec));
  }
}
