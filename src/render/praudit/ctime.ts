/**
 * ctime(3) text ("Thu Jun  8 13:13:15 2028") in an IANA time zone, as praudit prints times.
 *
 * Intl is slow per call, so it is asked only for the zone's UTC offset, once per hour of time; an hour that
 * contains a transition is resolved per second. UTC needs no Intl at all. The last second and the last day
 * formatted are cached: trails are mostly in time order.
 */

const WDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0',
  'GMT0', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'Etc/Greenwich', 'Greenwich']);
/** Intl formats years 1-9999 reliably; offsets outside are taken at the nearest end (documented). */
const INTL_MIN = -62135596800;
const INTL_MAX = 253402300799;
/** Beyond ±2^53 seconds the arithmetic below is not exact (and glibc's ctime fails near there anyway). */
const MAX_EXACT = 2 ** 53;

/** The zone praudit would use: the TZ variable, else the process default. */
export function defaultTimeZone(): string {
  return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Returns `sec → UTC offset in seconds` for a zone, or undefined when the zone is UTC. Throws on unknown zones. */
function offsetFinder(timeZone: string): ((sec: number) => number) | undefined {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
  });
  const resolved = fmt.resolvedOptions().timeZone;
  if (UTC_NAMES.has(timeZone) || UTC_NAMES.has(resolved)) return undefined;
  const exact = (sec: number): number => {
    const s = sec < INTL_MIN ? INTL_MIN : sec > INTL_MAX ? INTL_MAX : sec;
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, bc = false;
    for (const p of fmt.formatToParts(new Date(s * 1000))) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value); break;
        case 'minute': mi = Number(p.value); break;
        case 'second': se = Number(p.value); break;
        case 'era': bc = p.value.startsWith('B'); break;
      }
    }
    const local = daysFromCivil(bc ? 1 - y : y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return local - s;
  };
  const hours = new Map<number, number>();
  return (sec: number): number => {
    const hour = Math.floor(sec / 3600);
    let off = hours.get(hour);
    if (off === undefined) {
      const a = exact(hour * 3600);
      const b = exact(hour * 3600 + 3599);
      off = a === b ? a : NaN; // NaN: a transition inside this hour
      if (hours.size > 65536) hours.clear();
      hours.set(hour, off);
    }
    return Number.isNaN(off) ? exact(sec) : off;
  };
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** "Www Mmm dd " and " yyyy" of a day number (days since the epoch), the parts of ctime around the clock. */
function dayParts(days: number): [string, string] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const wday = ((days % 7) + 11) % 7; // 1970-01-01 was a Thursday (4)
  return [`${WDAY[wday]} ${MON[m - 1]} ${d < 10 ? ' ' : ''}${d} `, ` ${y}`];
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

export type Ctime = (sec: number) => string;

/**
 * Creates a formatter for a zone (default: the process zone). `sec` is a time_t (signed seconds). Years past
 * 9999 print in full (glibc's ctime keeps 24 characters and would drop the last digit); beyond ±2^53 seconds,
 * where ctime cannot represent the year, the seconds are printed as a number.
 */
export function createCtime(timeZone: string = defaultTimeZone()): Ctime {
  const offset = offsetFinder(timeZone);
  let lastSec = NaN;
  let lastText = '';
  let lastDay = NaN;
  let lastHead = '';
  let lastTail = '';
  return (sec: number): string => {
    if (sec === lastSec) return lastText;
    if (!(Math.abs(sec) <= MAX_EXACT)) return String(sec);
    const local = offset ? sec + offset(sec) : sec;
    const day = Math.floor(local / 86400);
    if (day !== lastDay) {
      [lastHead, lastTail] = dayParts(day);
      lastDay = day;
    }
    const t = local - day * 86400;
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    lastText = lastHead + two(h) + ':' + two(m) + ':' + two(t % 60) + lastTail;
    lastSec = sec;
    return lastText;
  };
}

const DIGITS2 = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1');

/** Writes ctime text into `out` at `pos` and returns the position after it. */
export type CtimeWriter = (out: Buffer, pos: number, sec: number) => number;

/**
 * The same text as createCtime, written as bytes (the print fast path): the day's "Www Mmm dd " and " yyyy" are
 * kept as bytes, the clock digits written directly.
 */
export function createCtimeWriter(timeZone: string = defaultTimeZone()): CtimeWriter {
  const offset = offsetFinder(timeZone);
  let lastDay = NaN;
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  // the last text written, for records of the same second
  let lastSec = NaN;
  const last = Buffer.alloc(64);
  let lastLen = 0;
  return (out: Buffer, pos: number, sec: number): number => {
    if (sec === lastSec) {
      for (let i = 0; i < lastLen; i++) out[pos + i] = last[i];
      return pos + lastLen;
    }
    const start = pos;
    pos = write(out, pos, sec);
    lastSec = sec;
    lastLen = pos - start;
    for (let i = 0; i < lastLen && i < 64; i++) last[i] = out[start + i];
    if (lastLen > 64) lastSec = NaN; // (only for times printed as huge numbers)
    return pos;
  };
  function write(out: Buffer, pos: number, sec: number): number {
    if (!(Math.abs(sec) <= MAX_EXACT)) return pos + out.write(String(sec), pos, 'latin1');
    const local = offset ? sec + offset(sec) : sec;
    const day = Math.floor(local / 86400);
    if (day !== lastDay) {
      const [h, t] = dayParts(day);
      head = Buffer.from(h, 'latin1');
      tail = Buffer.from(t, 'latin1');
      lastDay = day;
    }
    for (let i = 0; i < head.length; i++) out[pos++] = head[i];
    const t = local - day * 86400; // 0..86399: small-integer arithmetic from here
    const h = (t / 3600) | 0;
    const rest = t - h * 3600;
    const m = (rest / 60) | 0;
    const s = rest - m * 60;
    out[pos++] = DIGITS2[2 * h]; out[pos++] = DIGITS2[2 * h + 1]; out[pos++] = 58;
    out[pos++] = DIGITS2[2 * m]; out[pos++] = DIGITS2[2 * m + 1]; out[pos++] = 58;
    out[pos++] = DIGITS2[2 * s]; out[pos++] = DIGITS2[2 * s + 1];
    for (let i = 0; i < tail.length; i++) out[pos++] = tail[i];
    return pos;
  }
}
